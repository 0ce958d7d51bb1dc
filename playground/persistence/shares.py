"""Share links (read-only, unguessable), forks and imports: each makes or shows a revision."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from playground.errors import NotFoundError
from playground.models import Playground, Revision, ShareLink
from playground.persistence.access import is_owner
from playground.persistence.playgrounds import (
    ID_SHAPE,
    NotOwnerError,
    playground_create_from_files,
    playground_get,
)


class ShareNotFoundError(NotFoundError):
    code = "share.not_found"


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
        if ID_SHAPE.fullmatch(share_id)
        else None
    )
    if link is None:
        raise ShareNotFoundError("No share link has that id.")
    return link


def share_fork(share_id: str, owner_token: str, *, owner_user: Any = None) -> Playground:
    """A new playground owned by ``owner_token`` from the shared revision; the original stays."""
    link = share_get(share_id)
    return fork_files(link.playground, link.revision.files, owner_token, owner_user=owner_user)


def fork_files(
    source: Playground, files: Mapping[str, str], owner_token: str, *, owner_user: Any = None
) -> Playground:
    """A new playground of ``owner_token``'s holding ``files``, titled like ``source``."""
    return playground_create_from_files(
        files,
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
