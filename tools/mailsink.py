"""A local SMTP sink: accepts every message and keeps it, sends nothing on.

    python -m tools.mailsink --port 2525 --dir /tmp/loket-mail

writes each message as DIR/<n>.eml and prints "mail to <recipient>: <subject>".
Services send to 127.0.0.1:2525 by default (SMTP_HOST / SMTP_PORT). Tests use
`MailSink` (it runs in a thread): `start(port, dir)`, `messages()`, `stop()`.
For local runs and tests only: it prints recipients, which are personal data.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import threading
import time
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

DEFAULT_PORT = 2525


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode()
        self._sink.keep(data, list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class MailSink:
    """An SMTP server in a thread that keeps what it gets (in memory, and in `dir`)."""

    def __init__(self, echo: bool = False) -> None:
        self._lock = threading.Lock()
        self._messages: list[EmailMessage] = []
        self._controller: Controller | None = None
        self._dir: Path | None = None
        self.echo = echo  # print each message's addressee and subject as it arrives
        self._next_number = 1
        self.port = 0

    def start(self, port: int = DEFAULT_PORT, dir: Path | str | None = None) -> MailSink:
        self._dir = Path(dir) if dir is not None else None
        if self._dir is not None:
            self._dir.mkdir(parents=True, exist_ok=True)
            self._next_number = len(list(self._dir.glob("*.eml"))) + 1  # never overwrite
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=port)
        self._controller.start()
        self.port = port
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def keep(self, data: bytes, recipients: Sequence[str]) -> None:
        message = email.message_from_bytes(data, policy=email.policy.default)
        with self._lock:
            self._messages.append(message)
            number = self._next_number
            self._next_number += 1
        if self._dir is not None:
            (self._dir / f"{number}.eml").write_bytes(data)
        if self.echo:
            subject = str(message["Subject"]).strip()  # a folded header keeps its fold
            print(f"mail to {', '.join(recipients)}: {subject}", flush=True)

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages once there are at least `count` (or what came before the timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages()) < count:
            time.sleep(0.05)
        return self.messages()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.mailsink", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--dir", type=Path, default=Path("mail"))
    args = parser.parse_args(argv)
    sink = MailSink(echo=True).start(args.port, args.dir)
    print(f"mail sink on 127.0.0.1:{args.port}, writing to {args.dir}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
