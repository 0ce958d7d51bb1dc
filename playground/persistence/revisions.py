"""A playground's history: every revision, its diff, and restore (as a new revision)."""

from __future__ import annotations

from playground.errors import NotFoundError
from playground.models import Revision
from playground.persistence.diff import FileDiff, files_diff
from playground.persistence.playgrounds import (
    SaveResult,
    current_files,
    playground_get,
    playground_save,
)


class RevisionNotFoundError(NotFoundError):
    code = "revision.not_found"


def revision_list(playground_id: str) -> list[Revision]:
    """Every revision, oldest first (files deferred: the list is for a menu)."""
    playground_get(playground_id)
    return list(Revision.objects.filter(playground_id=playground_id).defer("files"))


def revision_get(playground_id: str, number: int) -> Revision:
    try:
        return Revision.objects.get(playground_id=playground_id, number=number)
    except Revision.DoesNotExist:
        raise RevisionNotFoundError(
            f"Playground {playground_id!r} has no revision {number}."
        ) from None


def revision_diff(playground_id: str, number: int) -> list[FileDiff]:
    """What changed from revision ``number`` to the current files."""
    old = revision_get(playground_id, number).files
    return files_diff(old, current_files(playground_id)[1])


def revision_changes(playground_id: str, number: int) -> list[FileDiff]:
    """What revision ``number`` changed: its files against the revision before it
    (the first revision against no files)."""
    new = revision_get(playground_id, number).files
    if number <= 1:
        return files_diff({}, new)
    try:
        old = revision_get(playground_id, number - 1).files
    except RevisionNotFoundError:
        old = {}
    return files_diff(old, new)


def revision_restore(playground_id: str, number: int, *, base_version: int) -> SaveResult:
    """Make revision ``number``'s files current again, as a NEW revision ("restore")."""
    files = revision_get(playground_id, number).files
    return playground_save(playground_id, files, base_version=base_version, author="restore")
