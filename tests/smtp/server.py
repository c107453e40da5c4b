#!/usr/bin/env python3
"""A real SMTP server for the integration tests (aiosmtpd).

    python3 tests/smtp/server.py PORT FOLDER

Listens on 127.0.0.1:PORT (0: a free port, chosen by the system) and prints
`listening 127.0.0.1:PORT` as its first line on stdout once it takes mail.
Each message it receives becomes `<n>.json` (the envelope: sender and
recipients) and `<n>.eml` (the raw bytes) in FOLDER, numbered from 1 on and
going on from the files already there, so a server restarted on the same
folder adds to them. The `.eml` is written last, and renamed into place, so
a reader that sees it can read both. It runs until killed (SIGTERM or
SIGINT stop it cleanly).

Some recipients are answered as a real server would refuse them, so tests
can see both kinds of failure:
  - a recipient whose address starts with `rejected` gets 550 (permanent);
  - one whose address starts with `busy` gets 451 (try again later);
  - a sender whose address starts with `unauthorised` gets 530, as from a
    server that wants a sign-in first.
"""

import json
import os
import signal
import socket
import sys
import threading

from aiosmtpd.controller import Controller


class Folder:
    """Writes each message into the folder."""

    def __init__(self, folder):
        self.folder = folder
        self.lock = threading.Lock()
        self.count = sum(1 for name in os.listdir(folder) if name.endswith(".eml"))

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if address.startswith("unauthorised"):
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("rejected"):
            return "550 5.1.1 No such mailbox here"
        if address.startswith("busy"):
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        sidecar = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)}
        self._write(f"{n}.json", json.dumps(sidecar).encode("utf-8"))
        self._write(f"{n}.eml", envelope.original_content)
        return "250 Message accepted for delivery"

    def _write(self, name, data):
        path = os.path.join(self.folder, name)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)


class BoundController(Controller):
    """A controller on a socket already bound, so port 0 works: the port
    is known before the server starts and can be printed."""

    def __init__(self, handler, sock, **kwargs):
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)
        self.sock = sock

    def _create_server(self):
        return self.loop.create_server(
            self._factory_invoker, sock=self.sock, ssl=self.ssl_context
        )


def main():
    if len(sys.argv) != 3:
        print("usage: server.py PORT FOLDER", file=sys.stderr)
        sys.exit(2)
    port = int(sys.argv[1])
    folder = sys.argv[2]
    os.makedirs(folder, exist_ok=True)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(16)
    sock.setblocking(False)

    controller = BoundController(Folder(folder), sock, server_hostname="localhost")
    controller.start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"listening 127.0.0.1:{controller.port}", flush=True)
    while not stop.wait(3600):
        pass
    controller.stop()


if __name__ == "__main__":
    main()
