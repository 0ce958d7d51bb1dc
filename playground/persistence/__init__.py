"""Persistence: playgrounds, revisions, share links, generation records, and who may use them.

Plain Django ORM code (sync; the socket calls it through ``database_sync_to_async``).
Nothing is ever overwritten: a save, a restore, a fork and an import each add a
Revision. ``access`` holds the one ownership check used by the socket and by HTTP.
The public operations are re-exported here, named ``<entity>_<action>``.
"""

from playground.persistence.access import (
    Access,
    OwnerCheck,
    access_check,
    access_of,
    is_owner,
    ownership_changed,
    scope_owner_token,
)
from playground.persistence.choice import playground_model_set, playground_model_set_async
from playground.persistence.files import FilesError
from playground.persistence.pending import expect_generation
from playground.persistence.playgrounds import (
    NotOwnerError,
    PlaygroundNotFoundError,
    SaveConflictError,
    SaveResult,
    SaveUnavailableError,
    UnknownTemplateError,
    playground_claim,
    playground_create,
    playground_create_from_files,
    playground_get,
    playground_save,
    playgrounds_owned,
    save_async,
)
from playground.persistence.records import (
    RESTART_NOTE,
    GenerationNotFoundError,
    TurnRecord,
    generation_begin,
    generation_close_interrupted,
    generation_close_interrupted_async,
    generation_died_in_restart,
    generation_died_in_restart_async,
    generation_finish,
    generation_playground,
    generation_playground_async,
    generation_record,
    generations_close_dead,
    records_flushed,
    transcript_records,
)
from playground.persistence.revisions import (
    RevisionNotFoundError,
    revision_changes,
    revision_diff,
    revision_get,
    revision_list,
    revision_restore,
)
from playground.persistence.shares import (
    ShareNotFoundError,
    playground_import,
    share_create,
    share_fork,
    share_get,
)

__all__ = [
    "RESTART_NOTE",
    "Access",
    "FilesError",
    "GenerationNotFoundError",
    "NotOwnerError",
    "OwnerCheck",
    "PlaygroundNotFoundError",
    "RevisionNotFoundError",
    "SaveConflictError",
    "SaveResult",
    "SaveUnavailableError",
    "ShareNotFoundError",
    "TurnRecord",
    "UnknownTemplateError",
    "access_check",
    "access_of",
    "expect_generation",
    "generation_begin",
    "generation_close_interrupted",
    "generation_close_interrupted_async",
    "generation_died_in_restart",
    "generation_died_in_restart_async",
    "generation_finish",
    "generation_playground",
    "generation_playground_async",
    "generation_record",
    "generations_close_dead",
    "is_owner",
    "ownership_changed",
    "playground_claim",
    "playground_create",
    "playground_create_from_files",
    "playground_get",
    "playground_import",
    "playground_model_set",
    "playground_model_set_async",
    "playground_save",
    "playgrounds_owned",
    "records_flushed",
    "revision_changes",
    "revision_diff",
    "revision_get",
    "revision_list",
    "revision_restore",
    "save_async",
    "scope_owner_token",
    "share_create",
    "share_fork",
    "share_get",
    "transcript_records",
]
