"""Persistence: playgrounds, their full history, generations and share links.

Nothing is overwritten: every save is a new Revision, and ``Playground.files``
is a copy of the latest one (what the editor opens). Operations live in
playground/persistence/.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


def new_playground_id() -> str:
    # 16 url-safe characters = 96 bits: not guessable, short enough for a URL.
    return secrets.token_urlsafe(12)


def new_share_id() -> str:
    # 22 random bytes = 176 bits (30 characters): share ids are bearer capabilities.
    return secrets.token_urlsafe(22)


class Playground(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_playground_id)
    template = models.CharField(max_length=16, default="web")
    title = models.CharField(max_length=200, blank=True, default="")
    description = models.TextField(blank=True, default="")
    files = models.JSONField(default=dict)
    # Number of the latest revision; saves compare-and-swap on it.
    version = models.PositiveIntegerField(default=0)
    # SHA-256 (hex) of the owner's cookie token; empty = nobody can write.
    owner_hash = models.CharField(max_length=64, blank=True, default="")
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="playgrounds",
    )
    # The model chosen in the page ("local:<name>" or "endpoint:<model>"; "" = the
    # server's configured one), and for an endpoint model the endpoint that listed it
    # (playground/inference/catalog.py): a choice made against another endpoint falls
    # back to the default instead of sending the model name somewhere it means nothing.
    model = models.CharField(max_length=300, blank=True, default="")
    model_endpoint = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.title or self.id


class Revision(models.Model):
    class Author(models.TextChoices):
        USER = "user"
        MODEL = "model"
        RESTORE = "restore"
        FORK = "fork"
        IMPORT = "import"

    playground = models.ForeignKey(Playground, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()  # 1, 2, 3, … per playground
    files = models.JSONField()
    author = models.CharField(max_length=8, choices=Author.choices)
    # NULL = not written by a generation (the brief's "nullable"); "" would be a bad id.
    generation_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    instruction = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["playground", "number"]
        constraints = [
            models.UniqueConstraint(fields=["playground", "number"], name="revision_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.playground_id}@{self.number}"


class GenerationRecord(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        STOPPED = "stopped"
        ERROR = "error"

    id = models.CharField(primary_key=True, max_length=64)  # the wire's "g_…" id
    playground = models.ForeignKey(Playground, on_delete=models.CASCADE, related_name="generations")
    instruction = models.TextField()
    answer = models.TextField(blank=True, default="")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    stats = models.JSONField(default=dict)
    # The answer's events, compacted for the transcript after a reload: text runs,
    # steers, each edit's outcome, errors (playground/generations/transcript.py).
    events = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.id


class ShareLink(models.Model):
    """A read-only link to one revision: later saves do not change what it shows."""

    id = models.CharField(primary_key=True, max_length=64, default=new_share_id)
    playground = models.ForeignKey(Playground, on_delete=models.CASCADE, related_name="shares")
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="shares")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.id


class Presentation(models.Model):
    """A live link: viewers follow the owner's editors as they change (playground/live/).

    While it runs, what viewers see lives in the presentation store; when the owner
    ends it, the last state is kept here and the link goes on showing it.
    """

    id = models.CharField(primary_key=True, max_length=64, default=new_share_id)
    playground = models.ForeignKey(
        Playground, on_delete=models.CASCADE, related_name="presentations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    files = models.JSONField(null=True, blank=True)  # the last state, once ended

    def __str__(self) -> str:
        return self.id
