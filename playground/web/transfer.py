"""Moving files in and out: export as .zip, import a .zip or files, claim.

Import is for browsers with or without JavaScript: a form posts here and is
redirected to the new playground; a client that asks for JSON gets JSON and
the one error shape.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from playground import persistence
from playground.models import Playground
from playground.persistence.ownership import (
    ensure_owner_token,
    request_owner_token,
    set_owner_cookie,
)
from playground.persistence.zipio import ZipImportError, files_from_upload, files_to_zip
from playground.protocol import MAX_FILES
from playground.web.access import json_error, owner_required, require_json


@require_GET
@owner_required
def export_zip(request: HttpRequest, playground: Playground) -> HttpResponse:
    name = f"{slugify(playground.title) or 'flint-' + playground.id}.zip"
    return HttpResponse(
        files_to_zip(playground.files),
        content_type="application/zip",
        headers={"Content-Disposition": content_disposition_header(True, name)},
    )


def import_files(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _import_form(request)
    if request.method != "POST":
        return json_error(405, "http.method", "Use POST with a multipart upload.")
    limit = settings.FLINT_IMPORT_MAX_BYTES
    # Refuse before Django reads (and buffers) the body.
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
        return _import_error(request, 413, f"The upload is over {limit} bytes; make it smaller.")
    try:
        uploads = request.FILES.getlist("files") + request.FILES.getlist("file")
    except TooManyFilesSent:
        return _import_error(request, 400, f"Too many files; the limit is {MAX_FILES}.")
    except RequestDataTooBig:
        return _import_error(request, 413, f"The upload is over {limit} bytes; make it smaller.")
    try:
        files = files_from_upload([(u.name or "", u.read(limit + 1)) for u in uploads])
    except ZipImportError as exc:
        return _import_error(request, 400, str(exc))
    token, is_new = ensure_owner_token(request)
    title = PurePosixPath(uploads[0].name or "").stem if len(uploads) == 1 else ""
    playground = persistence.playground_import(files, token, title=title)
    url = reverse("playground", args=[playground.id])
    if _wants_json(request):
        response: HttpResponse = JsonResponse(
            {"id": playground.id, "url": request.build_absolute_uri(url)}, status=201
        )
    else:
        response = redirect(url)
    if is_new:
        set_owner_cookie(request, response, token)
    return response


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _import_form(request: HttpRequest, error: str = "", status: int = 200) -> HttpResponse:
    context = {"error": error, "max_files": MAX_FILES}
    return render(request, "share/import.html", context, status=status)


def _import_error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if _wants_json(request):
        code = "import.too_large" if status == 413 else "import.rejected"
        return json_error(status, code, message)
    return _import_form(request, message, status)


# JSON only (a cross-site form cannot send it), so no CSRF token is needed.
@csrf_exempt
def claim(request: HttpRequest, playground_id: str) -> HttpResponse:
    if request.method != "POST":
        return json_error(405, "http.method", "Use POST.")
    if (refused := require_json(request)) is not None:
        return refused
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return json_error(401, "auth.required", "Sign in first, then claim the playground.")
    try:
        persistence.playground_claim(playground_id, request_owner_token(request), user)
    except persistence.PlaygroundNotFoundError:
        return json_error(404, "playground.not_found", "No playground has that id.")
    except persistence.NotOwnerError as exc:
        return json_error(403, "auth.forbidden", str(exc))
    return JsonResponse({"id": playground_id, "owner_user": user.pk})
