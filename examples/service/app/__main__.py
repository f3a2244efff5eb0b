"""`python -m app`: check the configuration, then serve with uvicorn.

A bad configuration (a missing secret, ...) is one JSON log line and exit status 2, never a
traceback. On SIGTERM the service reports not ready, stops accepting connections, lets the
requests in flight finish for at most SHUTDOWN_TIMEOUT seconds (10 by default), then exits.
"""

from __future__ import annotations

import logging
import logging.config
import os
import sys
from types import FrameType

import uvicorn

from app.logs import log_config
from app.settings import ConfigError, load_settings


class Server(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # readiness turns false at once; uvicorn then drains and stops
        self.config.app.state.draining = True
        logging.getLogger("app").info("signal %d: shutting down", sig)
        super().handle_exit(sig, frame)


def main() -> int:
    logging.config.dictConfig(log_config(os.environ.get("LOG_LEVEL", "INFO").upper()))
    try:
        settings = load_settings()
    except ConfigError as error:
        logging.getLogger("app").critical("configuration error: %s", error)
        return 2
    from app.main import create_app

    config = uvicorn.Config(
        create_app(settings),
        host="0.0.0.0",
        port=settings.port,
        log_config=log_config(settings.log_level),
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=int(settings.shutdown_timeout),
    )
    Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
