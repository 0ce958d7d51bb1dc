"""Shared code runs in the browser under the live preview's limits (#12).

The share page's preview is a sandboxed srcdoc frame, which inherits the page's
Content-Security-Policy: scripts run, and nothing can be fetched or beaconed.
"""

from __future__ import annotations

import io
import re

import aiohttp
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.helpers import wait_for

PAGE = """<!doctype html><body><p id="out">not run</p><script>
const out = document.getElementById("out");
out.textContent = "ran";
fetch("/healthz", {mode: "no-cors"}).then(() => { out.textContent = "ran:fetched"; },
                       () => { out.textContent = "ran:blocked"; });
</script></body>
"""


async def shared_page(base: str) -> str:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(base + "/import") as resp:
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', await resp.text())
        assert token is not None
        form = aiohttp.FormData()
        form.add_field("csrfmiddlewaretoken", token.group(1))
        form.add_field("files", io.BytesIO(PAGE.encode()), filename="index.html")
        async with http.post(
            base + "/import", data=form, headers={"Accept": "application/json"}
        ) as resp:
            pid = (await resp.json())["id"]
        async with http.post(base + f"/api/p/{pid}/share", json={}) as resp:
            assert resp.status == 201, await resp.text()
            return str((await resp.json())["url"])


async def test_a_shared_page_runs_its_script_but_cannot_fetch(
    flint_server: str, browser: WebDriver
) -> None:
    url = await shared_page(flint_server)
    for page in (url, url + "embed"):
        browser.get(page)
        frame = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "iframe.preview"))
        browser.switch_to.frame(frame)
        text = wait_for(
            browser,
            lambda d: (t := d.find_element(By.ID, "out").text) not in ("not run", "ran") and t,
            message="the shared script never finished",
        )
        assert text == "ran:blocked", page
        browser.switch_to.default_content()
