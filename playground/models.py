"""Persistence: playgrounds (more in services.py)."""

from __future__ import annotations

import secrets

from django.db import models


def new_playground_id() -> str:
    # 16 url-safe characters = 96 bits: not guessable, short enough for a URL.
    return secrets.token_urlsafe(12)


class Playground(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_playground_id)
    template = models.CharField(max_length=16, default="web")
    title = models.CharField(max_length=200, blank=True, default="")
    files = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.title or self.id
