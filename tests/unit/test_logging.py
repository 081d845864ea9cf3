import logging

import pytest

from imgopt.bootstrap.logging import TextFormatter, _redact_access_path, redact_secrets
from imgopt.bootstrap.settings import Settings, SettingsError


def record_with(**context: object) -> logging.LogRecord:
    return logging.getLogger("imgopt.test").makeRecord(
        "imgopt.test", logging.INFO, __file__, 1, "image %s optimized", ("a.jpg",), None, extra=context
    )


def test_text_lines_end_with_the_context_passed_as_extra():
    formatter = TextFormatter("%(levelname)s %(name)s: %(message)s")

    line = formatter.format(record_with(request_id="r-1", image_id="i-2"))

    assert line == "INFO imgopt.test: image a.jpg optimized request_id=r-1 image_id=i-2"


def test_text_lines_without_context_are_the_usual_line():
    formatter = TextFormatter("%(levelname)s %(name)s: %(message)s")

    assert formatter.format(record_with()) == "INFO imgopt.test: image a.jpg optimized"


def test_the_log_format_is_text_or_json_and_nothing_else():
    assert Settings.from_env({}).log_format == "text"
    assert Settings.from_env({"IMGOPT_LOG_FORMAT": "json"}).log_format == "json"

    with pytest.raises(SettingsError, match="IMGOPT_LOG_FORMAT must be text or json, got 'yaml'"):
        Settings.from_env({"IMGOPT_LOG_FORMAT": "yaml"})


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/status/1?api_key=imgopt_s3cret", "/status/1?api_key=REDACTED"),
        ("/files/a/b.jpg?expires=9&signature=abc&x=1", "/files/a/b.jpg?expires=9&signature=REDACTED&x=1"),
        ("/requests?limit=5&TOKEN=t#frag", "/requests?limit=5&TOKEN=REDACTED#frag"),
        ("/requests?limit=5&monkey=1", "/requests?limit=5&monkey=1"),
        ("/status/1", "/status/1"),
    ],
)
def test_secret_looking_query_values_never_reach_the_access_log(path, logged):
    access_line = ("1.2.3.4:5", "GET", path, "1.1", 401)
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', access_line, None
    )

    assert redact_secrets(path) == logged
    assert _redact_access_path(record) and record.getMessage() == f'1.2.3.4:5 - "GET {logged} HTTP/1.1" 401'
