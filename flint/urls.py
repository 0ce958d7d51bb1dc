from django.urls import path

from playground import api, views

urlpatterns = [
    path("", views.new_playground, name="new"),
    path("healthz", views.healthz, name="healthz"),
    path("p/<str:playground_id>/", views.playground, name="playground"),
    path("api/p/<str:playground_id>/generate", api.generate, name="api-generate"),
]
