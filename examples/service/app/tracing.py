"""OpenTelemetry tracing: on when OTEL_EXPORTER_OTLP_ENDPOINT names a collector, or with
OTEL_TRACES_EXPORTER=console for a local run (spans as JSON lines on stdout); off otherwise."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace


def configure_tracing(app: FastAPI, env: Mapping[str, str] | None = None) -> Any:
    """The tracer provider (flush it at shutdown), or None when tracing is off."""
    env = os.environ if env is None else env
    endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    console = env.get("OTEL_TRACES_EXPORTER") == "console"
    if not endpoint and not console:
        return None
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    name = env.get("OTEL_SERVICE_NAME", "notes")
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        exporter = ConsoleSpanExporter(
            out=sys.stdout, formatter=lambda span: span.to_json(indent=None) + "\n"
        )
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
    return provider


def current_trace() -> tuple[str, str] | None:
    """(trace id, span id) of the span being served, for the log line; None outside a span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")
