"""Real servers standing in for the outside world: an SMTP server (aiosmtpd), an HTTP server
speaking GOV.UK Notify's API (checking its JWT signatures), and a webhook receiver."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
from aiosmtpd.controller import Controller

NOTIFY_SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
NOTIFY_SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
NOTIFY_API_KEY = f"pollflow_test-{NOTIFY_SERVICE_ID}-{NOTIFY_SECRET}"
NOTIFY_EMAIL_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
NOTIFY_SMS_TEMPLATE = "e0a3b4f4-4e2e-43a2-b7d4-9b8f5cd1ef01"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """An SMTP server on localhost that keeps what it accepts. ``hold`` makes it stall before
    answering DATA (to kill a sender mid-message); ``reject`` answers 550 for an address."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list = []
        self.reject: set[str] = set()
        self.hold = threading.Event()
        self.held = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler:
            async def handle_RCPT(self, _server, _session, envelope, address, _options):  # noqa: N802
                if address in server.reject:
                    return "550 5.1.1 mailbox unavailable"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, _server, _session, envelope):  # noqa: N802
                if server.hold.is_set():
                    server.held.set()
                    while server.hold.is_set():
                        import asyncio

                        await asyncio.sleep(0.05)
                    return "451 4.3.0 try again later"
                with server._lock:
                    server.messages.append(message_from_bytes(envelope.content, policy=default_policy))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.hold.clear()
        self.controller.stop()

    def recipients(self) -> list[str]:
        return [m["To"] for m in self.messages]

    def wait_for(self, count: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)


class _HttpServer:
    def __init__(self, handler_class):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeNotify(_HttpServer):
    """The parts of GOV.UK Notify's v2 API pollflow uses, with JWT checks as Notify does them.

    Addresses starting 'permanent-failure' get 400 (as Notify does for a bad address or a trial
    service), 'temporary-failure' get 500.
    """

    def __init__(self):
        self.sent: list[dict] = []
        self.rejected_tokens = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _authorised(self) -> bool:
                header = self.headers.get("Authorization", "")
                try:
                    claims = jwt.decode(header.removeprefix("Bearer "), NOTIFY_SECRET, algorithms=["HS256"])
                    return claims["iss"] == NOTIFY_SERVICE_ID and abs(claims["iat"] - time.time()) < 30
                except (jwt.PyJWTError, KeyError):
                    fake.rejected_tokens += 1
                    return False

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: int, kind: str, message: str) -> None:
                self._reply(status, {"status_code": status, "errors": [{"error": kind, "message": message}]})

            def do_POST(self):  # noqa: N802
                if not self._authorised():
                    return self._error(403, "AuthError", "Invalid token: signature, api token not found")
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                kind = "sms" if self.path.endswith("/sms") else "email"
                to = body.get("phone_number") if kind == "sms" else body.get("email_address")
                if str(to).startswith("permanent-failure"):
                    return self._error(400, "BadRequestError", f"{to} is not a valid recipient")
                if str(to).startswith("temporary-failure"):
                    return self._error(500, "Exception", "Internal server error")
                template = NOTIFY_SMS_TEMPLATE if kind == "sms" else NOTIFY_EMAIL_TEMPLATE
                if body.get("template_id") != template:
                    return self._error(400, "BadRequestError", "Template not found")
                notification = {
                    "id": str(uuid.uuid4()),
                    "type": kind,
                    "to": to,
                    "reference": body.get("reference"),
                    "personalisation": body.get("personalisation", {}),
                    "status": "delivered",
                }
                fake.sent.append(notification)
                self._reply(
                    201,
                    {
                        "id": notification["id"],
                        "reference": notification["reference"],
                        "content": {
                            "subject": body["personalisation"].get("subject", ""),
                            "body": body["personalisation"].get("body", ""),
                        },
                        "uri": f"http://127.0.0.1:{fake.port}/v2/notifications/{notification['id']}",
                        "template": {"id": template, "version": 1, "uri": ""},
                    },
                )

            def do_GET(self):  # noqa: N802
                if not self._authorised():
                    return self._error(403, "AuthError", "Invalid token")
                query = parse_qs(urlparse(self.path).query)
                reference = query.get("reference", [None])[0]
                found = [n for n in fake.sent if reference is None or n["reference"] == reference]
                self._reply(200, {"notifications": found, "links": {}})

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class WebhookReceiver(_HttpServer):
    """A Teams/Slack incoming webhook: keeps every JSON body it is sent."""

    def __init__(self):
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                receiver.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"
