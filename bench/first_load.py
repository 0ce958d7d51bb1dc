"""Bytes a browser downloads to open a playground: static files from static/ through the
finders (uncompressed) against collected ones (CompressedManifestStaticFilesStorage:
hashed names, gzip, cached for a year).

Usage: python bench/first_load.py [--accept-encoding "gzip, deflate"]
Starts a real Daphne twice on loopback (FLINT_STATIC_MANIFEST off, then on after
``manage.py collectstatic``), opens a web and a Python playground as a browser would
(``Accept-Encoding: gzip, deflate, br``; following the redirect of ``/``), and counts the
bytes of every response body as sent: the page, its CSS and JS, the preview frame and
its script, and for Python the worker and Pyodide's files. Also prints what a second
visit downloads after the browser cache's freshness (Cache-Control max-age) ran out
for the unhashed files: hashed files stay fresh for a year.
"""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playground.testing.servers import REPO, daphne_server, flint_env, migrate

PYODIDE = [
    "pyodide.mjs",
    "pyodide.asm.js",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
]


# What the requests accept: Chromium sends "gzip, deflate, br, zstd" over HTTPS, and
# no br over plain HTTP (then WhiteNoise serves the .gz).
ACCEPT = "gzip, deflate, br"


def fetch(opener: urllib.request.OpenerDirector, url: str) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": ACCEPT})
    with opener.open(request) as response:
        return response.read(), dict(response.headers)


def page_load(base: str, template: str) -> list[tuple[str, int, str]]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html, headers = fetch(opener, f"{base}/?template={template}")
    rows = [("page", len(html), headers.get("Content-Encoding", "-"))]
    text = html.decode()
    urls = re.findall(r'(?:href|src|data-worker)="(/static/[^"]+)"', text)
    frame = re.search(r'data-src="([^"]+)"', text)
    if frame:
        body, h = fetch(opener, urljoin(base + "/", frame.group(1).replace("&amp;", "&")))
        rows.append(("/preview/frame", len(body), h.get("Content-Encoding", "-")))
        urls += re.findall(r'src="(/static/[^"]+)"', body.decode())
    pyodide = re.search(r'data-pyodide="([^"]+)"', text)
    if pyodide:
        urls += [pyodide.group(1) + name for name in PYODIDE]
    for url in urls:
        body, h = fetch(opener, base + url)
        rows.append(
            (url, len(body), f"{h.get('Content-Encoding', '-')}, {h.get('Cache-Control', '')}")
        )
    return rows


def measure(manifest: bool) -> dict[str, list[tuple[str, int, str]]]:
    var = Path(tempfile.mkdtemp(prefix="flint-first-load-"))
    extra = {"FLINT_BASE_URL": "http://127.0.0.1:9/v1", "FLINT_MODEL": "none"}
    migrate(flint_env(var, **extra))  # as scripts/run.sh: before the flag is set
    if manifest:
        extra["FLINT_STATIC_MANIFEST"] = "1"
    env = flint_env(var, **extra)
    if manifest:
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
            cwd=REPO,
            env=env,
            check=True,
        )
    with daphne_server(env) as base:
        return {t: page_load(base, t) for t in ("web", "python")}


def main() -> None:
    global ACCEPT
    if "--accept-encoding" in sys.argv:
        ACCEPT = sys.argv[sys.argv.index("--accept-encoding") + 1]
    print(f"Accept-Encoding: {ACCEPT}")
    for manifest in (False, True):
        print(f"== FLINT_STATIC_MANIFEST={'1 (collected)' if manifest else 'off (finders)'}")
        for template, rows in measure(manifest).items():
            total = sum(n for _, n, _ in rows)
            for url, n, how in rows:
                print(f"  {template:6} {n:>10,} B  {url}  [{how}]")
            print(f"  {template:6} {total:>10,} B  in all")


if __name__ == "__main__":
    main()
