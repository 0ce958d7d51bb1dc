"""The model picker in the page: choose a model, and the next answer comes from it.

Against real servers: the scripted OpenAI upstream (its /v1/models lists two models),
and for the local model a loopback model hub (HF_ENDPOINT) serving the real
SmolLM2-135M file, which the page downloads with progress and llama.cpp then runs.
"""

from __future__ import annotations

import importlib.util
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.common.exceptions import NoSuchElementException
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from playground.inference.local.paths import model_path
from playground.inference.local.registry import get_spec
from playground.inference.local.verify import ensure_verified
from playground.testing.hub import FakeHub
from playground.testing.servers import daphne_server
from playground.testing.upstream import Reply, ScriptedUpstream
from tests.browser.helpers import (
    all_by_testid,
    by_testid,
    open_playground,
    send_instruction,
    wait_for,
)
from tests.conftest import flint_env_for

SHOTS = Path(tempfile.gettempdir()) / "flint-shots"
LOCAL = "smollm2-135m"


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeHub]:
    with FakeHub() as server:
        spec = get_spec(LOCAL)
        path = model_path(LOCAL)
        if path.exists():
            ensure_verified(path, spec, out=io.StringIO())
            server.add(spec.hub_repo, spec.hub_file, path, revision=spec.hub_revision)
        # ~7 s for the 98 MB file: long enough to see the progress, short for a test.
        server.configure(rate=15_000_000)
        yield server


@pytest.fixture(scope="module")
def picker_server(
    tmp_path_factory: pytest.TempPathFactory, upstream_server: ScriptedUpstream, hub: FakeHub
) -> Iterator[str]:
    env = flint_env_for(
        tmp_path_factory.mktemp("picker-var"),
        upstream_server,
        HF_ENDPOINT=hub.url,
        FLINT_MAX_TOKENS="48",  # a short local answer on a shared 2-core machine
    )
    with daphne_server(env) as url:
        yield url


@pytest.fixture
def two_models(page_upstream: ScriptedUpstream) -> Iterator[ScriptedUpstream]:
    page_upstream.configure(models=["gpt-test", "gpt-other"])
    yield page_upstream
    page_upstream.configure(models=["gpt-test"])


def row(driver: WebDriver, model: str) -> WebElement:
    for r in all_by_testid(driver, "model-row"):
        if r.get_attribute("data-model") == model:
            return r
    # Not drawn yet (the list is still loading): a wait_for asks again.
    raise NoSuchElementException(f"no row for {model}")


def open_picker(driver: WebDriver) -> WebElement:
    by_testid(driver, "model-button").click()
    panel = wait_for(driver, lambda d: by_testid(d, "model-panel"))
    wait_for(driver, lambda d: len(all_by_testid(d, "model-row")) >= 4, message="no model list")
    return panel


def button_text(driver: WebDriver) -> str:
    return by_testid(driver, "model-button").text


def test_switching_the_model_in_the_page_changes_who_answers_the_next_request(
    browser: WebDriver, picker_server: str, two_models: ScriptedUpstream
) -> None:
    SHOTS.mkdir(exist_ok=True)
    url = open_playground(browser, picker_server)
    wait_for(browser, lambda d: "gpt-test" in button_text(d), message="model not shown")
    open_picker(browser)
    ids = [r.get_attribute("data-model") for r in all_by_testid(browser, "model-row")]
    assert ids[:2] == ["endpoint:gpt-other", "endpoint:gpt-test"]
    assert f"local:{LOCAL}" in ids
    assert row(browser, "endpoint:gpt-test").find_elements("css selector", ".model-tag")
    browser.save_screenshot(str(SHOTS / "model-picker.png"))

    by_testid(row(browser, "endpoint:gpt-other"), "model-use").click()
    wait_for(browser, lambda d: "gpt-other" in button_text(d), message="switch not shown")
    assert "The next answer comes from it" in by_testid(browser, "transcript").text

    two_models.script(Reply(text="Answered by the other model."))
    send_instruction(browser, "make the text blue")
    status = by_testid(browser, "status")
    wait_for(browser, lambda d: status.get_attribute("data-phase") == "done")
    assert two_models.streams[-1].model == "gpt-other"
    assert "Answered by the other model." in by_testid(browser, "transcript").text

    # Kept with the playground: a reload shows it, and the next answer uses it too.
    browser.get(url)
    wait_for(browser, lambda d: "gpt-other" in button_text(d), message="choice not kept")
    by_testid(browser, "model-button").click()
    wait_for(
        browser, lambda d: row(d, "endpoint:gpt-other").get_attribute("class").endswith("current")
    )
    by_testid(row(browser, "endpoint:gpt-test"), "model-use").click()
    wait_for(browser, lambda d: "gpt-test" in button_text(d))
    two_models.script(Reply(text="Back on the default."))
    send_instruction(browser, "and now bold")
    wait_for(browser, lambda d: by_testid(d, "status").text.startswith("Done"))
    assert two_models.streams[-1].model == "gpt-test"


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None, reason="llama_cpp is not importable"
)
def test_a_local_model_is_downloaded_with_progress_then_loads_and_answers(
    browser: WebDriver, picker_server: str, hub: FakeHub, page_upstream: ScriptedUpstream
) -> None:
    if not hub.state.files:
        pytest.skip(f"{LOCAL} is not on disk here: `python manage.py models fetch {LOCAL}`")
    SHOTS.mkdir(exist_ok=True)
    open_playground(browser, picker_server)
    open_picker(browser)
    local = row(browser, f"local:{LOCAL}")
    assert local.get_attribute("data-state") == "missing"
    assert "download 98 MB" in local.text
    by_testid(local, "model-download-use").click()

    # Progress in the page, growing, from the hub (HF_ENDPOINT).
    def progress(d: WebDriver) -> str:
        shown = all_by_testid(row(d, f"local:{LOCAL}"), "model-progress-text")
        return shown[0].text if shown else ""

    first = wait_for(browser, lambda d: "from the hub ·" in progress(d) and progress(d), 20)
    wait_for(browser, lambda d: progress(d) != first and "%" in progress(d), 20)
    assert "⬇" in button_text(browser)
    browser.save_screenshot(str(SHOTS / "model-download.png"))
    # Done: on disk, and chosen (the user asked "Download and use").
    wait_for(browser, lambda d: f"{LOCAL} · local" in button_text(d), 60, "not chosen")
    assert row(browser, f"local:{LOCAL}").get_attribute("data-state") == "on_disk"
    gets = [r for r in hub.requests if r.method == "GET"]
    assert gets, "the file came from the loopback hub"

    # The next answer: the local model loads (the page counts the seconds), then answers.
    by_testid(browser, "model-panel").find_element("css selector", "button").click()
    streams_before = len(page_upstream.streams)
    send_instruction(browser, "Say hello.")
    status = by_testid(browser, "status")
    wait_for(browser, lambda d: status.get_attribute("data-loading") == "1", 30)
    wait_for(browser, lambda d: "Loading smollm2-135m…" in status.text and " s " in status.text, 30)
    browser.save_screenshot(str(SHOTS / "model-loading.png"))
    wait_for(browser, lambda d: status.get_attribute("data-phase") == "done", 240)
    assert status.text.startswith("Done"), status.text
    assert int(status.get_attribute("data-tokens") or 0) > 0
    assert len(page_upstream.streams) == streams_before, "the endpoint was not asked"


def test_the_picker_is_a_dialog_fits_a_phone_and_passes_axe(
    browser: WebDriver, picker_server: str, two_models: ScriptedUpstream
) -> None:
    from selenium.webdriver.common.keys import Keys

    from tests.browser.test_a11y_mobile import assert_no_violations, overflow, phone, scheme

    browser.set_script_timeout(60)
    for colors in ("dark", "light"):
        scheme(browser, colors)
        open_playground(browser, picker_server)
        open_picker(browser)
        assert_no_violations(browser, f"the model picker ({colors})")
    phone(browser)
    open_playground(browser, picker_server)
    button = by_testid(browser, "model-button")
    assert button.is_displayed()
    assert overflow(browser) == []
    panel = open_picker(browser)
    assert panel.get_attribute("role") == "dialog"
    assert overflow(browser) == []
    browser.save_screenshot(str(SHOTS / "model-picker-phone.png"))
    wait_for(
        browser,
        lambda d: d.execute_script("return arguments[0].contains(document.activeElement)", panel),
    )
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait_for(browser, lambda d: not all_by_testid(d, "model-panel"))
    assert browser.switch_to.active_element == by_testid(browser, "model-button")
