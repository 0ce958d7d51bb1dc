"""Render deploy/nginx.conf.template for one run (scripts/run-scaled.sh, the tests).

``python -m flint.deploy PREFIX LISTEN PORT [PORT...]`` writes PREFIX/nginx.conf
for nginx listening on LISTEN (``127.0.0.1:8000``) in front of Daphne processes on
127.0.0.1:PORT, and creates its temporary folders under PREFIX.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path

from playground import limits

TEMPLATE = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf.template"
_TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def render_nginx(prefix: Path, listen: str, ports: Iterable[int]) -> Path:
    """Write ``prefix/nginx.conf``; return its path."""
    prefix = prefix.resolve()
    prefix.mkdir(parents=True, exist_ok=True)
    for name in _TEMP_DIRS:
        (prefix / name).mkdir(exist_ok=True)
    servers = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in ports
    )
    values = {
        # As root, nginx would run its workers as "nobody", who cannot enter a
        # private var/ folder; this nginx serves loopback ports for one user.
        "user": "user root;" if os.geteuid() == 0 else "",
        "prefix": str(prefix),
        "listen": listen,
        "servers": servers,
        "max_body": str(limits.MAX_REQUEST_BODY_BYTES + 64 * 1024),
    }
    text = TEMPLATE.read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text:
        raise ValueError(
            f"unfilled placeholder in {TEMPLATE.name}: {text[text.index('{{') :][:40]}"
        )
    conf = prefix / "nginx.conf"
    conf.write_text(text)
    return conf


def nginx_command(nginx: str, conf: Path) -> list[str]:
    prefix = conf.parent
    return [
        nginx,
        "-p",
        str(prefix),
        "-c",
        str(conf),
        "-e",
        str(prefix / "error.log"),
        "-g",
        "daemon off;",
    ]


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    conf = render_nginx(Path(argv[0]), argv[1], [int(p) for p in argv[2:]])
    print(conf)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
