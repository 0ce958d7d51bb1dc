"""Build the zip bombs in this folder (kept in git: building them takes a minute).

Each holds one entry that inflates to a lot of zeros while its headers declare
1 KB, the way the #12 attack was made: ``python tests/data/make_bombs.py``.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

HERE = Path(__file__).parent
DECLARED = 1024
CHUNK = b"\0" * (16 * 1024 * 1024)


def bomb(method: int, inflated: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf, zf.open("index.html", "w") as entry:
        for _ in range(inflated // len(CHUNK)):
            entry.write(CHUNK)
    data = bytearray(buf.getvalue())
    # Lie about the size in the local header (offset 22) and the central one (24).
    struct.pack_into("<I", data, 22, DECLARED)
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, DECLARED)
    return bytes(data)


if __name__ == "__main__":
    (HERE / "bomb-bzip2.zip").write_bytes(bomb(zipfile.ZIP_BZIP2, 1024 * 1024 * 1024))
    (HERE / "bomb-lzma.zip").write_bytes(bomb(zipfile.ZIP_LZMA, 512 * 1024 * 1024))
