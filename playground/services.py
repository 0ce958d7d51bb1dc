"""Playground operations shared by views and the socket."""

from __future__ import annotations

from .models import Playground
from .templates_start import TEMPLATES


class UnknownTemplateError(ValueError):
    pass


def playground_create(template: str = "web") -> Playground:
    if template not in TEMPLATES:
        raise UnknownTemplateError(
            f"Unknown template {template!r}; choose one of {', '.join(TEMPLATES)}."
        )
    return Playground.objects.create(template=template, files=dict(TEMPLATES[template]))
