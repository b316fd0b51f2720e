"""The plugin's log: hclog JSON lines on the process's standard error.

go-plugin's host reads a plugin's stderr line by line; a JSON line with
"@level" and "@message" is re-emitted in the host's log at that level, under
the plugin's name, as the Go SDK's Logger does (other lines arrive at DEBUG).
"""

from __future__ import annotations

import datetime
import json
import logging
import sys
from typing import TextIO

# hclog's level names, as go-plugin parses them.
_LEVELS = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warn",
    logging.ERROR: "error",
    logging.CRITICAL: "error",
}


class HclogHandler(logging.Handler):
    """Writes records as hclog JSON lines: @level, @message, @module,
    @timestamp, and "error" with the formatted exception, if any.
    Extra key/value pairs go in a record's ``fields`` dict
    (``log.info("opened", extra={"fields": {"samples": 10}})``)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(logging.DEBUG)
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = _LEVELS.get(record.levelno)
            if level is None:
                level = "trace" if record.levelno < logging.DEBUG else "error"
            stamp = datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
            entry: dict[str, object] = {
                "@level": level,
                "@message": record.getMessage(),
                "@module": record.name,
                "@timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            }
            fields = getattr(record, "fields", None)
            if isinstance(fields, dict):
                for k, v in fields.items():
                    entry.setdefault(str(k), v if isinstance(v, (str, int, float, bool)) or v is None else str(v))
            if record.exc_info:
                entry["error"] = _formatter.formatException(record.exc_info)
            self.stream.write(json.dumps(entry) + "\n")
            self.stream.flush()
        except Exception:  # a log line must never break the plugin
            self.handleError(record)


_formatter = logging.Formatter()

# The stream as it was at import: serve() points sys.stdout at stderr after
# the handshake, and logging must keep writing to the real stderr.
_stderr = sys.stderr


def get_logger(name: str) -> logging.Logger:
    """Returns the logger a plugin should use: its lines reach the int8cal
    host's log with their level, named after the plugin. Never print to
    stdout before serve() has run: stdout carries go-plugin's handshake."""
    log = logging.getLogger(name)
    if not any(isinstance(h, HclogHandler) for h in log.handlers):
        log.addHandler(HclogHandler(_stderr))
        log.setLevel(logging.DEBUG)
        log.propagate = False
    return log


def install_root() -> None:
    """Sends the records of other libraries (grpc's among them) to the host
    log too, from WARNING up."""
    root = logging.getLogger()
    if not any(isinstance(h, HclogHandler) for h in root.handlers):
        root.addHandler(HclogHandler(_stderr))
        root.setLevel(logging.WARNING)
