"""IMGOPT_PLAIN_COPY, a diagnostic switch: `python` makes the repository read plain rows in Python only."""

import pytest

from imgopt.bootstrap.containers import create_container
from imgopt.bootstrap.settings import Settings, SettingsError


@pytest.mark.parametrize(("value", "compiled"), [("compiled", True), ("python", False)])
def test_the_setting_reaches_the_unit_of_work(value, compiled):
    settings = Settings.from_env({"IMGOPT_PLAIN_COPY": value}, database_url="postgresql://nowhere/x")

    uow = create_container(settings).persistence.uow

    assert uow.kwargs["compiled_plain_copy"]() is compiled


def test_the_compiled_scanner_is_the_default_and_a_bad_value_stops_the_start():
    assert Settings().plain_copy == "compiled"
    with pytest.raises(SettingsError, match="IMGOPT_PLAIN_COPY must be one of compiled, python, got 'c'"):
        Settings.from_env({"IMGOPT_PLAIN_COPY": "c"})
