"""Broken variant "missing-module" (the FastAPI build report's failure): telemetry exports over OTLP,
but only the OpenTelemetry API made it into the image, not the exporter package. The tests never import
this module; gunicorn's workers do, die with ModuleNotFoundError, and gunicorn exits with code 3."""

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter


def instrument(app):
    app.state.span_exporter = OTLPSpanExporter()
    return app
