"""Presentations (live links): start, look up, end, fork. Plain sync ORM code.

A presentation's id is a bearer capability, like a share link's. Only the owner
starts or ends one; anyone holding the link may watch it and fork what it shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone

from playground.errors import NotFoundError
from playground.models import Playground, Presentation
from playground.persistence.access import is_owner
from playground.persistence.playgrounds import ID_SHAPE, NotOwnerError, playground_get
from playground.persistence.shares import fork_files


class PresentationNotFoundError(NotFoundError):
    code = "live.not_found"


def presentation_start(playground_id: str, token: str | None, *, user: Any = None) -> Presentation:
    """The playground's running presentation, or a new one (the same link if asked twice)."""
    playground = playground_get(playground_id)
    if not is_owner(playground, token, user):
        raise NotOwnerError("Only the playground's owner can present it.")
    running = presentation_running(playground.id)
    return running or Presentation.objects.create(playground=playground)


def presentation_running(playground_id: str) -> Presentation | None:
    return (
        Presentation.objects.select_related("playground")
        .filter(playground_id=playground_id, ended_at__isnull=True)
        .order_by("-created_at")
        .first()
    )


def presentation_get(presentation_id: str) -> Presentation:
    found = (
        Presentation.objects.select_related("playground").filter(id=presentation_id).first()
        if ID_SHAPE.fullmatch(presentation_id)
        else None
    )
    if found is None:
        raise PresentationNotFoundError("No live link has that id.")
    return found


def presentation_end(
    presentation: Presentation, token: str | None, files: Mapping[str, str], *, user: Any = None
) -> Presentation:
    """End it, keeping ``files`` (what viewers saw last) for the link to go on showing."""
    if not is_owner(presentation.playground, token, user):
        raise NotOwnerError("Only the playground's owner can end its presentation.")
    if presentation.ended_at is None:
        presentation.ended_at = timezone.now()
        presentation.files = dict(files)
        presentation.save(update_fields=["ended_at", "files"])
    return presentation


def presentation_fork(
    presentation: Presentation,
    files: Mapping[str, str],
    owner_token: str,
    *,
    owner_user: Any = None,
) -> Playground:
    """A new playground owned by ``owner_token`` holding ``files`` (what the link shows now)."""
    return fork_files(presentation.playground, files, owner_token, owner_user=owner_user)


presentation_get_async = database_sync_to_async(presentation_get)
presentation_running_async = database_sync_to_async(presentation_running)
