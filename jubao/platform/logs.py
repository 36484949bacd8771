"""Structured logs: one JSON object per line, each carrying the request ID."""

from __future__ import annotations

import json
import logging
import os
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": request_id_var.get(),
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # aiosqlite's debug records carry every statement's parameters: people's data, which the
    # log must not hold at any level (the engines hide parameters for the same reason)
    logging.getLogger("aiosqlite").setLevel(logging.INFO)


def log_to_file(path: str) -> str:
    """Send the command line's log records to ``path`` (JSON lines, appended), where a failure's
    detail goes instead of the terminal; returns the path as shown to the user."""
    root = logging.getLogger()
    wanted = os.path.abspath(path)
    for handler in [h for h in root.handlers if isinstance(h, logging.FileHandler)]:
        if handler.baseFilename == wanted:
            return path
        root.removeHandler(handler)
        handler.close()
    handler = logging.FileHandler(wanted, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, logging.INFO))
    return path
