"""Logging, configured once per process: readable text, or one JSON object a line (IMGOPT_LOG_FORMAT)."""

import logging
import re

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

LOG_FORMATS = ("text", "json")
# Libraries that narrate every start and stop.
_QUIET = ("pgserver", "alembic.runtime.plugins")
# Query parameters whose values are secrets (a key sent where it does not belong, a signed link):
# their values never reach a log line.
_SECRET_PARAMETER = re.compile(
    r"([?&](?:api[_-]?key|key|token|access[_-]?token|secret|password|signature|sig)=)[^&#]*", re.IGNORECASE
)
# uvicorn passes a coloured copy of each message; it is not context.
_NOT_CONTEXT = frozenset(RESERVED_ATTRS) | {"color_message", "taskName"}


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    """Every logger in the process, uvicorn's included (run it with `log_config=None`), writes through here."""
    handler = logging.StreamHandler()
    handler.addFilter(_redact_access_path)
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "{levelname}{name}{message}",
                style="{",
                timestamp="time",
                rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
                reserved_attrs=sorted(_NOT_CONTEXT),
            )
        )
        handler.addFilter(_access_fields)
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


class TextFormatter(logging.Formatter):
    """The usual line, then the context passed with `extra=` (request_id=…, image_id=…) before any traceback."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        context = " ".join(f"{key}={value}" for key, value in context_of(record).items())
        return f"{super().formatMessage(record)} {context}" if context else super().formatMessage(record)


def context_of(record: logging.LogRecord) -> dict[str, object]:
    return {key: value for key, value in vars(record).items() if key not in _NOT_CONTEXT}


def redact_secrets(path: str) -> str:
    """`path` with the value of each secret-looking query parameter (`api_key=`, `token=`, …) replaced."""
    return _SECRET_PARAMETER.sub(r"\1REDACTED", path)


def _redact_access_path(record: logging.LogRecord) -> bool:
    """uvicorn's access line without the secrets its query string may carry (run before `_access_fields`)."""
    if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
        client, method, path, version, status = record.args
        record.args = (client, method, redact_secrets(str(path)), version, status)
    return True


def _access_fields(record: logging.LogRecord) -> bool:
    """uvicorn's access lines, `client - "METHOD path HTTP/v" status`, also as fields to filter on."""
    if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
        record.client, record.method, record.path, _, record.status = record.args
    return True
