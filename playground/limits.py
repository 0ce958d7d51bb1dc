"""Every size limit in Flint, derived from one another so that they agree.

The largest thing a person can store is a project: MAX_FILES files of at most
MAX_PROJECT_BYTES of UTF-8 text in all. Every way in must carry such a project
whole, so every other limit is derived from that one:

* a socket message (``files.save``, ``gen.start``) carries the project as JSON.
  The text rules (persistence/files.py) refuse the control characters JSON
  writes as ``\\u00XX``, so each byte of text costs at most 2 bytes of JSON
  (``"`` -> ``\\"``, newline -> ``\\n``, a lone surrogate's 3 bytes -> 6), plus an
  envelope for the paths, the instruction and the keys;
* Daphne's own frame and message cap sits above that, so a message just over
  the limit is answered with ``protocol.too_large`` instead of a dropped
  connection; only one over the hard cap is closed (1009);
* an HTTP request body (PUT /api/p/<id>/files, POST /api/p/<id>/generate) is
  bounded by the same message limit, before anything is buffered;
* an import (a zip or plain files) is the project plus its archive overhead.

Pure: no Django. Settings (flint/settings.py), the protocol, the save rules,
the importer and the server hardening all read these names; docs/protocol.md
and the README list them.
"""

from __future__ import annotations

KIB = 1024
MIB = 1024 * KIB

MAX_FILES = 50  # files in a project
MAX_PATH = 200  # characters in a file path
MAX_INSTRUCTION = 20_000  # characters in an instruction or a steer
MAX_PROJECT_BYTES = 2 * MIB  # UTF-8 bytes of every file's text, added up

# Room in a message beside the files' text: 50 paths of 200 characters at up
# to 4 UTF-8 bytes (40 KB), an instruction of 20,000 characters at up to 6
# bytes (120 KB), the keys and the rest of the envelope.
ENVELOPE_BYTES = 256 * KIB
JSON_EXPANSION = 2  # bytes of JSON per byte of text, at most (see the docstring)

MAX_MESSAGE_BYTES = JSON_EXPANSION * MAX_PROJECT_BYTES + ENVELOPE_BYTES  # 4,456,448
# Daphne's cap on one frame and on one message: over it the connection is
# closed with 1009; between MAX_MESSAGE_BYTES and it, a readable error.
WS_HARD_CAP_BYTES = MAX_MESSAGE_BYTES + 256 * KIB  # 4,718,592

# An upload to /import: the project's bytes (stored zip entries or plain files)
# plus per-file headers (local and central zip headers or multipart parts, with
# names up to 800 bytes: ~85 KB for 50 files) and slack.
MAX_IMPORT_BYTES = MAX_PROJECT_BYTES + ENVELOPE_BYTES  # 2,359,296

# Any HTTP request body, on any URL: the largest of the above. Refused with 413
# before it is read when Content-Length says more; a chunked body is counted as
# it arrives and cut off at the same size.
MAX_REQUEST_BODY_BYTES = max(MAX_MESSAGE_BYTES, MAX_IMPORT_BYTES)

# One answer, in characters: a whole project rewritten twice over and then some.
# Past it the answer is cut off (gen.answer_too_large): a runaway or hostile
# model cannot grow a generation's memory, its event log or its stored record
# without bound. Derived from the project so a model can always rewrite it all.
MAX_ANSWER_CHARS = 2 * MAX_PROJECT_BYTES

# Seconds a client may take to send a request's headers and body (a
# half-sent request is closed with 408 after it).
REQUEST_RECEIVE_TIMEOUT = 30.0
