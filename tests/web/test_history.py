"""The history HTTP API and the owner cookie: every write checks the owner, every
failure is the one error shape."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.test import Client

from playground import persistence
from playground.models import Playground, Revision
from playground.persistence.ownership import OWNER_COOKIE

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def owner(client: Client) -> Client:
    """A browser that opened / and so holds the owner cookie of a new playground."""
    resp = client.get("/?template=python")
    client.new_pid = resp["Location"].strip("/").split("/")[-1]  # type: ignore[attr-defined]
    return client


def pid_of(client: Client) -> str:
    return client.new_pid  # type: ignore[attr-defined]


def call(client: Client, method: str, url: str, body: Any = None, **kw: Any) -> Any:
    data = orjson.dumps(body) if body is not None else b""
    kw.setdefault("content_type", "application/json")
    return getattr(client, method)(url, data, **kw)


def assert_error(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.content
    err = orjson.loads(resp.content)
    assert err["type"] == "error" and err["code"] == code and err["message"], err
    assert err["v"] == 1 and isinstance(err["retryable"], bool)
    return err


def test_opening_slash_sets_a_private_owner_cookie_and_owns_the_playground(client: Client) -> None:
    resp = client.get("/")
    cookie = resp.cookies[OWNER_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    assert int(cookie["max-age"]) == 365 * 24 * 3600
    pg = Playground.objects.get(id=resp["Location"].strip("/").split("/")[-1])
    assert persistence.is_owner(pg, cookie.value) and cookie.value not in pg.owner_hash


def test_the_owner_cookie_is_secure_over_https(client: Client) -> None:
    resp = client.get("/", secure=True)
    assert resp.cookies[OWNER_COOKIE]["secure"]


def test_a_browser_with_a_cookie_keeps_it_and_owns_each_new_playground(owner: Client) -> None:
    resp = owner.get("/")
    assert OWNER_COOKIE not in resp.cookies
    second = Playground.objects.get(id=resp["Location"].strip("/").split("/")[-1])
    assert persistence.is_owner(second, owner.cookies[OWNER_COOKIE].value)


def test_the_owner_saves_lists_inspects_and_restores(owner: Client) -> None:
    pid = pid_of(owner)
    saved = call(
        owner, "put", f"/api/p/{pid}/files", {"files": {"main.py": "x = '🎉'\n"}, "base_version": 1}
    )
    assert saved.status_code == 200 and orjson.loads(saved.content) == {"version": 2, "saved": True}

    listing = orjson.loads(owner.get(f"/api/p/{pid}/revisions").content)
    assert listing["version"] == 2
    assert [(r["number"], r["author"]) for r in listing["revisions"]] == [(1, "user"), (2, "user")]

    detail = orjson.loads(owner.get(f"/api/p/{pid}/revisions/1").content)
    assert "greet" in detail["files"]["main.py"] and detail["current_version"] == 2
    # Revision 1 against nothing (the first); what lies between it and now.
    (diff,) = detail["diff"]
    assert diff["status"] == "added" and detail["previous"] is None
    (to_now,) = detail["diff_to_current"]
    assert to_now["path"] == "main.py" and "+x = '🎉'" in to_now["diff"]
    # Revision 2 against revision 1: what that save changed.
    second = orjson.loads(owner.get(f"/api/p/{pid}/revisions/2").content)
    (diff,) = second["diff"]
    assert second["previous"] == 1 and "+x = '🎉'" in diff["diff"] and "-def greet" in diff["diff"]
    assert second["diff_to_current"] == []

    restored = call(owner, "post", f"/api/p/{pid}/revisions/1/restore", {"base_version": 2})
    assert orjson.loads(restored.content) == {"version": 3, "saved": True}
    assert Revision.objects.get(playground_id=pid, number=3).author == "restore"
    assert Revision.objects.get(playground_id=pid, number=2).files == {"main.py": "x = '🎉'\n"}


def test_a_stale_save_gets_409_with_the_server_copy(owner: Client) -> None:
    pid = pid_of(owner)
    call(owner, "put", f"/api/p/{pid}/files", {"files": {"main.py": "a\n"}, "base_version": 1})
    resp = call(
        owner, "put", f"/api/p/{pid}/files", {"files": {"main.py": "b\n"}, "base_version": 1}
    )
    err = assert_error(resp, 409, "save.conflict")
    assert err["detail"] == {"server_version": 2, "server_files": {"main.py": "a\n"}}


def test_the_owner_gets_a_share_url(owner: Client) -> None:
    resp = call(owner, "post", f"/api/p/{pid_of(owner)}/share", {})
    body = orjson.loads(resp.content)
    assert resp.status_code == 201
    assert body["url"] == f"http://testserver/s/{body['id']}/" and body["version"] == 1
    assert owner.get(f"/s/{body['id']}/").status_code == 200


WRITES = [
    ("put", "/api/p/{pid}/files", {"files": {"main.py": "pwned"}, "base_version": 1}),
    ("post", "/api/p/{pid}/revisions/1/restore", {"base_version": 1}),
    ("post", "/api/p/{pid}/share", {}),
    ("get", "/api/p/{pid}/revisions", None),
    ("get", "/api/p/{pid}/revisions/1", None),
    ("get", "/p/{pid}/export.zip", None),
]


@pytest.mark.parametrize("cookie", [None, "wrong", "forged-token-of-the-right-shape-000000000000"])
@pytest.mark.parametrize(("method", "url", "body"), WRITES)
def test_a_viewer_without_the_owner_cookie_is_refused_and_nothing_changes(
    owner: Client, cookie: str | None, method: str, url: str, body: Any
) -> None:
    pid = pid_of(owner)
    viewer = Client()
    if cookie:
        viewer.cookies[OWNER_COOKIE] = cookie
    assert_error(call(viewer, method, url.format(pid=pid), body), 403, "auth.forbidden")
    pg = Playground.objects.get(id=pid)
    assert pg.version == 1 and "greet" in pg.files["main.py"]
    assert Revision.objects.filter(playground=pg).count() == 1
    assert not pg.shares.exists()


def test_the_owner_of_another_playground_cannot_write_this_one(owner: Client) -> None:
    other = Client()
    other.get("/")  # has its own, valid owner cookie
    resp = call(other, "put", f"/api/p/{pid_of(owner)}/files", {"files": {}, "base_version": 1})
    assert_error(resp, 403, "auth.forbidden")


@pytest.mark.parametrize(
    ("method", "url", "body", "kw", "status", "code"),
    [
        (
            "put",
            "/api/p/{pid}/files",
            "files=x",
            {"content_type": "application/x-www-form-urlencoded"},
            415,
            "http.content_type",
        ),
        (
            "put",
            "/api/p/{pid}/files",
            "files=x",
            {"content_type": "text/plain"},
            415,
            "http.content_type",
        ),
        ("put", "/api/p/{pid}/files", b"{bad", {}, 400, "protocol.invalid"),
        ("put", "/api/p/{pid}/files", {"files": {}}, {}, 400, "protocol.invalid"),
        (
            "put",
            "/api/p/{pid}/files",
            {"files": {"../x": ""}, "base_version": 1},
            {},
            400,
            "files.invalid",
        ),
        (
            "put",
            "/api/p/{pid}/files",
            {"files": {f"{i}.py": "" for i in range(51)}, "base_version": 1},
            {},
            400,
            "files.invalid",
        ),
        (
            "put",
            "/api/p/{pid}/files",
            {"files": {"a": "x" * (2 * 1024 * 1024 + 1)}, "base_version": 1},
            {},
            400,
            "files.invalid",
        ),
        ("post", "/api/p/{pid}/files", {"files": {}, "base_version": 1}, {}, 405, "http.method"),
        (
            "post",
            "/api/p/{pid}/revisions/1/restore",
            {"base_version": -1},
            {},
            400,
            "protocol.invalid",
        ),
        (
            "post",
            "/api/p/{pid}/revisions/7/restore",
            {"base_version": 1},
            {},
            404,
            "revision.not_found",
        ),
        ("get", "/api/p/{pid}/revisions/7", None, {}, 404, "revision.not_found"),
        ("post", "/api/p/{pid}/revisions", {}, {}, 405, "http.method"),
        (
            "post",
            "/api/p/{pid}/share",
            "x",
            {"content_type": "text/plain"},
            415,
            "http.content_type",
        ),
        ("get", "/api/p/nope/revisions", None, {}, 404, "playground.not_found"),
        ("get", "/api/p/%00/revisions", None, {}, 404, "playground.not_found"),
        (
            "put",
            "/api/p/nope/files",
            {"files": {}, "base_version": 1},
            {},
            404,
            "playground.not_found",
        ),
    ],
)
def test_every_failure_is_the_canonical_error(
    owner: Client, method: str, url: str, body: Any, kw: dict[str, Any], status: int, code: str
) -> None:
    pid = pid_of(owner)
    if isinstance(body, (str, bytes)):
        resp = getattr(owner, method)(
            url.format(pid=pid), body, **{"content_type": "application/json", **kw}
        )
    else:
        resp = call(owner, method, url.format(pid=pid), body, **kw)
    assert_error(resp, status, code)
    assert Playground.objects.get(id=pid).version == 1


def test_a_body_over_the_upload_limit_is_413(owner: Client) -> None:
    from playground.limits import MAX_REQUEST_BODY_BYTES

    body = b'{"files": {"a": "' + b"x" * MAX_REQUEST_BODY_BYTES + b'"}, "base_version": 1}'
    resp = owner.put(f"/api/p/{pid_of(owner)}/files", body, content_type="application/json")
    assert_error(resp, 413, "protocol.too_large")


def test_claiming_needs_a_signed_in_owner(owner: Client) -> None:
    from django.contrib.auth.models import User

    pid = pid_of(owner)
    assert_error(call(owner, "post", f"/p/{pid}/claim", {}), 401, "auth.required")
    alice = User.objects.create_user("alice")
    owner.force_login(alice)
    resp = call(owner, "post", f"/p/{pid}/claim", {})
    assert resp.status_code == 200 and Playground.objects.get(id=pid).owner_user == alice
    mallory = Client()
    mallory.force_login(User.objects.create_user("mallory"))
    assert_error(call(mallory, "post", f"/p/{pid}/claim", {}), 403, "auth.forbidden")
    # Alice now owns it from any browser where she is signed in, cookie or not.
    elsewhere = Client()
    elsewhere.force_login(alice)
    assert call(elsewhere, "get", f"/api/p/{pid}/revisions").status_code == 200
