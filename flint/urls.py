from django.urls import path

from playground.preview.frame import preview_frame
from playground.web import api, history, live, pages, share, start, transfer

urlpatterns = [
    path("", pages.new_playground, name="new"),
    path("healthz", pages.healthz, name="healthz"),
    path("new", start.start_page, name="start"),
    path("import", transfer.import_files, name="import"),
    path("p/<str:playground_id>/", pages.playground, name="playground"),
    path("p/<str:playground_id>/export.zip", transfer.export_zip, name="export"),
    path("p/<str:playground_id>/claim", transfer.claim, name="claim"),
    path("s/<str:share_id>/", share.share_page, name="share"),
    path("s/<str:share_id>/embed", share.share_embed, name="share-embed"),
    path("s/<str:share_id>/fork", share.share_fork, name="share-fork"),
    path("live/<str:presentation_id>/", live.live_page, name="live"),
    path("live/<str:presentation_id>/fork", live.live_fork, name="live-fork"),
    path("api/p/<str:playground_id>/present", live.present_start, name="api-present"),
    path("api/p/<str:playground_id>/present/end", live.present_end, name="api-present-end"),
    path("api/p/<str:playground_id>/generate", api.generate, name="api-generate"),
    path("api/p/<str:playground_id>/files", history.save_files, name="api-files"),
    path("api/p/<str:playground_id>/revisions", history.revisions, name="api-revisions"),
    path(
        "api/p/<str:playground_id>/revisions/<int:number>",
        history.revision,
        name="api-revision",
    ),
    path(
        "api/p/<str:playground_id>/revisions/<int:number>/restore",
        history.restore,
        name="api-revision-restore",
    ),
    path("api/p/<str:playground_id>/share", history.share, name="api-share"),
    # The live preview frame: the sandboxed document user code runs in.
    path("preview/frame", preview_frame, name="preview-frame"),
]
