"""``{% preview_frame_src %}``: the URL the playground page loads its preview frame from."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.http import HttpRequest

from playground.preview.csp import preview_origin, request_origin

register = template.Library()


@register.simple_tag(takes_context=True)
def preview_frame_src(context: template.Context) -> str:
    request: HttpRequest = context["request"]
    query = urlencode({"origin": request_origin(request)})
    return f"{preview_origin(request)}/preview/frame?{query}"
