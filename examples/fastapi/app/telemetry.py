"""Telemetry hook applied when the server starts (app/asgi.py). Off in this sample: no exporter."""


def instrument(app):
    return app
