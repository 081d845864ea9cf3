"""The web console in a real browser: Debian's Chromium, driven by Playwright, against `imgopt serve`."""

import os
import re
import shutil
from pathlib import Path

import httpx
import pytest

CHROMIUM = next(
    (
        path
        for path in (os.environ.get("IMGOPT_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium")
        if path and Path(path).is_file()
    ),
    None,
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium on this machine: `apt-get install chromium` (.ci/run installs it)"
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
DOCS = Path(__file__).resolve().parents[3] / "docs"
LOADED = "img => img.complete && img.naturalWidth > 0"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    context.set_default_timeout(60_000)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str, tmp_path: Path, full_page: bool = False) -> Path:
    """Into the test's folder; into docs/ as well when IMGOPT_UPDATE_SCREENSHOTS=1 (so runs keep the tree clean)."""
    path = tmp_path / f"console-{name}.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=path, full_page=full_page)
    if os.environ.get("IMGOPT_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(path, DOCS / path.name)
    return path


def assert_accessible(page) -> None:
    """axe-core (bundled in axe-playwright-python) finds nothing wrong: labels, contrast, roles, names."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    found = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    assert not found, found


def drop_file(page, target: str, name: str, text: str) -> None:
    """What a drag from the desktop delivers: a drop event whose DataTransfer holds the file."""
    page.locator(target).evaluate(
        """(zone, [name, text]) => {
            const data = new DataTransfer();
            data.items.add(new File([text], name, { type: "text/csv" }));
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
        }""",
        [name, text],
    )


def upload_through_the_page(page, live, csv_path: Path, **options: str) -> str:
    page.goto(f"{live.url}/")
    page.set_input_files("#csv-file", csv_path)
    for field, value in options.items():
        page.locator(f"#{field}").select_option(value) if field == "format" else page.fill(f"#{field}", value)
    page.click("#upload-button")
    page.wait_for_url(re.compile(r"#/requests/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[1]


def test_an_upload_through_the_page_shows_before_and_after_pictures_failures_savings_and_the_output_csv(
    page, live, tmp_path
):
    csv_path = tmp_path / "products.csv"
    csv_path.write_bytes(
        live.csv(
            f"1,Circular saw,{live.photo('photo-2725x2225.jpg')}",
            f'2,Cherry tree poster,"{live.photo("photo.webp")},{live.photo("small-320x240.jpg")}"',
            f"3,Park bench,{live.photo('cmyk.jpg')}",
            f"4,Discontinued,{live.missing()}",
        )
    )

    request_id = upload_through_the_page(page, live, csv_path, format="webp", **{"max-width": "600"})
    page.wait_for_selector('#request-status[data-status="completed_with_errors"]')
    page.wait_for_selector("#download:visible")

    status = live.api(f"/status/{request_id}", details="true").json()
    images = {(p["line"], i["position"]): i for p in status["details"]["products"] for i in p["images"]}
    summary = page.locator("#bytes")
    assert (summary.get_attribute("data-bytes-in"), summary.get_attribute("data-bytes-out")) == (
        str(status["bytesIn"]),
        str(status["bytesOut"]),
    )
    assert f"{(1 - status['bytesOut'] / status['bytesIn']) * 100:.1f}% saved" in summary.inner_text()
    assert page.inner_text("#progress-text").startswith("5 of 5 images done")
    for (line, position), image in images.items():
        card = page.locator(f'.card[data-line="{line}"][data-position="{position}"]')
        card.scroll_into_view_if_needed()
        before = card.locator(".before img")
        if image["status"] == "failed":
            assert image["failureReason"] and image["failureReason"] in card.locator(".failure").inner_text()
            continue
        before.wait_for(state="visible")
        page.wait_for_function(LOADED, arg=before.element_handle())
        page.wait_for_function(LOADED, arg=card.locator(".after img").element_handle())
        assert card.locator(".after img").get_attribute("src") == image["outputUrl"]
        assert before.get_attribute("src") == image["inputUrl"]
        assert card.locator(".after .pixels").inner_text() == f"{image['width']} × {image['height']} px"
        assert card.locator(".after .bytes").get_attribute("title") == f"{image['bytesOut']:,} bytes"
        assert card.locator(".before .bytes").get_attribute("title") == f"{image['bytesIn']:,} bytes"
        natural = before.evaluate("img => `${img.naturalWidth} × ${img.naturalHeight} px`")
        assert card.locator(".before .pixels").inner_text() == natural
        share = (1 - image["bytesOut"] / image["bytesIn"]) * 100
        assert card.locator(".saving").inner_text() == f"{share:.1f}% saved"
    assert [image["status"] for image in images.values()].count("failed") == 1
    screenshot(page, "desktop", tmp_path, full_page=True)
    assert_accessible(page)
    with page.expect_download() as download:
        page.click("#download")
    assert Path(download.value.path()).read_bytes() == live.api(f"/status/{request_id}/output.csv").content
    assert download.value.suggested_filename == f"imgopt-{request_id}.csv"
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert screenshot(page, "phone", tmp_path, full_page=True).stat().st_size > 0


def test_the_quality_field_takes_a_level_or_auto_and_the_upload_carries_it(page, live, tmp_path):
    csv_path = tmp_path / "products.csv"
    csv_path.write_bytes(live.csv(f"1,Hat,{live.photo('small-320x240.jpg')}"))

    request_id = upload_through_the_page(page, live, csv_path, quality="auto")
    assert live.api(f"/status/{request_id}").json()["options"]["quality"] == "auto"

    page.goto(f"{live.url}/")
    valid = "el => el.validity.valid"
    for typed, accepted in (("auto", True), ("80", True), ("100", True), ("0", False), ("101", False), ("best", False)):
        page.fill("#quality", typed)
        assert page.eval_on_selector("#quality", valid) is accepted, typed


def test_a_refused_csv_dropped_on_the_page_shows_each_problem_with_its_line_in_a_table(page, live, tmp_path):
    bad = live.csv("1,Shirt,ftp://shop.example/shirt.jpg", "x,,https://shop.example/hat.jpg", "1,Socks,not a url")
    expected = httpx.post(f"{live.url}/upload", files={"file": ("bad.csv", bad, "text/csv")}).json()

    page.goto(f"{live.url}/")
    drop_file(page, "#drop-zone", "bad.csv", bad.decode())
    chosen = page.inner_text("#chosen-file")
    page.click("#upload-button")
    page.wait_for_selector("#refused:visible")

    rows = page.locator("#refused-table tbody tr")
    shown = [tuple(row.locator("td").all_inner_texts()) for row in rows.all()]
    assert shown == [(str(e["line"]), e["column"] or "—", e["message"]) for e in expected["errors"]]
    assert len(shown) == expected["errorCount"] >= 3
    assert page.inner_text("#refused-detail") == expected["detail"]
    assert "#/requests/" not in page.url and chosen == f"Chosen: bad.csv ({len(bad)} bytes)"
    screenshot(page, "refused", tmp_path)
    assert_accessible(page)


def test_a_deep_link_follows_a_request_live_and_stops_polling_once_it_has_finished(page, live, gated_origin):
    receipt = httpx.post(
        f"{live.url}/upload", files={"file": ("p.csv", live.csv(f"1,Held,{gated_origin.url()}"), "text/csv")}
    ).json()
    status_calls = []
    page.on("request", lambda r: status_calls.append(r.url) if "/status/" in r.url else None)
    page.clock.install()

    page.goto(f"{live.url}/#/requests/{receipt['requestId']}")
    page.wait_for_selector('#request-status[data-status="pending"], #request-status[data-status="processing"]')
    assert page.locator("#download").is_hidden()
    gated_origin.open()
    for _ in range(300):
        if page.locator('#request-status[data-status="completed"]').count():
            break
        page.clock.run_for(1000)
        page.wait_for_timeout(100)  # lets the page's fetch answer between ticks of the paused clock
    page.wait_for_selector("#download:visible")
    calls_when_finished = len(status_calls)
    page.clock.run_for(30_000)

    assert page.inner_text("#progress-text").startswith("1 of 1 images done (100%)")
    assert len(status_calls) == calls_when_finished
    assert page.locator(".card .after img").get_attribute("src").startswith(f"{live.url}/files/")


def test_the_home_page_works_from_the_keyboard_and_lists_recent_requests_without_asking_for_a_key(page, live):
    receipt = httpx.post(
        f"{live.url}/upload", files={"file": ("p.csv", live.csv(f"1,Hat,{live.photo('photo.webp')}"), "text/csv")}
    ).json()

    with page.expect_response(re.compile(r"/requests\?")) as listing:
        page.goto(f"{live.url}/")
    page.wait_for_selector("#home:visible")
    focused = []
    while "upload-button" not in focused and len(focused) < 30:
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id"))
    page.keyboard.press("Enter")

    form_fields = ["csv-file", "quality", "max-width", "max-height", "format", "webhook-url", "upload-button"]
    assert [name for name in focused if name in form_fields] == form_fields
    assert page.inner_text("#notice") == "Choose a CSV file first."
    assert page.evaluate("document.activeElement.id") == "csv-file"
    assert listing.value.status == 200 and page.locator("#recent").is_visible()
    assert receipt["requestId"] in page.locator("#recent-table tbody").inner_text()
    assert page.locator("#sign-in").is_hidden()
    schema = httpx.get(f"{live.url}/schema/openapi.json").json()
    assert "[web console](/)" in schema["info"]["description"] and "/" not in schema["paths"]


def test_where_a_key_is_required_the_page_signs_in_with_a_real_key_and_lists_only_its_tenants_requests(
    page, live_keyed
):
    live = live_keyed
    other_team = {"Authorization": f"Bearer {live.create_key('team-b')['key']}"}
    upload = {"file": ("p.csv", live.csv(f"1,Hat,{live.photo('photo.webp')}"), "text/csv")}
    receipt = httpx.post(f"{live.url}/upload", files=upload, headers=live.headers).json()
    theirs = httpx.post(f"{live.url}/upload", files=upload, headers=other_team).json()
    live.finished(receipt["requestId"])
    sent_keys = []
    page.on("request", lambda r: sent_keys.append(r.headers.get("authorization")) if "/status/" in r.url else None)

    page.goto(f"{live.url}/")
    page.wait_for_selector("#sign-in:visible")
    page.fill("#api-key", "imgopt_" + "x" * 43)
    page.press("#api-key", "Enter")
    page.wait_for_selector("#notice:visible")
    notice = page.inner_text("#notice")
    page.fill("#api-key", live.key)
    page.click("#sign-in-form button")
    page.wait_for_selector("#recent:visible")
    rows = page.locator("#recent-table tbody tr")
    listed = rows.all_inner_texts()
    rows.first.get_by_role("link").click()
    page.wait_for_selector('#request-status[data-status="completed"]')

    assert "unknown or has been revoked" in notice and page.locator("#sign-in").is_visible() is False
    assert len(listed) == 1 and listed[0].split("\t")[:3] == [receipt["requestId"], "Completed", "1 of 1"]
    assert theirs["requestId"] not in page.content()
    assert sent_keys and set(sent_keys) == {f"Bearer {live.key}"}
    assert page.locator("#sign-out").is_visible()
