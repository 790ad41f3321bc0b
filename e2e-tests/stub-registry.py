#!/usr/bin/env python3
"""Registries that misbehave, on 127.0.0.1, for the real-registry suite.

    stub-registry.py ratelimit PORT   answers every request 429 TOOMANYREQUESTS, as Docker Hub does
    stub-registry.py hang PORT        accepts connections and never answers (a hung mirror)

It runs until killed, or for at most an hour.
"""
import json
import socket
import sys
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LIFETIME = 3600


class RateLimited(BaseHTTPRequestHandler):
    def answer(self):
        body = json.dumps({"errors": [{"code": "TOOMANYREQUESTS", "message": "You have reached your pull rate limit."}]})
        self.send_response(429)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Retry-After", "3600")
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_HEAD = answer

    def log_message(self, *args):
        pass


def hang(port):
    """Accepts every connection and keeps it open without a byte of answer."""
    server = socket.create_server(("127.0.0.1", port))
    held = []
    while True:
        connection, _ = server.accept()
        held.append(connection)


def main(mode, port):
    threading.Timer(LIFETIME, lambda: os._exit(0)).start()
    if mode == "ratelimit":
        ThreadingHTTPServer(("127.0.0.1", port), RateLimited).serve_forever()
    elif mode == "hang":
        hang(port)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]))
