from django.urls import path

from playground.socket.consumer import PlaygroundConsumer

websocket_urlpatterns = [
    path("ws/p/<str:playground_id>/", PlaygroundConsumer.as_asgi()),
]
