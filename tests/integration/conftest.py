"""Both optimizer adapters, for the tests that hold each of them to one contract."""

import pytest

from imgopt.adapters.imaging.pillow import PillowOptimizer
from imgopt.adapters.imaging.vips import VipsOptimizer

ADAPTERS = {"pillow": PillowOptimizer, "vips": lambda **settings: VipsOptimizer(PillowOptimizer(**settings))}


@pytest.fixture(scope="module", params=sorted(ADAPTERS))
def adapter(request):
    return ADAPTERS[request.param]


@pytest.fixture(scope="module")
def optimizer(adapter):
    return adapter()
