from django.urls import path

from playground.web import api
from playground.web import history as api_history
from playground.web import pages as views
from playground.web import share as views_share
from playground.web import transfer as views_transfer

urlpatterns = [
    path("", views.new_playground, name="new"),
    path("healthz", views.healthz, name="healthz"),
    path("import", views_transfer.import_files, name="import"),
    path("p/<str:playground_id>/", views.playground, name="playground"),
    path("p/<str:playground_id>/export.zip", views_transfer.export_zip, name="export"),
    path("p/<str:playground_id>/claim", views_transfer.claim, name="claim"),
    path("s/<str:share_id>/", views_share.share_page, name="share"),
    path("s/<str:share_id>/embed", views_share.share_embed, name="share-embed"),
    path("s/<str:share_id>/fork", views_share.share_fork, name="share-fork"),
    path("api/p/<str:playground_id>/generate", api.generate, name="api-generate"),
    path("api/p/<str:playground_id>/files", api_history.save_files, name="api-files"),
    path("api/p/<str:playground_id>/revisions", api_history.revisions, name="api-revisions"),
    path(
        "api/p/<str:playground_id>/revisions/<int:number>",
        api_history.revision,
        name="api-revision",
    ),
    path(
        "api/p/<str:playground_id>/revisions/<int:number>/restore",
        api_history.restore,
        name="api-revision-restore",
    ),
    path("api/p/<str:playground_id>/share", api_history.share, name="api-share"),
]

# Live preview frame (the sandboxed document user code runs in).
from playground.preview.frame import preview_frame  # noqa: E402

urlpatterns += [path("preview/frame", preview_frame, name="preview-frame")]
