"""ASGI entry point: HTTP through Django, WebSocket through Channels.

The socket checks the Origin header against an explicit allow-list
(FLINT_ALLOWED_ORIGINS, or the hosts in ALLOWED_HOSTS when that is unset).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flint.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import (  # noqa: E402
    AllowedHostsOriginValidator,
    OriginValidator,
)
from channels.sessions import CookieMiddleware  # noqa: E402
from django.conf import settings  # noqa: E402

from playground.socket.routing import websocket_urlpatterns  # noqa: E402

_ws = CookieMiddleware(URLRouter(websocket_urlpatterns))
_ws = (
    OriginValidator(_ws, settings.FLINT_ALLOWED_ORIGINS)
    if settings.FLINT_ALLOWED_ORIGINS
    else AllowedHostsOriginValidator(_ws)
)

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": _ws})
