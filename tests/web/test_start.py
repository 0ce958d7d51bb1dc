"""The start page: every starter, and "My playgrounds" for this browser's owner cookie."""

from __future__ import annotations

import pytest
from django.test import Client

from playground import persistence
from playground.models import Playground
from playground.persistence.files import validate_files
from playground.persistence.starters import STARTERS

pytestmark = [pytest.mark.django_db]

NEW_STARTERS = {"canvas-game", "form", "css-animation", "table", "text-adventure", "csv"}


def new(client: Client, template: str) -> Playground:
    resp = client.get(f"/?template={template}")
    assert resp.status_code == 302, resp.content
    return Playground.objects.get(id=resp["Location"].strip("/").split("/")[-1])


def test_at_least_six_starters_beyond_the_blank_ones_and_each_is_a_valid_file_set() -> None:
    assert set(STARTERS) >= NEW_STARTERS | {"web", "python"}
    for starter in STARTERS.values():
        assert starter.kind in ("web", "python")
        validate_files(starter.files)
        text = "\n".join(starter.files.values())
        assert "http://" not in text and "https://" not in text, f"{starter.name} needs the network"
        if starter.kind == "python":
            assert "main.py" in starter.files
        else:
            assert "index.html" in starter.files


@pytest.mark.parametrize("name", sorted(NEW_STARTERS))
def test_a_starter_creates_a_playground_of_its_kind(client: Client, name: str) -> None:
    pg = new(client, name)
    assert pg.template == STARTERS[name].kind
    assert pg.files == STARTERS[name].files
    assert pg.title == STARTERS[name].label


def test_an_unknown_starter_lists_the_names(client: Client) -> None:
    resp = client.get("/?template=tetris")
    assert resp.status_code == 400 and b"canvas-game" in resp.content


def test_the_start_page_lists_starters_and_only_this_browsers_playgrounds(client: Client) -> None:
    empty = client.get("/new")
    assert b'data-testid="my-playgrounds-empty"' in empty.content
    for name in NEW_STARTERS:
        assert f'href="/?template={name}"'.encode() in empty.content
    game = new(client, "canvas-game")
    csv = new(client, "csv")
    persistence.generation_begin(csv.id, "g_x", "average rain per city")
    other = Client()
    theirs = new(other, "web")
    page = client.get("/new").content.decode()
    assert f"/p/{game.id}/" in page and f"/p/{csv.id}/" in page
    assert f"/p/{theirs.id}/" not in page
    assert page.index(f"/p/{csv.id}/") < page.index(f"/p/{game.id}/")  # newest first
    assert "Last asked: average rain per city" in page
    assert f"/p/{theirs.id}/" in other.get("/new").content.decode()
