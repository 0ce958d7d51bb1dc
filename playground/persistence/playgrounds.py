"""Playgrounds and their saves. Nothing is ever overwritten: every save adds a Revision.

Plain sync Django ORM code; the socket calls it through ``database_sync_to_async``.
Callers check ownership (persistence/access.py) before every write they make on a
user's behalf; ``playground_claim`` checks it itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from playground.errors import FlintError, ForbiddenError, InvalidInputError, NotFoundError
from playground.models import GenerationRecord, Playground, Revision
from playground.persistence.access import is_owner, ownership_changed
from playground.persistence.files import validate_files
from playground.persistence.ownership import hash_owner_token
from playground.persistence.pending import unrecorded_instruction
from playground.persistence.retry import CONNECTION_ERRORS, once_more_on_lost_connection
from playground.persistence.starters import STARTERS, TEMPLATES


class UnknownTemplateError(InvalidInputError):
    code = "playground.template"


class PlaygroundNotFoundError(NotFoundError):
    code = "playground.not_found"


class NotOwnerError(ForbiddenError):
    pass


class SaveConflictError(FlintError):
    """Someone saved first: ``base_version`` is stale. Carries the server copy."""

    code = "save.conflict"
    status = 409

    def __init__(self, server_version: int, server_files: dict[str, str]) -> None:
        super().__init__(
            "Someone saved this playground first (another tab?); compare and save again.",
            server_version=server_version,
            server_files=server_files,
        )
        self.server_version = server_version
        self.server_files = server_files


class SaveUnavailableError(FlintError):
    """The database connection broke during a save, and again on the one retry."""

    code = "save.unavailable"
    status = 503
    retryable_default = True

    def __init__(self) -> None:
        super().__init__(
            "The database did not answer, so these files are not saved yet; "
            "they are kept here and saved again in a moment."
        )


# Ids are url-safe tokens; anything else (a NUL byte included, which PostgreSQL
# refuses in a query) cannot name a row, so it is "not found" without a query.
ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def plain_text(text: str) -> str:
    return text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL


@dataclass(frozen=True)
class SaveResult:
    version: int  # the playground's version after the call
    saved: bool  # False: the files were already the current ones (no new revision)


def playground_claim(playground_id: str, token: str | None, user: Any) -> Playground:
    """Attach a playground to a signed-in account; the cookie owner must ask."""
    playground = playground_get(playground_id)
    if not user.is_authenticated or not is_owner(playground, token, user):
        raise NotOwnerError("Only the playground's owner can claim it, signed in.")
    if playground.owner_user_id not in (None, user.pk):
        raise NotOwnerError("Another account has already claimed this playground.")
    Playground.objects.filter(id=playground.id).update(owner_user=user)
    ownership_changed(playground.id)  # sockets re-check their cached owner answer
    playground.owner_user = user
    return playground


def playground_create(
    template: str = "web", *, owner_token: str | None = None, owner_user: Any = None
) -> Playground:
    """A new playground from a starter (revision 1). No token = nobody can write.

    ``template`` names a starter (persistence/starters.py): a runtime ("web",
    "python") or a project such as "canvas-game"; the playground keeps its runtime.
    """
    starter = STARTERS.get(template)
    if starter is None:
        raise UnknownTemplateError(
            f"Unknown template {template!r}; choose one of {', '.join(STARTERS)}."
        )
    return playground_create_from_files(
        starter.files,
        template=starter.kind,
        author=Revision.Author.USER,
        owner_token=owner_token,
        owner_user=owner_user,
        title="" if template in TEMPLATES else starter.label,
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
    version, current = current_files(playground_id)
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
                instruction=plain_text(instruction),
            )
            return SaveResult(version=base_version + 1, saved=True)
    raise SaveConflictError(*current_files(playground_id))


def playground_save_generation_aware(
    playground_id: str,
    files: Mapping[str, str],
    *,
    base_version: int,
    author: str,
    generation_id: str | None,
) -> SaveResult:
    """A save from the page: a model save carries its generation's instruction.

    Only a generation of this same playground lends its instruction: the id
    comes from the client, and another playground's record is not its to copy.
    """
    instruction = ""
    if author == "model" and generation_id:
        # Running or just finished here, its record may not be written yet; its entry
        # goes only once the record is committed, so it is asked first.
        pending = unrecorded_instruction(generation_id, playground_id)
        if pending is not None:
            instruction = pending
        else:
            record = GenerationRecord.objects.filter(
                id=generation_id, playground_id=playground_id
            ).first()
            if record is not None:
                instruction = record.instruction
    return playground_save(
        playground_id,
        files,
        base_version=base_version,
        author=author,
        generation_id=generation_id,
        instruction=instruction,
    )


_save_once_more = once_more_on_lost_connection(playground_save_generation_aware)


def playground_save_retrying(
    playground_id: str,
    files: Mapping[str, str],
    *,
    base_version: int,
    author: str,
    generation_id: str | None,
) -> SaveResult:
    """A page's save, tried once more on a new connection if the connection broke.

    The save is a compare-and-swap on ``base_version``, so trying it again is safe:
    rolled back, it lands now; committed just before the connection broke, the files
    are the current ones and the retry answers with the version it made
    (``saved=False``). A second failure raises SaveUnavailableError (retryable): a
    save is never lost without the page hearing of it.
    """
    try:
        return _save_once_more(
            playground_id,
            files,
            base_version=base_version,
            author=author,
            generation_id=generation_id,
        )
    except CONNECTION_ERRORS as exc:
        raise SaveUnavailableError() from exc


save_async = database_sync_to_async(playground_save_retrying)


def playground_get(playground_id: str) -> Playground:
    playground = (
        Playground.objects.filter(id=playground_id).first()
        if ID_SHAPE.fullmatch(playground_id)
        else None
    )
    if playground is None:
        raise PlaygroundNotFoundError(f"No playground has the id {playground_id!r}.")
    return playground


def current_files(playground_id: str) -> tuple[int, dict[str, str]]:
    row = (
        Playground.objects.filter(id=playground_id).values_list("version", "files").first()
        if ID_SHAPE.fullmatch(playground_id)
        else None
    )
    if row is None:
        raise PlaygroundNotFoundError(f"No playground has the id {playground_id!r}.")
    return row


def playgrounds_owned(owner_token: str | None, limit: int = 100) -> list[Playground]:
    """The playgrounds this browser's owner token owns, most recently changed first."""
    if not owner_token:
        return []
    return list(
        Playground.objects.filter(owner_hash=hash_owner_token(owner_token)).order_by("-updated_at")[
            :limit
        ]
    )
