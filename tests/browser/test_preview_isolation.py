"""Preview code is hostile: from inside the preview it cannot reach the app's DOM, cookies,
storage, socket or HTTP endpoints, nor navigate the top window — and a runaway loop in
it does not freeze the editor."""

from __future__ import annotations

import json
import time

from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from playground.testing.upstream import Reply, ScriptedUpstream
from tests.browser.preview_support import (
    console_entries,
    open_playground,
    send_instruction,
    set_file,
    transcript_text,
    wait_for,
)

ATTACKS = """
const APP = %(app)s, WS = %(ws)s;
const report = (name, outcome) => console.log(`attack ${name}: ${outcome}`);
async function attempt(name, fn) {
  try {
    const value = await fn();
    report(name, `LEAKED ${String(value).slice(0, 60)}`);
  } catch (err) {
    report(name, `blocked (${err && err.name})`);
  }
}
attempt("parent.document", () => parent.document.cookie);
attempt("top.document", () => top.document.body.innerHTML.length);
attempt("document.cookie", () => {
  const c = document.cookie;
  if (!c.includes("flint_secret")) throw new Error("no app cookie visible");
  return c;
});
const must = (v) => { if (v == null) throw new Error("empty"); return v; };
attempt("localStorage", () => must(localStorage.getItem("flint_secret")));
attempt("sessionStorage", () => must(sessionStorage.getItem("flint_secret")));
attempt("indexedDB", () => new Promise((ok, fail) => {
  const r = indexedDB.open("flint-probe");
  r.onsuccess = () => ok("opened");
  r.onerror = () => fail(r.error || new Error("denied"));
}));
attempt("websocket", () => new Promise((ok, fail) => {
  const ws = new WebSocket(WS);
  ws.onopen = () => ok("open");
  ws.onerror = () => fail(new Error("connection refused"));
  setTimeout(() => fail(new Error("timeout")), 3000);
}));
attempt("fetch", () => fetch(APP + "/").then((r) => r.text()).then((t) => t.length));
attempt("xhr", () => new Promise((ok, fail) => {
  const x = new XMLHttpRequest();
  x.open("GET", APP + "/healthz");
  x.onload = () => ok(x.responseText);
  x.onerror = () => fail(new Error("network error"));
  x.send();
}));
attempt("top.location", () => {
  top.location.href = APP + "/healthz?hijacked";
  return "navigated";
});
attempt("window.open", () => {
  const w = window.open(APP + "/healthz");
  if (!w) throw new Error("popup blocked");
  return "opened";
});
attempt("form post", () => {
  const f = document.createElement("form");
  f.method = "post"; f.action = APP + "/import"; f.target = "_top";
  document.body.append(f);
  f.submit();
  throw new Error("submitted (CSP form-action decides)");
});
"""

NAMES = [
    "parent.document",
    "top.document",
    "document.cookie",
    "localStorage",
    "sessionStorage",
    "indexedDB",
    "websocket",
    "fetch",
    "xhr",
    "top.location",
    "window.open",
    "form post",
]


def test_preview_code_cannot_reach_the_app(
    flint_server: str, browser: WebDriver, page_upstream: ScriptedUpstream
) -> None:
    url = open_playground(browser, flint_server)
    pid = url.rstrip("/").rsplit("/", 1)[-1]
    browser.execute_script(
        "document.cookie = 'flint_secret=s3cret; path=/';"
        "localStorage.setItem('flint_secret', 's3cret');"
        "sessionStorage.setItem('flint_secret', 's3cret');"
    )
    ws_url = flint_server.replace("http://", "ws://") + f"/ws/p/{pid}/"
    set_file(
        browser, "script.js", ATTACKS % {"app": json.dumps(flint_server), "ws": json.dumps(ws_url)}
    )

    def results() -> dict[str, str]:
        out = {}
        for entry in console_entries(browser):
            if entry.startswith("attack "):
                name, _, outcome = entry[len("attack ") :].partition(": ")
                out[name] = outcome
        return out

    wait_for(
        lambda: set(NAMES) <= set(results()), timeout=10, what="every attack", describe=results
    )
    got = results()
    leaked = {k: v for k, v in got.items() if "LEAKED" in v}
    assert not leaked, got
    assert all(v.startswith("blocked") for v in got.values()), got

    # The app is untouched and keeps working.
    time.sleep(0.3)
    assert browser.current_url == url
    assert "flint_secret=s3cret" in browser.execute_script("return document.cookie")
    assert browser.execute_script("return localStorage.getItem('flint_secret')") == "s3cret"
    page_upstream.script(Reply(text="Still here and working."))
    send_instruction(browser, "Are you still there?")
    wait_for(lambda: "Still here and working." in transcript_text(browser), what="the answer")
    # The preview never reached the app over HTTP or the socket.
    assert not any("hijacked" in r.query for r in page_upstream.requests)


def test_a_spinning_preview_does_not_freeze_the_editor(
    flint_server: str, browser: WebDriver
) -> None:
    open_playground(browser, flint_server)
    browser.execute_script(
        "window.__ticks = []; setInterval(() => window.__ticks.push(performance.now()), 50);"
    )
    set_file(
        browser,
        "script.js",
        'console.log("about to spin");\nsetTimeout(() => { for (;;) {} }, 200);\n',
    )
    wait_for(
        lambda: any("about to spin" in e for e in console_entries(browser)),
        what="the page to start",
    )
    # No heartbeat for ~2 s: the app says so and offers a restart.
    wait_for(
        lambda: browser.execute_script("return !document.querySelector('.preview-stuck').hidden"),
        timeout=6,
        what="'Preview not responding'",
    )
    assert browser.find_element(By.CSS_SELECTOR, '[data-testid="preview-restart"]').is_displayed()
    # Meanwhile the app's own event loop kept running (no long gaps) …
    gap = browser.execute_script(
        "const t = window.__ticks; let g = 0;"
        " for (let i = 1; i < t.length; i++) g = Math.max(g, t[i] - t[i-1]);"
        " return g;"
    )
    assert gap < 1000, gap
    # … and the editor is typeable.
    browser.execute_script("window.flint.workspace.open('style.css')")
    editor = browser.find_element(By.CSS_SELECTOR, '[data-testid="editor"] .cm-content')
    editor.click()
    editor.send_keys("/* typed while the preview spins */")
    assert "typed while the preview spins" in browser.execute_script(
        "return window.flint.workspace.text('style.css')"
    )
    # Fix the script, restart (a script click: chromedriver's own click waits for frames).
    set_file(browser, "script.js", 'console.log("calm again");\n')
    browser.execute_script("document.querySelector('[data-testid=preview-restart]').click()")
    wait_for(
        lambda: any("calm again" in e for e in console_entries(browser)), what="the fixed page"
    )
    time.sleep(2.5)
    assert browser.execute_script("return document.querySelector('.preview-stuck').hidden")
