"""Ownership: the creator's token, no-token playgrounds, signed-in claims."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from playground import persistence
from playground.models import Playground
from playground.persistence.ownership import hash_owner_token, new_owner_token

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def token() -> str:
    return new_owner_token()


@pytest.fixture
def pg(token: str) -> Playground:
    return persistence.playground_create("python", owner_token=token)


def test_only_the_creator_token_owns_and_only_its_hash_is_stored(
    pg: Playground, token: str
) -> None:
    assert persistence.is_owner(pg, token)
    assert not persistence.is_owner(pg, new_owner_token())
    assert not persistence.is_owner(pg, None)
    assert not persistence.is_owner(pg, "")
    assert pg.owner_hash == hash_owner_token(token) and token not in pg.owner_hash


def test_a_playground_made_without_a_token_has_no_owner() -> None:
    pg = persistence.playground_create("web")
    assert pg.owner_hash == ""
    assert not persistence.is_owner(pg, new_owner_token())


def test_a_signed_in_owner_can_claim_and_then_owns_without_the_cookie(
    pg: Playground, token: str
) -> None:
    alice = User.objects.create_user("alice")
    persistence.playground_claim(pg.id, token, alice)
    pg.refresh_from_db()
    assert persistence.is_owner(pg, None, alice)
    mallory = User.objects.create_user("mallory")
    with pytest.raises(persistence.NotOwnerError):
        persistence.playground_claim(pg.id, None, mallory)
