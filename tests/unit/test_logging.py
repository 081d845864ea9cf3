import logging

import pytest

from imgopt.bootstrap.logging import TextFormatter
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
