#!/usr/bin/env python3
"""A webhook receiver for the tests: verifies each call's signature with the
Standard Webhooks reference library and records it in a folder.

    receiver.py --port 0 --folder DIR [--secret whsec_...]... [--fail-first N] [--hold SECONDS]

Prints `listening 127.0.0.1:PORT` as its first line. Secrets may also be
added while it runs, one a line in DIR/secrets (read at each call), for a
webhook whose secret is known only once it is registered.

Every call is numbered in order of arrival (n = 1, 2, ...) and appended to
DIR/attempts.log as a JSON line {"n", "id", "path", "status"}. The first N
calls (--fail-first) are answered 503 and recorded there only; every later
call is written to DIR/<n>.json as {"n", "id", "timestamp", "path",
"user_agent", "secret", "body", "verified"} and answered 204 when a secret
verifies it ("secret" is that secret's index, in the order given then in
DIR/secrets), else 400 ("verified": false, "error": why, "raw": the body as
text). With --hold, each answer waits that many seconds after recording.
"""

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--folder", required=True)
    parser.add_argument("--secret", action="append", default=[])
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--hold", type=float, default=0.0)
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    lock = threading.Lock()
    state = {"n": 0}

    def secrets():
        found = list(args.secret)
        try:
            with open(os.path.join(args.folder, "secrets"), encoding="utf-8") as f:
                found += [line.strip() for line in f if line.strip()]
        except FileNotFoundError:
            pass
        return found

    def write_atomically(name, value):
        path = os.path.join(args.folder, name)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(value, f)
        os.replace(path + ".tmp", path)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            data = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            record = {
                "id": headers.get("webhook-id"),
                "timestamp": headers.get("webhook-timestamp"),
                "path": self.path,
                "user_agent": headers.get("user-agent"),
            }
            with lock:
                state["n"] += 1
                n = state["n"]
                record["n"] = n
                if n <= args.fail_first:
                    status = 503
                else:
                    status, verified = 400, None
                    errors = []
                    for index, secret in enumerate(secrets()):
                        try:
                            body = Webhook(secret).verify(data, headers)
                            status, verified = 204, index
                            record.update(secret=index, body=body, verified=True)
                            break
                        except Exception as e:  # noqa: BLE001 - recorded as the reason
                            errors.append(f"{type(e).__name__}: {e}")
                    if verified is None:
                        try:
                            parsed = json.loads(data)
                        except ValueError:
                            parsed = None
                        record.update(
                            secret=None,
                            body=parsed,
                            raw=data.decode("utf-8", "replace"),
                            verified=False,
                            error="; ".join(errors) or "no secret to verify with",
                        )
                    write_atomically(f"{n}.json", record)
                with open(os.path.join(args.folder, "attempts.log"), "a", encoding="utf-8") as f:
                    f.write(json.dumps({"n": n, "id": record["id"], "path": self.path, "status": status}) + "\n")
            if args.hold:
                time.sleep(args.hold)
            self.send_response(status)
            answer = b"" if status == 204 else f"status {status} from the test receiver\n".encode()
            if status != 204:
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            sys.stderr.write("receiver: " + (format % args) + "\n")

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"listening 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
