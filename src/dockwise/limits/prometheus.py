"""Read a Kubernetes workload's usage from Prometheus (cAdvisor and kube-state-metrics).

Selection: the pods of `workload` in `namespace` are those named as Kubernetes names a
workload's pods: `WORKLOAD-HASH-XXXXX` (Deployment), `WORKLOAD-XXXXX` (DaemonSet, Job) or
`WORKLOAD-N` (StatefulSet); `container` picks one container (all of them when None; the
pod-level `POD` and "" series are never taken). Replicas are one series: the largest pod at
each step, since every replica gets the same limit.

Queries (`/api/v1/query_range`, split in chunks of at most 10,000 steps):
- memory: `container_memory_working_set_bytes` (cAdvisor, what the kubelet evicts and the
  OOM killer acts on);
- CPU: `rate(container_cpu_usage_seconds_total[W])`, W = max(2 x step, 5m) unless given
  (`rate` already takes counter resets, i.e. restarts, into account);
- restarts: increases of `kube_pod_container_status_restarts_total`; an increase while
  `kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}` is 1 is an OOM
  kill, with the pod's `kube_pod_container_resource_limits{resource="memory"}` in force;
- limits: the last `kube_pod_container_resource_limits` (memory, cpu), else cAdvisor's
  `container_spec_memory_limit_bytes`.
kube-state-metrics is optional: without it OOM kills and restarts are unknown (said).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dockwise.limits.errors import LimitsError
from dockwise.limits.series import UsageSeries

if TYPE_CHECKING:
    import httpx

_MAX_STEPS = 10_000  # Prometheus refuses more than 11,000 points per series
_POD_SUFFIX = r"(([bcdfghjklmnpqrstvwxz2456789]{1,10}-)?[bcdfghjklmnpqrstvwxz2456789]{5}|[0-9]+)"
Labels = tuple[tuple[str, str], ...]
Points = dict[float, float]


def _string(value: str) -> str:
    """A PromQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _selector(namespace: str, workload: str, container: str | None, *, cadvisor: bool) -> str:
    parts = [
        f"namespace={_string(namespace)}",
        f"pod=~{_string(re.escape(workload) + '-' + _POD_SUFFIX)}",
    ]
    if container is not None:
        parts.append(f"container={_string(container)}")
    elif cadvisor:
        parts += ['container!=""', 'container!="POD"']
    return ",".join(parts)


def _redacted(url: str) -> str:
    """The URL without its credentials (`http://user:secret@host` -> `http://***@host`)."""
    return re.sub(r"^((?:[a-z][a-z0-9+.-]*://)?)[^/@]*@", r"\1***@", url, flags=re.I)


def _when(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")


class _Prometheus:
    """One Prometheus server's query API, with one-line errors."""

    def __init__(self, client: httpx.Client, url: str, timeout: float) -> None:
        self.client, self.url, self.timeout = client, url, timeout
        self.shown = _redacted(url)
        self.bad_values = 0

    def _get(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        import httpx

        try:
            answer = self.client.get(self.url + path, params=params)
        except httpx.TimeoutException:
            raise LimitsError(
                f"Prometheus at {self.shown} did not answer within {self.timeout:g}s"
            ) from None
        except httpx.HTTPError as error:
            reason = str(error).split("\n")[0].replace(self.url, self.shown)
            reason = reason or type(error).__name__
            raise LimitsError(f"cannot reach Prometheus at {self.shown}: {reason}") from None
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if answer.status_code != 200:
                raise LimitsError(
                    f"Prometheus at {self.shown} answered HTTP {answer.status_code} "
                    "(is this the Prometheus server's base URL?)"
                )
            raise LimitsError(
                f"{self.shown} did not answer as Prometheus does (no JSON): is this the "
                "Prometheus server's base URL, e.g. http://prometheus:9090?"
            )
        if body.get("status") != "success":
            said = " ".join(str(body.get("error") or "no error given").split())[:300]
            raise LimitsError(
                f"Prometheus at {self.shown} answered {answer.status_code} "
                f"({body.get('errorType', 'error')}): {said}"
            )
        data = body.get("data")
        result = data.get("result") if isinstance(data, dict) else None
        if not isinstance(result, list):
            raise LimitsError(f"Prometheus at {self.shown} answered without a result list")
        return [item for item in result if isinstance(item, dict)]

    def _value(self, raw: Any) -> tuple[float, float] | None:
        try:
            moment, text = float(raw[0]), float(raw[1])
        except (TypeError, ValueError, IndexError):
            self.bad_values += 1
            return None
        if not math.isfinite(text) or text < 0:
            self.bad_values += not math.isnan(text)
            return moment, math.nan
        return moment, text

    def range(self, query: str, start: float, end: float, step: float) -> dict[Labels, Points]:
        """Every series of a range query, by label set, chunked to Prometheus' limit."""
        found: dict[Labels, Points] = {}
        chunk_start = start
        while chunk_start <= end:
            chunk_end = min(end, chunk_start + step * (_MAX_STEPS - 1))
            params = {
                "query": query,
                "start": f"{chunk_start:.3f}",
                "end": f"{chunk_end:.3f}",
                "step": f"{step:g}",
            }
            for item in self._get("/api/v1/query_range", params):
                metric = item.get("metric")
                labels = tuple(sorted((metric or {}).items())) if isinstance(metric, dict) else ()
                points = found.setdefault(labels, {})
                for raw in item.get("values") or ():
                    value = self._value(raw)
                    if value is not None:
                        points[value[0]] = value[1]
            chunk_start = chunk_end + step
        return found

    def instant(self, query: str, at: float) -> list[Labels]:
        result = self._get("/api/v1/query", {"query": query, "time": f"{at:.3f}"})
        return [tuple(sorted((item.get("metric") or {}).items())) for item in result]


def _label(labels: Labels, name: str) -> str:
    return dict(labels).get(name, "")


def _by(found: dict[Labels, Points], *names: str) -> dict[tuple[str, ...], Points]:
    return {tuple(_label(labels, n) for n in names): points for labels, points in found.items()}


def query_prometheus(
    url: str,
    *,
    namespace: str,
    workload: str,
    container: str | None = None,
    start: float,
    end: float,
    step: float = 60.0,
    rate_window: float | None = None,
    timeout: float = 10.0,
) -> list[UsageSeries]:
    """One usage series per container of the workload, from `start` to `end` (unix seconds)."""
    import httpx

    if not url.startswith(("http://", "https://")):
        raise LimitsError(
            f"the Prometheus URL must start with http:// or https://, not {_redacted(url)!r}"
        )
    if not (step > 0 and math.isfinite(step)):
        raise LimitsError(f"the query step must be positive, not {step}")
    if not (end > start):
        raise LimitsError(f"the window is empty: it ends ({_when(end)}) before it starts")
    for what, value in (("namespace", namespace), ("workload", workload)):
        if not value:
            raise LimitsError(f"a {what} is needed to select the workload in Prometheus")
    if rate_window is not None and not (rate_window >= 1 and math.isfinite(rate_window)):
        raise LimitsError(f"the rate window must be at least 1s, not {rate_window}")
    base = url.rstrip("/").removesuffix("/api/v1")
    window = rate_window or max(2 * step, 300.0)
    cadvisor = _selector(namespace, workload, container, cadvisor=True)
    ksm = _selector(namespace, workload, container, cadvisor=False)
    with httpx.Client(timeout=timeout) as client:
        prom = _Prometheus(client, base, timeout)
        memory = _by(
            prom.range(
                f"max by (container) (container_memory_working_set_bytes{{{cadvisor}}})",
                start,
                end,
                step,
            ),
            "container",
        )
        if not memory:
            raise LimitsError(_nothing_found(prom, namespace, workload, container, start, end))
        cpu = _by(
            prom.range(
                f"max by (container) (rate(container_cpu_usage_seconds_total{{{cadvisor}}}"
                f"[{window:.0f}s]))",
                start,
                end,
                step,
            ),
            "container",
        )
        restarts = _by(
            prom.range(f"kube_pod_container_status_restarts_total{{{ksm}}}", start, end, step),
            "pod",
            "container",
        )
        oom = _by(
            prom.range(
                f'kube_pod_container_status_last_terminated_reason{{{ksm},reason="OOMKilled"}}',
                start,
                end,
                step,
            ),
            "pod",
            "container",
        )
        limits = _by(
            prom.range(
                f'kube_pod_container_resource_limits{{{ksm},resource=~"memory|cpu"}}',
                start,
                end,
                step,
            ),
            "pod",
            "container",
            "resource",
        )
        spec_limits: dict[tuple[str, ...], Points] = {}
        if not limits:
            spec_limits = _by(
                prom.range(
                    f"max by (container) (container_spec_memory_limit_bytes{{{cadvisor}}})",
                    start,
                    end,
                    step,
                ),
                "container",
            )
    series = []
    for (name,), memory_points in sorted(memory.items()):
        series.append(
            _series(
                f"{namespace}/{workload}/{name}",
                name,
                memory_points,
                cpu.get((name,), {}),
                restarts,
                oom,
                limits,
                spec_limits.get((name,), {}),
                prom.bad_values,
            )
        )
    return series


def _nothing_found(
    prom: _Prometheus,
    namespace: str,
    workload: str,
    container: str | None,
    start: float,
    end: float,
) -> str:
    """Why the selection found nothing, and what is there instead."""
    span = f"{max(int(end - start), 1)}s"
    wanted = f"workload {workload!r}" + (f" container {container!r}" if container else "")
    between = f"between {_when(start)} and {_when(end)}"
    there = prom.instant(
        "group by (pod, container) (last_over_time(container_memory_working_set_bytes"
        f'{{namespace={_string(namespace)},container!="",container!="POD"}}[{span}]))',
        end,
    )
    if there:
        seen = sorted(
            {f"{_label(labels, 'pod')}/{_label(labels, 'container')}" for labels in there}
        )
        listed = ", ".join(seen[:8]) + (f" and {len(seen) - 8} more" if len(seen) > 8 else "")
        return (
            f"no memory series for {wanted} in namespace {namespace!r} {between}; "
            f"pod/container there: {listed}"
        )
    anywhere = prom.instant(
        f"group by (namespace) (last_over_time(container_memory_working_set_bytes[{span}]))", end
    )
    if anywhere:
        names = sorted({_label(labels, "namespace") for labels in anywhere})
        listed = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        return f"no memory series in namespace {namespace!r} {between}; namespaces there: {listed}"
    return (
        f"Prometheus at {prom.shown} has no container_memory_working_set_bytes {between}: "
        "is cAdvisor (the kubelet's /metrics/cadvisor) scraped?"
    )


def _increases(points: Points) -> Iterable[tuple[float, float]]:
    """(time, growth) of a counter at each step it grew; a drop is a reset to zero."""
    ordered = sorted((t, v) for t, v in points.items() if not math.isnan(v))
    for (_, before), (moment, after) in zip(ordered, ordered[1:], strict=False):
        grown = after - before if after >= before else after
        if grown > 0:
            yield moment, grown


def _at(points: Points, moment: float) -> float:
    """The value at a step, else the latest before it."""
    if moment in points:
        return points[moment]
    earlier = [t for t in points if t <= moment]
    return points[max(earlier)] if earlier else math.nan


def _series(
    label: str,
    name: str,
    memory: Points,
    cpu: Points,
    restarts_by_pod: dict[tuple[str, ...], Points],
    oom_by_pod: dict[tuple[str, ...], Points],
    limits_by_pod: dict[tuple[str, ...], Points],
    spec_limit: Points,
    bad_values: int,
) -> UsageSeries:
    warnings: list[str] = []
    times = sorted(set(memory) | set(cpu))
    restarts = oom_kills = 0
    oom_limit: int | None = None
    mine = [key for key in restarts_by_pod if key[1] == name]
    for key in mine:
        pod = key[0]
        for moment, grown in _increases(restarts_by_pod[key]):
            restarts += int(grown)
            # the same scrape says why it restarted (a stale reason is no reason)
            if oom_by_pod.get((pod, name), {}).get(moment) == 1:
                oom_kills += int(grown)
                limit = _at(limits_by_pod.get((pod, name, "memory"), {}), moment)
                if not math.isnan(limit) and limit > 0:
                    oom_limit = max(oom_limit or 0, int(limit))
    if not mine:
        before = [
            key[0] for key, points in oom_by_pod.items() if key[1] == name and 1 in points.values()
        ]
        if before:
            warnings.append(
                f"{label}: the last termination of {len(before)} pod(s) was an OOM kill "
                "(kube-state-metrics gives no restart count to date it)"
            )
        else:
            warnings.append(
                f"{label}: no kube-state-metrics series: OOM kills and restarts unknown"
            )
    memory_limit = _last(limits_by_pod, name, "memory")
    cpu_limit = _last(limits_by_pod, name, "cpu")
    if memory_limit is None and spec_limit:
        last = _at(spec_limit, max(spec_limit))
        if not math.isnan(last) and 0 < last < 2**60:
            memory_limit = last  # cAdvisor: 0 means no limit
    if bad_values:
        warnings.append(f"{label}: {bad_values} negative or unreadable value(s) left out")
    if len(times) == 1:
        warnings.append(f"{label}: a single sample, no series to speak of")
    return UsageSeries(
        container=label,
        source="prometheus",
        times=tuple(times),
        memory_bytes=tuple(memory.get(t, math.nan) for t in times),
        cpu_cores=tuple(cpu.get(t, math.nan) for t in times),
        oom_kills=oom_kills,
        oom_limit_bytes=oom_limit,
        restarts=restarts,
        memory_limit_bytes=int(memory_limit) if memory_limit is not None else None,
        cpu_limit_cores=cpu_limit,
        warnings=tuple(warnings),
    )


def _last(limits_by_pod: dict[tuple[str, ...], Points], name: str, resource: str) -> float | None:
    """The limit in force at the end: the latest value over the container's pods."""
    latest: tuple[float, float] | None = None
    for (_, container, kind), points in limits_by_pod.items():
        if container != name or kind != resource:
            continue
        for moment, value in points.items():
            if not math.isnan(value) and (latest is None or moment >= latest[0]):
                latest = (
                    moment,
                    max(value, latest[1]) if latest and moment == latest[0] else value,
                )
    return latest[1] if latest and latest[1] > 0 else None
