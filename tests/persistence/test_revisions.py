"""History: restore adds a revision, diffs, unknown revisions."""

from __future__ import annotations

import pytest

from playground import persistence
from playground.models import Playground, Revision
from playground.persistence.ownership import new_owner_token

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def token() -> str:
    return new_owner_token()


@pytest.fixture
def pg(token: str) -> Playground:
    return persistence.playground_create("python", owner_token=token)


def test_restoring_an_old_revision_adds_a_new_revision_and_keeps_every_old_one(
    pg: Playground,
) -> None:
    original = dict(pg.files)
    persistence.playground_save(pg.id, {"main.py": "v2\n"}, base_version=1)
    persistence.playground_save(pg.id, {"main.py": "v3\n"}, base_version=2)
    result = persistence.revision_restore(pg.id, 1, base_version=3)
    assert result == persistence.SaveResult(4, True)
    revs = {r.number: r for r in Revision.objects.filter(playground=pg)}
    assert [(n, revs[n].author) for n in sorted(revs)] == [
        (1, "user"),
        (2, "user"),
        (3, "user"),
        (4, "restore"),
    ]
    assert revs[1].files == original == revs[4].files
    assert revs[2].files == {"main.py": "v2\n"} and revs[3].files == {"main.py": "v3\n"}


def test_restoring_with_a_stale_base_is_a_conflict(pg: Playground) -> None:
    persistence.playground_save(pg.id, {"main.py": "v2\n"}, base_version=1)
    with pytest.raises(persistence.SaveConflictError):
        persistence.revision_restore(pg.id, 1, base_version=1)


def test_a_revision_diff_shows_what_changed_since_it(pg: Playground) -> None:
    persistence.playground_save(
        pg.id, {"main.py": "print('new')\n", "util.py": "x = 1\n"}, base_version=1
    )
    diff = {d.path: d for d in persistence.revision_diff(pg.id, 1)}
    assert diff["main.py"].status == "changed" and "+print('new')" in diff["main.py"].diff
    assert diff["util.py"].status == "added" and "+x = 1" in diff["util.py"].diff
    assert persistence.revision_diff(pg.id, 2) == []


def test_a_revisions_changes_are_against_the_one_before_it(pg: Playground) -> None:
    persistence.playground_save(pg.id, {"main.py": "a = 1\n"}, base_version=1, author="user")
    persistence.playground_save(pg.id, {"main.py": "a = 2\n"}, base_version=2, author="user")
    [first] = persistence.revision_changes(pg.id, 1)
    assert first.status == "added"
    [third] = persistence.revision_changes(pg.id, 3)
    assert "-a = 1\n+a = 2\n" in third.diff
