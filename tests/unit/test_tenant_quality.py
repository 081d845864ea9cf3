"""A tenant's default quality, on the fakes: IMGOPT_NEW_TENANT_QUALITY, what new tenants get, and what an upload
that names no quality is encoded at."""

import pytest

from imgopt.bootstrap.settings import Settings, SettingsError
from imgopt.domain.errors import InvalidOptions
from imgopt.domain.options import ORIGINAL_QUALITY, Quality
from imgopt.domain.tenancy import TenantNotFound
from tests.unit.world import TENANT_A, World


def test_new_tenants_get_the_originals_q50_unless_told():
    assert Settings().new_tenant_default_quality == ORIGINAL_QUALITY
    assert Settings.from_env({"IMGOPT_NEW_TENANT_QUALITY": ""}).new_tenant_default_quality == ORIGINAL_QUALITY


@pytest.mark.parametrize(
    ("raw", "quality"),
    [("auto", Quality(auto=True)), (" AUTO ", Quality(auto=True)), ("80", Quality(80)), ("100", Quality(100)),
     ("1", Quality(1))],
)  # fmt: skip
def test_the_setting_takes_a_level_or_auto(raw, quality):
    assert Settings.from_env({"IMGOPT_NEW_TENANT_QUALITY": raw}).new_tenant_default_quality == quality


@pytest.mark.parametrize("raw", ["0", "101", "best", "7.5", "-3", "q80"])
def test_a_setting_that_is_not_a_quality_stops_start_up_naming_the_variable(raw):
    with pytest.raises(SettingsError, match=rf"^IMGOPT_NEW_TENANT_QUALITY must be 1 to 100 or auto, got '{raw}'$"):
        Settings.from_env({"IMGOPT_NEW_TENANT_QUALITY": raw})


def test_a_new_tenant_gets_the_settings_quality_and_a_tenant_there_is_keeps_its_own():
    w = World(new_tenant_quality="auto")

    first = w.create_key("team-a", "one")
    w.set_default_quality("team-a", Quality(65))
    w.create_key("team-a", "two")  # the tenant is there: its default is left alone
    w.create_key("team-b", "one")

    assert w.db.state.tenants[first.key.tenant_id].default_quality == Quality(65)
    assert w.tenant_named("team-b").default_quality == Quality(auto=True)


def test_by_default_a_new_tenant_gets_q50():
    w = World()

    assert w.tenant_named(w.create_key("team-a", "one").tenant).default_quality == ORIGINAL_QUALITY


@pytest.mark.parametrize("left_out", [None, "", " "])
def test_an_upload_that_names_no_quality_gets_its_tenants_default(left_out):
    w = World(new_tenant_quality="auto")
    tenant = w.create_key("team-a", "one").key.tenant_id

    options = w.upload_options(tenant, left_out, "800")

    assert (options.auto_quality, options.max_width) == (True, 800)
    w.set_default_quality("team-a", Quality(35))
    assert (w.upload_options(tenant).quality, w.upload_options(tenant).auto_quality) == (35, False)


@pytest.mark.parametrize(("quality", "expected"), [("70", (70, False)), (70, (70, False)), ("auto", (50, True))])
def test_a_quality_the_upload_names_wins_over_the_tenants_default(quality, expected):
    w = World(new_tenant_quality="auto")
    tenant = w.create_key("team-a", "one").key.tenant_id
    w.set_default_quality("team-a", Quality(20))

    options = w.upload_options(tenant, quality)

    assert (options.quality, options.auto_quality) == expected


def test_a_tenant_the_store_does_not_know_gets_the_originals_q50():
    assert World(new_tenant_quality="auto").upload_options(TENANT_A).quality == 50


def test_the_default_of_a_tenant_that_does_not_exist_cannot_be_read_or_set():
    w = World()

    with pytest.raises(TenantNotFound, match="no tenant named 'nobody'"):
        w.set_default_quality("nobody", Quality(auto=True))
    with pytest.raises(TenantNotFound):
        w.tenant_named("nobody")


def test_a_bad_quality_is_refused_whatever_the_tenants_default():
    w = World(new_tenant_quality="auto")
    tenant = w.create_key("team-a", "one").key.tenant_id

    with pytest.raises(InvalidOptions, match="quality must be between 1 and 100"):
        w.upload_options(tenant, "0")
