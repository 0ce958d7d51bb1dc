"""The start page: every starter, and the playgrounds this browser owns ("My playgrounds")."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from playground import persistence
from playground.models import GenerationRecord
from playground.persistence.ownership import request_owner_token
from playground.persistence.starters import STARTERS, TEMPLATE_LABELS


@require_GET
def start_page(request: HttpRequest) -> HttpResponse:
    mine = persistence.playgrounds_owned(request_owner_token(request))
    last_asked = _last_instructions([p.id for p in mine])
    return render(
        request,
        "playground/start.html",
        {
            "starters": {
                kind: [s for s in STARTERS.values() if s.kind == kind] for kind in TEMPLATE_LABELS
            },
            "kinds": TEMPLATE_LABELS,
            "mine": [
                {
                    "id": p.id,
                    "label": p.title or TEMPLATE_LABELS.get(p.template, p.template),
                    "kind": TEMPLATE_LABELS.get(p.template, p.template),
                    "files": len(p.files),
                    "updated_at": p.updated_at,
                    "asked": last_asked.get(p.id, ""),
                }
                for p in mine
            ],
        },
    )


def _last_instructions(ids: list[str]) -> dict[str, str]:
    """Each playground's latest instruction (what it was last about), by one query."""
    out: dict[str, str] = {}
    rows = (
        GenerationRecord.objects.filter(playground_id__in=ids)
        .order_by("playground_id", "-created_at")
        .values_list("playground_id", "instruction")
    )
    for playground_id, instruction in rows:
        out.setdefault(playground_id, instruction)
    return out
