"""Playgrounds and their saves: revisions, compare-and-swap, the save rules."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from playground import persistence
from playground.models import Playground, Revision
from playground.persistence.files import BadPathError, FilesTooLargeError, TooManyFilesError
from playground.persistence.ownership import new_owner_token

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
