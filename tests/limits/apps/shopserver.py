"""A small real HTTP service for `measure`: memory grows with what it caches, CPU with work.

    python shopserver.py PORT PIDFILE

GET /health answers at once; GET /item/K builds item K (2 MiB, kept in a cache) and hashes
it, so memory grows with distinct items and CPU with requests. At start it spawns a helper
process holding 32 MiB that leaves the process group (its own session), as a careless
worker would; all pids go to PIDFILE so a test can check that none is left behind.
"""

import hashlib
import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CACHE: dict[str, bytes] = {}

HELPER = "import time\nblock = bytearray(32 << 20)\nfor i in range(0, len(block), 4096):\n    block[i] = 1\nprint('ready', flush=True)\ntime.sleep(3600)\n"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/health":
            body = b"ok"
        elif self.path.startswith("/item/"):
            key = self.path.removeprefix("/item/")
            if key not in CACHE:
                CACHE[key] = os.urandom(2 << 20)
            digest = CACHE[key]
            for _ in range(20):
                digest = hashlib.sha256(digest + CACHE[key][:65536]).digest()
            body = digest.hex().encode()
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    port, pidfile = int(sys.argv[1]), sys.argv[2]
    helper = subprocess.Popen(
        [sys.executable, "-c", HELPER], start_new_session=True, stdout=subprocess.PIPE
    )
    assert helper.stdout is not None and helper.stdout.readline() == b"ready\n"
    with open(pidfile, "w") as out:
        out.write(f"{os.getpid()}\n{helper.pid}\n")
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
