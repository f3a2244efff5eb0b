"""OpenTelemetry tracing: on when OTEL_EXPORTER_OTLP_ENDPOINT names a collector, or with
OTEL_TRACES_EXPORTER=console for a local run; off (and free) otherwise."""

from __future__ import annotations

import os

from fastapi import FastAPI
from opentelemetry import trace


def configure_tracing(app: FastAPI) -> None:
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    console = os.environ.get("OTEL_TRACES_EXPORTER") == "console"
    if not endpoint and not console:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    name = os.environ.get("OTEL_SERVICE_NAME", "dockwise-reference")
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    FastAPIInstrumentor.instrument_app(app)


def current_trace_id() -> str | None:
    """The trace id of the request being served, for the log line; None outside a span."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
