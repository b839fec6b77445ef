"""Jinja2 templates: ``documents/`` (notices, letters), ``messages/`` (email and text messages) and
``web/`` (the pages ``pollflow web`` serves).

Every template renders strictly: a value it names but is not given is an error naming the value,
never a blank or "None" in a message or on a published notice.
"""

from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parent
MESSAGES_DIR = TEMPLATES_DIR / "messages"
DOCUMENTS_DIR = TEMPLATES_DIR / "documents"
WEB_DIR = TEMPLATES_DIR / "web"
