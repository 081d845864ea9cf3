"""IMGOPT_OPTIMIZER picks the optimizer adapter, IMGOPT_AUTO_QUALITY_TARGET reaches it; bad values stop the start."""

import pytest

from imgopt.adapters.imaging.pillow import PillowOptimizer
from imgopt.adapters.imaging.vips import VipsOptimizer
from imgopt.bootstrap.containers import create_container
from imgopt.bootstrap.settings import Settings, SettingsError


@pytest.mark.parametrize(("name", "adapter"), [("pillow", PillowOptimizer), ("vips", VipsOptimizer)])
def test_the_optimizer_setting_binds_that_adapter_with_the_auto_quality_target(name, adapter):
    settings = Settings.from_env({"IMGOPT_OPTIMIZER": name, "IMGOPT_AUTO_QUALITY_TARGET": "82.5"}, database_url="x")

    imaging = create_container(settings).imaging

    assert type(imaging.chosen()) is adapter
    # The libvips adapter leaves auto quality, among the rest, to the Pillow one it is given.
    assert imaging.pillow().quality_search.target == 82.5


def test_libvips_is_the_default_optimizer():
    assert Settings().optimizer == "vips"
    assert Settings().auto_quality_target == 70


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("IMGOPT_OPTIMIZER", "imagemagick", "IMGOPT_OPTIMIZER must be one of pillow, vips"),
        ("IMGOPT_AUTO_QUALITY_TARGET", "100", "IMGOPT_AUTO_QUALITY_TARGET must be a SSIMULACRA2 score"),
        ("IMGOPT_AUTO_QUALITY_TARGET", "high", "IMGOPT_AUTO_QUALITY_TARGET='high' is not valid"),
    ],
)
def test_a_bad_imaging_setting_stops_the_start_with_its_name(variable, value, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({variable: value})
