"""Static files the Django way: collected, hashed, compressed, and the page still works."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from playground.testing.servers import REPO, daphne_server, flint_env, migrate
from playground.testing.upstream import ScriptedUpstream
from tests.browser.helpers import by_testid, wait_for
from tests.browser.preview_support import console_entries, preview_text, set_file
from tests.conftest import TEST_KEY


@pytest.fixture(scope="module")
def collected_server(
    tmp_path_factory: pytest.TempPathFactory, upstream_server: ScriptedUpstream
) -> Iterator[str]:
    var = tmp_path_factory.mktemp("collected-var")
    extra = {
        "FLINT_BASE_URL": upstream_server.base_url,
        "FLINT_API_KEY": TEST_KEY,
        "FLINT_MODEL": "gpt-test",
    }
    migrate(flint_env(var, **extra))
    env = flint_env(var, FLINT_STATIC_MANIFEST="1", **extra)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=300,
    )
    with daphne_server(env) as url:
        yield url


def test_hashed_compressed_files_serve_a_working_web_and_python_page(
    browser: WebDriver, collected_server: str
) -> None:
    browser.get(f"{collected_server}/?template=web")
    wait_for(browser, lambda d: by_testid(d, "connection").text.strip() == "connected")
    scripts = browser.execute_script(
        "return [...document.querySelectorAll('script[src], link[rel=stylesheet]')]"
        ".map(e => e.src || e.href)"
    )
    assert all("." in s.rsplit("/", 1)[-1].split(".", 1)[1] for s in scripts)
    assert any(s.endswith(".js") and "/flint/app." in s and "app.js" not in s for s in scripts)
    sizes = {}
    for encoding in ("gzip", "br"):
        request = urllib.request.Request(scripts[0], headers={"Accept-Encoding": encoding})
        with urllib.request.urlopen(request) as response:
            assert response.headers["Content-Encoding"] == encoding
            assert "immutable" in response.headers["Cache-Control"]
            sizes[encoding] = len(response.read())
    assert sizes["br"] < sizes["gzip"], "brotli (collectstatic wrote .br) is the smaller"
    # Chromium asks for br over HTTPS and on loopback (a secure context, as here); over
    # plain HTTP to another host it asks for "gzip, deflate" and gets the .gz copy.
    got = browser.execute_script(
        "return performance.getEntriesByName(arguments[0])[0].encodedBodySize", scripts[0]
    )
    assert got == sizes["br"], (got, sizes)
    set_file(browser, "index.html", "<h1>collected</h1>\n")
    wait_for(browser, lambda d: "collected" in preview_text(d, "h1"), timeout=20)

    # Python: the hashed worker still carries COEP, Pyodide loads from its folder.
    browser.get(f"{collected_server}/?template=python")
    wait_for(browser, lambda d: by_testid(d, "connection").text.strip() == "connected")
    set_file(browser, "main.py", 'print("from the collected worker")\n')
    by_testid(browser, "run").click()
    wait_for(
        browser,
        lambda d: "from the collected worker" in console_entries(d),
        timeout=90,
        message="Python did not run from collected static files",
    )
