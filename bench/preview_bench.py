"""Benchmark the live preview's repaint: an edit reaching the browser → the preview frame
has applied it (reported from the frame's requestAnimationFrame, i.e. before that paint).

A real Daphne, headless Chromium (Selenium). Measured in the page with performance.now():
the app stamps the first change of a batch (Workspace onChange → Preview.update) and the
frame answers ``rendered {version}`` from inside its next animation frame, once the new
CSS text / morphed HTML is in its document; the samples are on ``window.flint.preview.samples``.

Cases (each N edits, a short random pause between them so they land in different frames):
  css        replace style.css (the <style> text is replaced in place)
  html       change a paragraph of index.html (morphed in place)
  html-big   the same on a page with 2000 list items
  script     change script.js (a fresh frame is loaded and swapped in: no target, for scale)

Run:  python bench/preview_bench.py [--n 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playground.testing.browser import new_driver, open_playground
from playground.testing.servers import daphne_server, flint_env, migrate

LOOP = """
const [kind, n, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const ws = window.flint.workspace, preview = window.flint.preview;
const set = (path, text) => {
  ws.open(path);
  ws.view.dispatch({changes: {from: 0, to: ws.view.state.doc.length, insert: text}});
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const baseHtml = ws.text("index.html");
const items = Array.from({length: 2000}, (_, i) => `<li>item ${i}</li>`).join("\\n");
(async () => {
  if (kind === "html-big") {
    set("index.html", baseHtml.replace("</main>", `<ul>${items}</ul></main>`));
    await sleep(500);
  }
  const start = preview.samples.length;
  for (let i = 0; i < n; i++) {
    const before = preview.samples.length;
    if (kind === "css") {
      const rule = `h1 { color: rgb(${i % 256}, 80, 40); }`;
      set("style.css", `body { font-family: system-ui; }\\n${rule}\\n`);
    } else if (kind === "script") {
      set("script.js", `document.querySelector("h1").textContent = "run ${i}";\\n`);
    } else {
      const big = baseHtml.replace("</main>", `<ul>${items}</ul></main>`);
      const page = kind === "html-big" ? big : baseHtml;
      set("index.html", page.replace("Ask the model to change this page.", `Edit number ${i}.`));
    }
    const t = performance.now();
    while (preview.samples.length === before && performance.now() - t < 2000) await sleep(1);
    await sleep(20 + Math.random() * 30);
  }
  done(preview.samples.slice(start).map((s) => [s.mode, s.ms]));
})();
"""


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="edits per case")
    parser.add_argument("--cases", nargs="*", default=["css", "html", "html-big", "script"])
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="flint-bench-"))
    env = flint_env(var, FLINT_BASE_URL="http://127.0.0.1:9/v1", FLINT_API_KEY="x")
    migrate(env)
    with daphne_server(env) as base:
        driver = new_driver()
        driver.set_script_timeout(600)
        try:
            print(f"{'case':10} {'n':>5} {'mode':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
            for case in args.cases:
                open_playground(driver, base)
                n = args.n if case != "script" else min(args.n, 50)
                samples = driver.execute_async_script(LOOP, case, n)
                ms = [m for _, m in samples]
                modes = statistics.mode([mode for mode, _ in samples]) if samples else "-"
                p50, p95 = pct(ms, 50), pct(ms, 95)
                print(f"{case:10} {len(ms):5d} {modes:>6} {p50:8.1f} {p95:8.1f} {max(ms):8.1f}")
        finally:
            driver.quit()
    print(f"chromium headless, {Path('/proc/cpuinfo').read_text().count('processor')} CPUs")


if __name__ == "__main__":
    main()
