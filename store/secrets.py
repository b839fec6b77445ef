"""pollflow's one secret: it signs links in messages and derives the key for staff details.

It lives in the store, the lowest layer that needs it, so that the store imports nothing above it.
"""

from __future__ import annotations

import os
import secrets

from timetables import settings
from timetables.paths import pollflow_home


def secret_key() -> bytes:
    """POLLFLOW_SECRET_KEY, or a key generated once and kept (mode 600) in POLLFLOW_HOME."""
    configured = settings.env("POLLFLOW_SECRET_KEY")
    if configured:
        return configured.encode()
    path = pollflow_home() / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()
