"""Persistence services: revisions, compare-and-swap saves, ownership, generations.

Real database (SQLite by default; PostgreSQL with DATABASE_URL), no mocks.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection

from playground import persistence
from playground.models import GenerationRecord, Playground, Revision
from playground.persistence.files import BadPathError, FilesTooLargeError, TooManyFilesError
from playground.persistence.ownership import hash_owner_token, new_owner_token

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def token() -> str:
    return new_owner_token()


@pytest.fixture
def pg(token: str) -> Playground:
    return persistence.playground_create("python", owner_token=token)


def test_a_new_playground_starts_at_revision_1_with_the_template(pg: Playground) -> None:
    assert pg.version == 1
    (rev,) = persistence.revision_list(pg.id)
    assert (rev.number, rev.author) == (1, "user")
    assert persistence.revision_get(pg.id, 1).files == pg.files


def test_a_save_adds_a_revision_and_moves_the_version_on(pg: Playground) -> None:
    result = persistence.playground_save(
        pg.id,
        {"main.py": "print('é 你好 🎉')\n"},
        base_version=1,
        author="model",
        generation_id="g_1",
        instruction="greet",
    )
    assert result == persistence.SaveResult(version=2, saved=True)
    pg.refresh_from_db()
    assert pg.version == 2 and pg.files == {"main.py": "print('é 你好 🎉')\n"}
    rev = persistence.revision_get(pg.id, 2)
    assert (rev.author, rev.generation_id, rev.instruction) == ("model", "g_1", "greet")


def test_saving_the_current_files_again_is_a_no_op(pg: Playground) -> None:
    assert persistence.playground_save(pg.id, pg.files, base_version=1) == persistence.SaveResult(
        1, False
    )
    assert Revision.objects.filter(playground=pg).count() == 1


def test_a_stale_base_version_gets_a_conflict_carrying_the_server_copy(pg: Playground) -> None:
    persistence.playground_save(pg.id, {"main.py": "a = 1\n"}, base_version=1)
    with pytest.raises(persistence.SaveConflictError) as info:
        persistence.playground_save(pg.id, {"main.py": "b = 2\n"}, base_version=1)
    assert info.value.server_version == 2
    assert info.value.server_files == {"main.py": "a = 1\n"}
    assert Playground.objects.get(id=pg.id).files == {"main.py": "a = 1\n"}


def _race(pid: str, names: tuple[str, ...]) -> dict[str, object]:
    """Save from one thread (one DB connection) per name, all on base version 1."""
    barrier = threading.Barrier(len(names))
    outcomes: dict[str, object] = {}

    def save(name: str) -> None:
        try:
            barrier.wait()
            outcomes[name] = persistence.playground_save(
                pid, {"main.py": f"# {name}\n"}, base_version=1
            )
        except persistence.SaveConflictError as exc:
            outcomes[name] = exc
        finally:
            connection.close()  # the thread's own connection

    threads = [threading.Thread(target=save, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_of_two_concurrent_saves_on_the_same_base_exactly_one_wins(token: str) -> None:
    for round_ in range(5):
        pid = persistence.playground_create("python", owner_token=token).id
        outcomes = _race(pid, ("left", "right"))
        winners = [n for n, o in outcomes.items() if isinstance(o, persistence.SaveResult)]
        losers = [o for o in outcomes.values() if isinstance(o, persistence.SaveConflictError)]
        assert len(winners) == 1 and len(losers) == 1, (round_, outcomes)
        (winner,) = winners
        assert losers[0].server_version == 2
        assert losers[0].server_files == {"main.py": f"# {winner}\n"}
        assert [r.number for r in persistence.revision_list(pid)] == [1, 2]
        assert Playground.objects.get(id=pid).files == {"main.py": f"# {winner}\n"}


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


def test_unknown_revisions_and_playgrounds_are_named_errors(pg: Playground) -> None:
    with pytest.raises(persistence.RevisionNotFoundError):
        persistence.revision_get(pg.id, 9)
    with pytest.raises(persistence.PlaygroundNotFoundError):
        persistence.playground_save("nope", {}, base_version=1)


@pytest.mark.parametrize(
    ("files", "error", "words"),
    [
        ({f"f{i}.py": "" for i in range(51)}, TooManyFilesError, "limit of 50"),
        ({"../evil.py": ""}, BadPathError, "'..'"),
        ({"a/./b.py": ""}, BadPathError, "'.'"),
        ({"/etc/passwd": ""}, BadPathError, "absolute"),
        ({"C:/x.py": ""}, BadPathError, "drive letter"),
        ({"a\\b.py": ""}, BadPathError, "backslash"),
        ({"a\x00b.py": ""}, BadPathError, "NUL"),
        ({"x" * 201: ""}, BadPathError, "200 characters"),
        ({"": ""}, BadPathError, "empty"),
        ({"big.txt": "é" * (1024 * 1024 + 1)}, FilesTooLargeError, "2 MiB"),
    ],
)
def test_files_that_break_the_rules_are_refused_with_a_clear_message(
    pg: Playground, files: dict[str, str], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words[:20].replace(".", r"\.").replace("(", r"\(")):
        persistence.playground_save(pg.id, files, base_version=1)
    assert issubclass(error, ValueError)
    assert Playground.objects.get(id=pg.id).version == 1


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


def test_generation_records_keep_the_instruction_answer_and_outcome(pg: Playground) -> None:
    persistence.generation_begin(pg.id, "g_abc", "make it blue")
    assert GenerationRecord.objects.get(id="g_abc").status == "running"
    persistence.generation_finish("g_abc", "Done: blue.", "stopped", {"tokens": 12})
    record = GenerationRecord.objects.get(id="g_abc")
    assert (record.answer, record.status, record.stats) == (
        "Done: blue.",
        "stopped",
        {"tokens": 12},
    )
    assert record.finished_at is not None and record.playground_id == pg.id
    with pytest.raises(ValueError, match="done, stopped or error"):
        persistence.generation_finish("g_abc", "", "running", {})
    with pytest.raises(persistence.GenerationNotFoundError):
        persistence.generation_finish("g_missing", "", "done", {})


def test_a_revisions_changes_are_against_the_one_before_it(pg: Playground) -> None:
    persistence.playground_save(pg.id, {"main.py": "a = 1\n"}, base_version=1, author="user")
    persistence.playground_save(pg.id, {"main.py": "a = 2\n"}, base_version=2, author="user")
    [first] = persistence.revision_changes(pg.id, 1)
    assert first.status == "added"
    [third] = persistence.revision_changes(pg.id, 3)
    assert "-a = 1\n+a = 2\n" in third.diff
