from django.urls import path

from playground.socket.consumer import PlaygroundConsumer
from playground.socket.live import LiveConsumer

websocket_urlpatterns = [
    path("ws/p/<str:playground_id>/", PlaygroundConsumer.as_asgi()),
    path("ws/live/<str:presentation_id>/", LiveConsumer.as_asgi()),
]
