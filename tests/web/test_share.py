"""Share links: the no-JS page, the embed and its headers, forks, unguessable ids."""

from __future__ import annotations

import pytest
from django.test import Client

from playground import persistence
from playground.models import Playground, Revision
from playground.persistence.ownership import OWNER_COOKIE, new_owner_token

pytestmark = [pytest.mark.django_db]

FILES = {
    "index.html": '<!doctype html><link rel="stylesheet" href="style.css">'
    '<h1>Bonjour 你好 🎉</h1><script src="script.js"></script>',
    "style.css": "h1 { color: rebeccapurple; }\n",
    "script.js": "const answer = 42; // </script> stays inside\n",
}


@pytest.fixture
def token() -> str:
    return new_owner_token()


@pytest.fixture
def pg(token: str) -> Playground:
    pg = persistence.playground_create("web", owner_token=token)
    persistence.playground_save(pg.id, FILES, base_version=1)
    Playground.objects.filter(id=pg.id).update(title="Purple page", description="A demo")
    return Playground.objects.get(id=pg.id)


@pytest.fixture
def share_id(pg: Playground, token: str) -> str:
    return persistence.share_create(pg.id, token).id


def test_only_the_owner_can_create_a_share_link(pg: Playground, token: str) -> None:
    with pytest.raises(persistence.NotOwnerError):
        persistence.share_create(pg.id, new_owner_token())
    link = persistence.share_create(pg.id, token)
    assert len(link.id) >= 22 and link.revision.number == pg.version
    assert persistence.share_create(pg.id, token).id == link.id  # same revision, same link


def test_the_share_page_works_without_javascript(client: Client, share_id: str) -> None:
    resp = client.get(f"/s/{share_id}/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert '<meta property="og:title" content="Purple page">' in html
    assert '<meta property="og:description" content="A demo">' in html
    assert '<meta property="og:type" content="website">' in html
    assert f'<meta property="og:url" content="http://testserver/s/{share_id}/">' in html
    # The code itself is in the HTML, highlighted with Pygments classes.
    assert "rebeccapurple" in html and "answer" in html and "你好 🎉" in html
    assert (
        '<div class="hl"><pre tabindex="0">' in html
        and '<span class="k' in html
        and ".hl .k" in html
    )
    assert f'action="/s/{share_id}/fork"' in html and 'name="csrfmiddlewaretoken"' in html
    assert resp["Referrer-Policy"] == "same-origin"


def test_the_share_preview_is_sandboxed_and_self_contained(client: Client, share_id: str) -> None:
    html = client.get(f"/s/{share_id}/").content.decode()
    assert 'sandbox="allow-scripts"' in html and "allow-same-origin" not in html
    # srcdoc is the page with its stylesheet and script inlined, HTML-escaped.
    assert 'srcdoc="&lt;!doctype html&gt;&lt;style&gt;h1 { color: rebeccapurple; }' in html
    assert "&lt;script&gt;const answer = 42; // &lt;\\/script&gt; stays inside" in html


def test_a_python_share_has_no_preview(client: Client, token: str) -> None:
    pg = persistence.playground_create("python", owner_token=token)
    html = client.get(f"/s/{persistence.share_create(pg.id, token).id}/").content.decode()
    assert "<iframe" not in html and "greet" in html


def test_a_share_link_keeps_showing_the_revision_it_was_made_from(
    client: Client, pg: Playground, share_id: str
) -> None:
    persistence.playground_save(pg.id, {"index.html": "later edit"}, base_version=pg.version)
    html = client.get(f"/s/{share_id}/").content.decode()
    assert "rebeccapurple" in html and "later edit" not in html


def _neighbours(share_id: str) -> list[str]:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    out = []
    for i in (0, len(share_id) - 1):
        for step in (1, -1):
            ch = alphabet[(alphabet.index(share_id[i]) + step) % len(alphabet)]
            out.append(share_id[:i] + ch + share_id[i + 1 :])
    return out


def test_guessing_neighbouring_ids_gets_the_same_404_as_garbage(
    client: Client, share_id: str
) -> None:
    garbage = client.get("/s/not-a-share/")
    assert garbage.status_code == 404
    for guess in [*_neighbours(share_id), share_id[:-1], "%00", "x" * 500, "' OR 1=1 --"]:
        for suffix in ("", "embed"):
            resp = client.get(f"/s/{guess}/{suffix}")
            assert resp.status_code == 404, guess
            assert resp.content == garbage.content, guess
        assert client.post(f"/s/{guess}/fork").content == garbage.content


def test_the_embed_may_be_framed_by_any_site(client: Client, share_id: str) -> None:
    resp = client.get(f"/s/{share_id}/embed")
    assert resp.status_code == 200
    assert "X-Frame-Options" not in resp
    assert "frame-ancestors *" in resp["Content-Security-Policy"]
    html = resp.content.decode()
    assert "rebeccapurple" in html and 'sandbox="allow-scripts"' in html


@pytest.mark.parametrize("embed", [False, True])
def test_shared_code_runs_under_the_live_previews_limits(
    client: Client, share_id: str, embed: bool
) -> None:
    """The srcdoc preview inherits the page's CSP: it must reach nowhere (#12)."""
    resp = client.get(f"/s/{share_id}/" + ("embed" if embed else ""))
    policy = {d.split()[0]: d.split()[1:] for d in resp["Content-Security-Policy"].split("; ")}
    assert policy["default-src"] == ["'none'"] and policy["connect-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'self'"]
    assert "'self'" not in policy["script-src"], "no script of this origin on a share page"
    assert policy["frame-ancestors"] == (["*"] if embed else ["'none'"])


@pytest.mark.parametrize("path", ["/", "/healthz", "/import", "/s/{share}/", "/p/{pg}/"])
def test_every_other_page_refuses_to_be_framed(
    client: Client, pg: Playground, share_id: str, path: str
) -> None:
    resp = client.get(path.format(share=share_id, pg=pg.id))
    assert resp["X-Frame-Options"] == "DENY"
    assert "frame-ancestors *" not in resp.get("Content-Security-Policy", "")


def test_forking_gives_the_forker_an_owned_copy_and_leaves_the_original(
    client: Client, pg: Playground, token: str, share_id: str
) -> None:
    resp = client.post(f"/s/{share_id}/fork")
    assert resp.status_code == 302
    fork_id = resp["Location"].strip("/").split("/")[-1]
    assert resp["Location"] == f"/p/{fork_id}/"
    fork_token = resp.cookies[OWNER_COOKIE].value
    fork = Playground.objects.get(id=fork_id)
    assert fork.files == FILES and fork.title == "Purple page"
    assert Revision.objects.get(playground=fork, number=1).author == "fork"
    assert persistence.is_owner(fork, fork_token) and not persistence.is_owner(fork, token)
    assert not persistence.is_owner(pg, fork_token)

    persistence.playground_save(fork_id, {"index.html": "mine now"}, base_version=1)
    pg_after = Playground.objects.get(id=pg.id)
    assert pg_after.files == FILES and pg_after.version == pg.version
    assert Revision.objects.filter(playground=pg).count() == pg.version


def test_an_owner_forking_keeps_the_cookie_they_have(
    client: Client, token: str, share_id: str
) -> None:
    client.cookies[OWNER_COOKIE] = token
    resp = client.post(f"/s/{share_id}/fork")
    assert OWNER_COOKIE not in resp.cookies
    fork = Playground.objects.get(id=resp["Location"].strip("/").split("/")[-1])
    assert persistence.is_owner(fork, token)


def test_fork_needs_a_post_and_a_csrf_token(share_id: str) -> None:
    assert Client().get(f"/s/{share_id}/fork").status_code == 405
    assert Client(enforce_csrf_checks=True).post(f"/s/{share_id}/fork").status_code == 403
