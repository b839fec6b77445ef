"""Publishing an approved document: its HTML and PDF written to the output folder, the publication
recorded against the version (completing the work that carried its deadline), and each published
version posted once to the council's webhook.

Kept apart from drawing up (``tasks.documents.produce``) because publishing is the one step with effects
outside pollflow: files that the public sees and a request to another system. Each is refused
before approval or before the day the document is dated (``store.documents.versions.check_publishable``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
from pathlib import Path
from urllib.parse import urlparse

import requests
from sqlmodel import Session

from store.db import session_scope
from store.documents.versions import (
    DocumentError,
    check_publishable,
    documents_of,
    latest_version,
    publish_work_key,
    record_publication,
    record_webhook,
    steps_of,
    versions_of,
)
from store.models import Poll
from store.models.documents import Document, DocumentVersion
from store.queries import find_poll
from tasks.documents.catalogue import CATALOGUE, spec_for
from tasks.documents.rendering import html_to_pdf
from tasks.documents.sources import load_sources
from timetables import settings
from timetables.clock import local


def output_dir() -> Path:
    """POLLFLOW_DOCUMENTS_DIR, or 'published' under POLLFLOW_HOME."""
    return settings.load().published_dir


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", text).strip("-")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def write_files(poll: Poll, doc: Document, version: DocumentVersion) -> list[dict]:
    """The version's HTML and PDF in the output folder: ``<poll>/<scope>/<key>-v<n>.pdf`` (kept) and
    ``<key>.pdf`` (the current one, overwritten by a corrected version)."""
    folder = output_dir() / _slug(poll.key) / _slug(doc.scope)
    files = []
    for ext, data in (("html", version.html.encode()), ("pdf", html_to_pdf(version.html))):
        archived = folder / f"{doc.key}-v{version.number}.{ext}"
        _write(archived, data)
        _write(folder / f"{doc.key}.{ext}", data)
        files.append(
            {
                "name": archived.name,
                "path": str(archived),
                "media_type": "text/html" if ext == "html" else "application/pdf",
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
            }
        )
    return files


def publish_one(
    session: Session,
    poll: Poll,
    doc: Document,
    as_of: dt.datetime,
    actor: str,
    flow_run_id: str | None = None,
) -> DocumentVersion | None:
    """Publish the approved latest version now (None if it already is); refused before approval or
    before the day it is dated."""
    spec = spec_for(doc.key)
    src = load_sources(session, poll, as_of)
    version = check_publishable(session, doc, spec.publish_from(src, doc.scope), as_of)
    if version is None:
        return None
    files = write_files(poll, doc, version)
    record_publication(
        session,
        poll,
        doc,
        version,
        actor,
        files,
        as_of,
        flow_run_id,
        publish_work=publish_work_key(session, poll, doc, spec.catalogue_task),
    )
    return version


def publish_due(
    session: Session, poll: Poll, as_of: dt.datetime, actor: str, flow_run_id: str | None = None
) -> tuple[list[str], list[str]]:
    """Publish every approved, unpublished latest version whose day has come; (published, waiting)."""
    published, waiting = [], []
    for doc in documents_of(session, poll):
        latest = latest_version(session, doc)
        if latest is None or latest.status != "approved" or doc.key not in CATALOGUE:
            continue
        try:
            version = publish_one(session, poll, doc, as_of, actor, flow_run_id)
        except DocumentError as exc:
            waiting.append(f"{doc.key}:{doc.scope}: {exc}")
            continue
        if version is not None:
            published.append(f"{doc.key}:{doc.scope} v{version.number}")
    return published, waiting


def webhook_url() -> str | None:
    return settings.env("POLLFLOW_DOCUMENTS_WEBHOOK_URL")


def webhook_payload(poll: Poll, doc: Document, version: DocumentVersion, files: list[dict]) -> dict:
    return {
        "event": "pollflow.document.published",
        "poll": poll.key,
        "election_id": doc.scope,
        "document": doc.key,
        "title": doc.title,
        "version": version.number,
        "content_hash": version.content_hash,
        "deadline": local(doc.due_at).isoformat() if doc.due_at else None,
        "files": files,
    }


def send_webhooks(session: Session, poll: Poll, timeout: float = 20) -> tuple[list[str], list[str]]:
    """Post each published version not yet sent to POLLFLOW_DOCUMENTS_WEBHOOK_URL: JSON with the
    files (base64), signed with POLLFLOW_DOCUMENTS_WEBHOOK_SECRET (HMAC-SHA256) where set. A
    failure is tried again on the next run; (sent, failed)."""
    url = webhook_url()
    if not url:
        return [], []
    secret = settings.env("POLLFLOW_DOCUMENTS_WEBHOOK_SECRET")
    sent, failed = [], []
    for doc in documents_of(session, poll):
        for version in versions_of(session, doc):
            steps = steps_of(session, version)
            if "publication" not in steps or "webhook" in steps:
                continue
            files = []
            for f in steps["publication"].details.get("files", []):
                path = Path(f["path"])
                if not path.exists():
                    continue
                files.append(
                    {
                        **{k: f[k] for k in ("name", "media_type", "sha256")},
                        "content_base64": base64.b64encode(path.read_bytes()).decode(),
                    }
                )
            body = json.dumps(webhook_payload(poll, doc, version, files)).encode()
            headers = {
                "Content-Type": "application/json",
                "X-Pollflow-Delivery": f"{poll.key}:{doc.key}:{doc.scope}:v{version.number}",
            }
            if secret:
                headers["X-Pollflow-Signature"] = (
                    "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                )
            label = f"{doc.key}:{doc.scope} v{version.number}"
            try:
                response = requests.post(url, data=body, headers=headers, timeout=timeout)
            except requests.RequestException as exc:
                failed.append(f"{label}: {exc.__class__.__name__}")
                continue
            if response.status_code >= 300:
                failed.append(f"{label}: HTTP {response.status_code}")
                continue
            record_webhook(session, poll, doc, version, urlparse(url).netloc)
            sent.append(label)
    return sent, failed


def publish_approved(
    poll_key: str, as_of: dt.datetime, actor: str, flow_run_id: str | None
) -> tuple[list[str], list[str]]:
    """``publish_due`` for a poll, in a transaction of its own (the flow's step)."""
    with session_scope() as session:
        return publish_due(session, find_poll(session, poll_key), as_of, actor, flow_run_id)


def announce(poll_key: str) -> tuple[list[str], list[str]]:
    """``send_webhooks`` for a poll, in a transaction of its own (the flow's step)."""
    with session_scope() as session:
        return send_webhooks(session, find_poll(session, poll_key))
