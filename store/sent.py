"""Recording a message sent, delivery's one write a message, in as few steps as it can take.

It is ``outbox.mark_sent`` (the same one statement, changing the message only while it is still
'sending' on the attempt this sender claimed), with its text made once and run on the database
driver's own connection, without the ORM or SQLAlchemy's execution around it: a third of a
millisecond less a message, and that third of a millisecond was part of the time in which a
sender killed after the SMTP server took a message leaves it to be sent again.

On PostgreSQL the statement goes to the server the moment the send is known, and its answer (the
commit, which waits for the write-ahead log to reach the disk) is read when the connection is
next needed: before the next message is recorded, before anything else is read or written, and
at the end of the run. So the database makes one message's record durable while the next message
is sent, and at most one record is ever in flight. A sender killed in the meantime loses nothing:
the server runs a statement it has been sent to the end, commit and all. On SQLite (in the
process, with no round trip to save) the statement runs at once.

The connection must be in autocommit, so that the statement is its own transaction.
"""

from __future__ import annotations

import datetime as dt
import select

import psycopg
from psycopg import pq
from sqlalchemy import Connection
from sqlalchemy.orm.attributes import set_committed_value

from store.models import Notification, NotificationStatus, utcnow

# outbox._RECORD with mark_sent's values. Its parameters: status, sent_at, provider_id (SET), then
# id, status, attempts (WHERE: the message, still 'sending' on the attempt this sender claimed).
_SQL = (
    "UPDATE notification SET status = {}, sent_at = {}, claimed_until = NULL, provider_id = {}, "
    "last_error = NULL WHERE id = {} AND status = {} AND attempts = {}"
)


class RecordFailed(Exception):
    """The database did not record a message sent (the message stays 'sending', to be sent again
    once its lease runs out): the run stops, as on any other failure of the store."""


def _text(value) -> bytes | None:
    """A parameter as text, its type the column's to the server (the time aware, in UTC)."""
    if value is None:
        return None
    return (value.isoformat() if isinstance(value, dt.datetime) else str(value)).encode()


class SentRecorder:
    """Records messages as sent on one connection (in autocommit); ``settle`` says how it went."""

    def __init__(self, connection: Connection):
        self.driver = connection.connection.driver_connection
        self.postgresql = connection.dialect.name == "postgresql"
        sent_at = Notification.__table__.c.sent_at.type.dialect_impl(connection.dialect)
        self._sent_at = sent_at.bind_processor(connection.dialect) or (lambda value: value)
        if self.postgresql:
            self.pgconn = self.driver.pgconn
            self.sql = _SQL.format(*(f"${i}" for i in range(1, 7))).encode()
        else:
            self.sql = _SQL.format(*["?"] * 6)
        self._in_flight: Notification | None = None
        self._settled: tuple[Notification, bool, dict] | None = None

    def record(self, message: Notification, provider_id: str | None = None) -> None:
        """Record ``message`` as sent; ``settle`` says whether it was. The last record must have
        been settled: one at a time."""
        if self._in_flight is not None or self._settled is not None:
            raise RuntimeError(f"message {message.id} recorded before the last record was settled")
        now = utcnow()
        values = {
            "status": NotificationStatus.SENT,
            "sent_at": now,
            "claimed_until": None,
            "provider_id": provider_id,
            "last_error": None,
        }
        params = [
            NotificationStatus.SENT.value,
            self._sent_at(now),
            provider_id,
            message.id,
            NotificationStatus.SENDING.value,
            message.attempts,
        ]
        if not self.postgresql:
            recorded = self.driver.execute(self.sql, params).rowcount == 1
            self._settled = (message, recorded, values)
            return
        pgconn = self.pgconn
        pgconn.send_query_params(self.sql, [_text(p) for p in params])
        while pgconn.flush():  # what the socket would not take at once
            select.select([], [pgconn.socket], [])
        self._in_flight = message
        self._values = values

    def settle(self) -> tuple[Notification, bool] | None:
        """Wait for the last record, if one is still to be settled: (its message, whether it was
        recorded; False if another sender had taken the message over), or None."""
        if self._in_flight is not None:
            message, self._in_flight = self._in_flight, None
            self._settled = (message, self._answer(message), self._values)
        if self._settled is None:
            return None
        message, recorded, values = self._settled
        self._settled = None
        if recorded:
            for key, value in values.items():
                set_committed_value(message, key, value)
        return message, recorded

    def _answer(self, message: Notification) -> bool:
        """The server's answer to the statement in flight: whether it changed the message."""
        pgconn = self.pgconn
        try:
            pgconn.consume_input()
            while pgconn.is_busy():
                select.select([pgconn.socket], [], [])
                pgconn.consume_input()
            results = []
            while (result := pgconn.get_result()) is not None:
                results.append(result)
        except psycopg.Error as exc:
            raise RecordFailed(f"recording message {message.id} as sent failed: {exc}") from exc
        failed = [r for r in results if r.status != pq.ExecStatus.COMMAND_OK]
        if failed or not results:
            error = failed[0].error_message.decode(errors="replace") if failed else "no answer"
            raise RecordFailed(f"recording message {message.id} as sent failed: {error}")
        return results[0].command_tuples == 1

    def abandon(self) -> None:
        """On the way out after an error: read any answer still due, so that the connection is
        clean to close, whatever it says (the message stays 'sending' if it was not recorded, and
        is sent again when its lease runs out)."""
        if self._in_flight is not None:
            try:
                self.settle()
            except Exception:  # the run is already failing with its own error
                self._in_flight = None
