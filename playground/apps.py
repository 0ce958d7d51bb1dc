from django.apps import AppConfig


class PlaygroundConfig(AppConfig):
    name = "playground"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Import the heavy modules now, at server start, not inside the first
        # socket's handshake: the openai SDK alone takes 1-2 s to import here.
        from django.conf import settings
        from django.utils.module_loading import import_string

        from playground import edits  # noqa: F401
        from playground.checks import register_checks
        from playground.generations import quotas, service  # noqa: F401

        import_string(str(settings.FLINT_BACKEND["BACKEND"]))
        import_string(str(settings.FLINT_HUB["BACKEND"]))
        # Every FLINT_* setting checked at start-up (manage.py check / runserver).
        register_checks()
