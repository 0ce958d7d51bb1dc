"""Playground operations shared by views and the socket.

Every function here is plain sync Django ORM code; the socket calls them through
``channels.db.database_sync_to_async``. Nothing is ever overwritten: a save, a
restore, a fork and an import each add a Revision ("Nothing is lost" issue).
Callers check ownership with ``is_owner`` before every write they make on a
user's behalf; ``share_create`` and ``playground_claim`` check it themselves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .filediff import FileDiff, files_diff
from .files import validate_files
from .models import GenerationRecord, Playground, Revision, ShareLink
from .ownership import hash_owner_token, owner_hash_matches
from .templates_start import TEMPLATES


class UnknownTemplateError(ValueError):
    pass


class PlaygroundNotFoundError(LookupError):
    pass


class RevisionNotFoundError(LookupError):
    pass


class ShareNotFoundError(LookupError):
    pass


class GenerationNotFoundError(LookupError):
    pass


class NotOwnerError(PermissionError):
    pass


class SaveConflictError(Exception):
    """Someone saved first: ``base_version`` is stale. Carries the server copy."""

    def __init__(self, server_version: int, server_files: dict[str, str]) -> None:
        super().__init__(
            f"The playground is at version {server_version}; merge with it and save again."
        )
        self.server_version = server_version
        self.server_files = server_files


# Ids are url-safe tokens; anything else (a NUL byte included, which PostgreSQL
# refuses in a query) cannot name a row, so it is "not found" without a query.
_ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _plain_text(text: str) -> str:
    return text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL


@dataclass(frozen=True)
class SaveResult:
    version: int  # the playground's version after the call
    saved: bool  # False: the files were already the current ones (no new revision)


# --- ownership -------------------------------------------------------------------


def is_owner(playground: Playground, token: str | None, user: Any = None) -> bool:
    """True for the holder of the creator's cookie token, or the claiming account."""
    if (
        user is not None
        and user.is_authenticated
        and playground.owner_user_id is not None
        and playground.owner_user_id == user.pk
    ):
        return True
    return owner_hash_matches(playground.owner_hash, token)


def playground_claim(playground_id: str, token: str | None, user: Any) -> Playground:
    """Attach a playground to a signed-in account; the cookie owner must ask."""
    playground = playground_get(playground_id)
    if not user.is_authenticated or not is_owner(playground, token, user):
        raise NotOwnerError("Only the playground's owner can claim it, signed in.")
    if playground.owner_user_id not in (None, user.pk):
        raise NotOwnerError("Another account has already claimed this playground.")
    Playground.objects.filter(id=playground.id).update(owner_user=user)
    playground.owner_user = user
    return playground


# --- playgrounds and revisions ----------------------------------------------------


def playground_create(
    template: str = "web", *, owner_token: str | None = None, owner_user: Any = None
) -> Playground:
    """A new playground from a start template (revision 1). No token = nobody can write."""
    if template not in TEMPLATES:
        raise UnknownTemplateError(
            f"Unknown template {template!r}; choose one of {', '.join(TEMPLATES)}."
        )
    return playground_create_from_files(
        TEMPLATES[template],
        template=template,
        author=Revision.Author.USER,
        owner_token=owner_token,
        owner_user=owner_user,
    )


def playground_create_from_files(
    files: Mapping[str, str],
    *,
    template: str,
    author: str,
    owner_token: str | None,
    owner_user: Any = None,
    title: str = "",
    description: str = "",
) -> Playground:
    files = validate_files(files)
    with transaction.atomic():
        playground = Playground.objects.create(
            template=template,
            title=title[:200],
            description=description,
            files=files,
            version=1,
            owner_hash=hash_owner_token(owner_token) if owner_token else "",
            owner_user=owner_user,
        )
        Revision.objects.create(playground=playground, number=1, files=files, author=author)
    return playground


def playground_save(
    playground_id: str,
    files: Mapping[str, str],
    *,
    base_version: int,
    author: str = "user",
    generation_id: str | None = None,
    instruction: str = "",
) -> SaveResult:
    """Save ``files`` as the next revision if the playground is still at ``base_version``.

    Raises FilesError (a ValueError) for files that break the rules,
    PlaygroundNotFoundError, or SaveConflictError when another save won.
    Saving the current files again is a no-op returning the current version.
    """
    files = validate_files(files)
    if author not in Revision.Author.values:
        raise ValueError(f"Unknown revision author {author!r}.")
    version, current = _current(playground_id)
    if current == files:
        return SaveResult(version=version, saved=False)
    with transaction.atomic():
        # One conditional UPDATE is the compare-and-swap on every backend: on
        # PostgreSQL the loser's UPDATE waits for the row lock and then finds
        # the version changed; SQLite serialises writers. Exactly one wins.
        won = Playground.objects.filter(id=playground_id, version=base_version).update(
            version=F("version") + 1, files=files, updated_at=timezone.now()
        )
        if won:
            Revision.objects.create(
                playground_id=playground_id,
                number=base_version + 1,
                files=files,
                author=author,
                generation_id=generation_id,
                instruction=_plain_text(instruction),
            )
            return SaveResult(version=base_version + 1, saved=True)
    raise SaveConflictError(*_current(playground_id))


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
    return files_diff(old, _current(playground_id)[1])


def revision_restore(playground_id: str, number: int, *, base_version: int) -> SaveResult:
    """Make revision ``number``'s files current again, as a NEW revision ("restore")."""
    files = revision_get(playground_id, number).files
    return playground_save(playground_id, files, base_version=base_version, author="restore")


def playground_get(playground_id: str) -> Playground:
    playground = (
        Playground.objects.filter(id=playground_id).first()
        if _ID_SHAPE.fullmatch(playground_id)
        else None
    )
    if playground is None:
        raise PlaygroundNotFoundError(f"No playground has the id {playground_id!r}.")
    return playground


def _current(playground_id: str) -> tuple[int, dict[str, str]]:
    row = (
        Playground.objects.filter(id=playground_id).values_list("version", "files").first()
        if _ID_SHAPE.fullmatch(playground_id)
        else None
    )
    if row is None:
        raise PlaygroundNotFoundError(f"No playground has the id {playground_id!r}.")
    return row


# --- generations ------------------------------------------------------------------


def generation_begin(playground_id: str, gen_id: str, instruction: str) -> GenerationRecord:
    return GenerationRecord.objects.create(
        id=gen_id, playground_id=playground_id, instruction=_plain_text(instruction)
    )


def generation_finish(gen_id: str, answer: str, status: str, stats: dict[str, Any]) -> None:
    """Record how a generation ended; ``status`` is "done", "stopped" or "error"."""
    if status not in GenerationRecord.Status.values or status == "running":
        raise ValueError(
            f"A finished generation's status is done, stopped or error, not {status!r}."
        )
    updated = GenerationRecord.objects.filter(id=gen_id).update(
        answer=_plain_text(answer), status=status, stats=stats, finished_at=timezone.now()
    )
    if not updated:
        raise GenerationNotFoundError(f"No generation record has the id {gen_id!r}.")


# --- sharing, forks, imports -------------------------------------------------------


def share_create(playground_id: str, token: str | None, *, user: Any = None) -> ShareLink:
    """A read-only link to the current revision (the same link if asked twice)."""
    playground = playground_get(playground_id)
    if not is_owner(playground, token, user):
        raise NotOwnerError("Only the playground's owner can share it.")
    revision = Revision.objects.get(playground=playground, number=playground.version)
    link = ShareLink.objects.filter(revision=revision).first()
    return link or ShareLink.objects.create(playground=playground, revision=revision)


def share_get(share_id: str) -> ShareLink:
    link = (
        ShareLink.objects.select_related("playground", "revision").filter(id=share_id).first()
        if _ID_SHAPE.fullmatch(share_id)
        else None
    )
    if link is None:
        raise ShareNotFoundError("No share link has that id.")
    return link


def share_fork(share_id: str, owner_token: str, *, owner_user: Any = None) -> Playground:
    """A new playground owned by ``owner_token`` from the shared revision; the original stays."""
    link = share_get(share_id)
    source = link.playground
    return playground_create_from_files(
        link.revision.files,
        template=source.template,
        author=Revision.Author.FORK,
        owner_token=owner_token,
        owner_user=owner_user,
        title=source.title,
        description=source.description,
    )


def playground_import(files: Mapping[str, str], owner_token: str, *, title: str = "") -> Playground:
    """A new playground from uploaded files (author "import")."""
    is_python = any(p.endswith(".py") for p in files) and not any(
        p.endswith((".html", ".htm")) for p in files
    )
    return playground_create_from_files(
        files,
        template="python" if is_python else "web",
        author=Revision.Author.IMPORT,
        owner_token=owner_token,
        title=title,
    )
