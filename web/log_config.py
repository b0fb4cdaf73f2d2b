"""One log stream at ``LOG_LEVEL``: the app's stdlib lines and Pipecat's loguru lines go to
standard error in one format.

Loguru's own handler prints everything from DEBUG up, which for Pipecat means hundreds of
lines a call (ICE candidates, every sentence spoken); each entry point (`web.cli`,
`web.call_server`) calls `configure_logging` once, before it starts work.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from loguru import logger

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str, *, stream: TextIO | None = None) -> logging.Handler:
    """Sends log lines at ``level`` and above, from stdlib logging and loguru alike, through
    one handler to ``stream``.

    Args:
        level: ``LOG_LEVEL``: DEBUG, INFO, WARNING or ERROR.
        stream: where lines go; standard error when None.

    Returns:
        The handler both write through.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.setLevel(level)  # also holds back lines of loggers set lower (uvicorn's)
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logger.remove()  # loguru's default handler, DEBUG and up
    # No variable values in tracebacks: they could hold a password or a transcript.
    logger.add(handler, level=level, format="{message}", backtrace=False, diagnose=False)
    return handler
