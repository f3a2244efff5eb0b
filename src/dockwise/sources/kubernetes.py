"""Kubernetes manifests: workloads and their containers, with a source line on every value.

Multi-document YAML (plain files, `helm template` output, Kustomize bases and overlays as
plain files). Every workload kind (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job, CronJob) becomes a `Workload` with its pod-level settings and
its containers (init containers marked). Other kinds are kept by name only; unknown kinds
and CRDs are skipped quietly. A loader: it never judges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from msgspec import Struct
from msgspec.structs import replace

from dockwise.digits import is_digits, small_int
from dockwise.sources.templates import template_marker
from dockwise.sources.yamlload import (
    Map,
    Node,
    Scalar,
    Seq,
    YamlProblem,
    YamlReadError,
    load_yaml,
    read_text,
)

WORKLOAD_KINDS = frozenset(
    {
        "Pod",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "CronJob",
    }
)
BATCH_KINDS = frozenset({"Job", "CronJob"})


class Probe(Struct, frozen=True):
    kind: str  # liveness, readiness, startup
    handler: str | None  # httpGet, tcpSocket, exec, grpc
    line: int
    path: str | None = None
    port: int | str | None = None  # a number or a named container port
    command: tuple[str, ...] = ()
    initial_delay: int | None = None
    period: int | None = None
    timeout: int | None = None
    failure_threshold: int | None = None


class EnvVar(Struct, frozen=True):
    name: str
    line: int
    value: str | None = None  # a literal `value:`
    source: str = "value"  # value, secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef


class Quantity(Struct, frozen=True):
    text: str
    value: float | None  # bytes for memory, cores for cpu; None when unreadable
    line: int


class Resources(Struct, frozen=True):
    line: int | None = None
    requests_memory: Quantity | None = None
    requests_cpu: Quantity | None = None
    limits_memory: Quantity | None = None
    limits_cpu: Quantity | None = None
    # extended resources of devices (`nvidia.com/gpu: 8`, `google.com/tpu: 4`): the most
    # of each asked in requests or limits
    accelerators: tuple[tuple[str, int], ...] = ()


class SecurityContext(Struct, frozen=True):
    line: int | None = None
    run_as_non_root: bool | None = None
    run_as_user: int | None = None
    read_only_root_filesystem: bool | None = None
    allow_privilege_escalation: bool | None = None
    privileged: bool | None = None
    capabilities_add: tuple[str, ...] = ()
    key_lines: tuple[tuple[str, int], ...] = ()  # (key, line) of every key written

    def line_of(self, key: str) -> int | None:
        """The line where `key` (runAsNonRoot, privileged...) is written, if it is."""
        return next((line for name, line in self.key_lines if name == key), None)


class PreStop(Struct, frozen=True):
    """A container's `lifecycle.preStop` hook; `seconds` when it only sleeps a known time
    (`exec: [sleep, 5]`, `sleep: {seconds: 5}`)."""

    line: int
    seconds: float | None = None


class ContainerPort(Struct, frozen=True):
    number: int | None
    name: str | None
    line: int


class Container(Struct, frozen=True):
    name: str
    line: int
    image: str | None
    image_line: int
    init: bool = False
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    ports: tuple[ContainerPort, ...] = ()
    probes: tuple[Probe, ...] = ()
    env: tuple[EnvVar, ...] = ()
    env_from_secrets: tuple[str, ...] = ()
    resources: Resources = Resources()
    security: SecurityContext = SecurityContext()
    secret_mounts: tuple[str, ...] = ()  # mount paths of volumes backed by a Secret
    pre_stop: PreStop | None = None

    def probe(self, kind: str) -> Probe | None:
        for probe in self.probes:
            if probe.kind == kind:
                return probe
        return None


class Workload(Struct, frozen=True):
    kind: str
    name: str
    namespace: str | None
    path: str
    line: int
    containers: tuple[Container, ...]
    pod_security: SecurityContext = SecurityContext()
    termination_grace_period: int | None = None
    grace_line: int | None = None
    # an apps/v1 controller without `spec.selector` is not a whole object: a Kustomize
    # strategic-merge patch, whose other fields come from the base it patches
    patch: bool = False
    # what the pod shares with the node: hostNetwork, hostPID, hostIPC, hostPath volumes
    host_access: tuple[str, ...] = ()
    node_selector: tuple[tuple[str, str], ...] = ()
    restart_policy: str | None = None  # the pod's restartPolicy (Always, OnFailure, Never)

    @property
    def is_batch(self) -> bool:
        return self.kind in BATCH_KINDS

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"


# a dataclass, not a Struct like the other records: `value` stays out of its repr
@dataclass(frozen=True)
class SecretEntry:
    """One key of a Secret's `data` (base64, as written) or `stringData` (plain text)."""

    key: str
    value: str = field(repr=False)
    line: int
    encoded: bool  # under `data:`: base64 as written


class SecretDocument(Struct, frozen=True):
    """A `kind: Secret` document and the values it commits."""

    name: str
    line: int
    type: str | None
    entries: tuple[SecretEntry, ...] = ()


class ManifestFile(Struct, frozen=True):
    path: str
    workloads: tuple[Workload, ...] = ()
    kinds: tuple[tuple[str, str, int], ...] = ()  # (kind, name, line) of every document
    problems: tuple[YamlProblem, ...] = ()
    # a Helm/Jinja template: not YAML until rendered, skipped as a whole
    template: bool = False
    secrets: tuple[SecretDocument, ...] = ()  # `kind: Secret` documents


def is_manifest_text(text: str) -> bool:
    """A cheap test before parsing: Kubernetes documents name an apiVersion and a kind."""
    return "apiVersion" in text and "kind" in text


def load_manifest(path: Path, relpath: str) -> ManifestFile | None:
    """The manifest file, or None when the YAML file is not a Kubernetes manifest."""
    try:
        text = read_text(path)
    except YamlReadError as error:
        return ManifestFile(relpath, problems=(YamlProblem(None, None, error.message),))
    return parse_manifest(text, relpath)


def parse_manifest(text: str, relpath: str) -> ManifestFile | None:
    if not is_manifest_text(text):
        return None
    if template_marker(text) is not None:
        return ManifestFile(relpath, template=True)
    loaded = load_yaml(text)
    workloads: list[Workload] = []
    kinds: list[tuple[str, str, int]] = []
    secrets: list[SecretDocument] = []
    for document in loaded.documents:
        for item in _items(document):
            kind = _str(item.get("kind"))
            if kind is None or _str(item.get("apiVersion")) is None:
                continue
            name = _str(_get(item, "metadata", "name")) or "?"
            kinds.append((kind, name, item.line))
            if kind in WORKLOAD_KINDS:
                workloads.append(_workload(item, kind, name, relpath))
            elif kind == "Secret":
                secrets.append(_secret_document(item, name))
    if not kinds and not loaded.problems:
        return None
    return ManifestFile(
        relpath, tuple(workloads), tuple(kinds), loaded.problems, secrets=tuple(secrets)
    )


def _secret_document(item: Map, name: str) -> SecretDocument:
    entries: list[SecretEntry] = []
    for section, encoded in (("data", True), ("stringData", False)):
        values = item.get(section)
        if not isinstance(values, Map):
            continue
        for key, node in values.entries.items():
            if isinstance(node, Scalar) and node.value is not None:
                line = values.key_line(key) or node.line
                entries.append(SecretEntry(key, node.text, line, encoded))
    return SecretDocument(name, item.line, _str(item.get("type")), tuple(entries))


def _items(document: Node) -> list[Map]:
    """The document, or the items of a `kind: List`."""
    if not isinstance(document, Map):
        return []
    if _str(document.get("kind")) == "List":
        items = document.get("items")
        return (
            [item for item in items.items if isinstance(item, Map)]
            if isinstance(items, Seq)
            else []
        )
    return [document]


def _get(node: Node | None, *keys: str) -> Node | None:
    for key in keys:
        if not isinstance(node, Map):
            return None
        node = node.get(key)
    return node


def _str(node: Node | None) -> str | None:
    if isinstance(node, Scalar) and node.value is not None and not isinstance(node.value, bool):
        return node.text
    return None


def _int(node: Node | None) -> int | None:
    """An integer field; Kubernetes has none wider than int64, so a larger number is as
    invalid as a string (and would overflow every float it meets)."""
    if (
        isinstance(node, Scalar)
        and isinstance(node.value, int)
        and not isinstance(node.value, bool)
        and -(2**63) <= node.value < 2**63
    ):
        return node.value
    return None


def _bool(node: Node | None) -> bool | None:
    if isinstance(node, Scalar) and isinstance(node.value, bool):
        return node.value
    return None


def _line(node: Node | None, default: int) -> int:
    return node.line if node is not None else default


def _pod_spec(item: Map, kind: str) -> Map | None:
    if kind == "Pod":
        spec = item.get("spec")
    elif kind == "CronJob":
        spec = _get(item, "spec", "jobTemplate", "spec", "template", "spec")
    else:
        spec = _get(item, "spec", "template", "spec")
    return spec if isinstance(spec, Map) else None


def _workload(item: Map, kind: str, name: str, relpath: str) -> Workload:
    namespace = _str(_get(item, "metadata", "namespace"))
    spec = _pod_spec(item, kind)
    if spec is None:
        return Workload(kind, name, namespace, relpath, item.line, ())
    secret_volumes = _secret_volumes(spec)
    containers = [
        _container(node, init, secret_volumes)
        for key, init in (("initContainers", True), ("containers", False))
        if isinstance(spec.get(key), Seq)
        for node in spec.get(key).items  # type: ignore[union-attr]
        if isinstance(node, Map)
    ]
    grace = spec.get("terminationGracePeriodSeconds")
    return Workload(
        kind,
        name,
        namespace,
        relpath,
        item.line,
        tuple(containers),
        _security(spec.get("securityContext")),
        _int(grace),
        spec.key_line("terminationGracePeriodSeconds"),
        patch=kind in _SELECTOR_KINDS
        and _str(item.get("apiVersion")) == "apps/v1"
        and _get(item, "spec", "selector") is None,
        host_access=_host_access(spec),
        node_selector=_node_selector(spec.get("nodeSelector")),
        restart_policy=_str(spec.get("restartPolicy")),
    )


def _node_selector(node: Node | None) -> tuple[tuple[str, str], ...]:
    if not isinstance(node, Map):
        return ()
    found = ((key, _str(value)) for key, value in node.entries.items())
    return tuple((key, value) for key, value in found if value)


def _host_access(spec: Map) -> tuple[str, ...]:
    found = [key for key in ("hostNetwork", "hostPID", "hostIPC") if _bool(spec.get(key))]
    volumes = spec.get("volumes")
    if isinstance(volumes, Seq) and any(
        isinstance(v, Map) and v.get("hostPath") is not None for v in volumes.items
    ):
        found.append("hostPath")
    return tuple(found)


_SELECTOR_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})


def _secret_volumes(spec: Map) -> frozenset[str]:
    volumes = spec.get("volumes")
    names: set[str] = set()
    if isinstance(volumes, Seq):
        for volume in volumes.items:
            if not isinstance(volume, Map):
                continue
            name = _str(volume.get("name"))
            projected = _get(volume, "projected", "sources")
            from_projection = isinstance(projected, Seq) and any(
                isinstance(s, Map) and s.get("secret") is not None for s in projected.items
            )
            if name and (volume.get("secret") is not None or from_projection):
                names.add(name)
    return frozenset(names)


def _words(node: Node | None) -> tuple[str, ...] | None:
    if isinstance(node, Seq):
        return tuple(item.text if isinstance(item, Scalar) else "" for item in node.items)
    if isinstance(node, Scalar) and node.value is not None:
        return (node.text,)
    return None


def _container(node: Map, init: bool, secret_volumes: frozenset[str]) -> Container:
    image = node.get("image")
    mounts = node.get("volumeMounts")
    secret_mounts = tuple(
        _str(mount.get("mountPath")) or ""
        for mount in (mounts.items if isinstance(mounts, Seq) else ())
        if isinstance(mount, Map) and _str(mount.get("name")) in secret_volumes
    )
    return Container(
        name=_str(node.get("name")) or "?",
        line=node.line,
        image=_str(image),
        image_line=_line(image, node.line),
        init=init,
        command=_words(node.get("command")),
        args=_words(node.get("args")),
        ports=_ports(node.get("ports")),
        probes=tuple(
            probe
            for kind in ("liveness", "readiness", "startup")
            if (probe := _probe(kind, node.get(f"{kind}Probe"))) is not None
        ),
        env=_env(node.get("env")),
        env_from_secrets=_env_from_secrets(node.get("envFrom")),
        resources=_resources(node.get("resources")),
        security=_security(node.get("securityContext")),
        secret_mounts=secret_mounts,
        pre_stop=_pre_stop(_get(node, "lifecycle", "preStop")),
    )


def _pre_stop(node: Node | None) -> PreStop | None:
    if not isinstance(node, Map):
        return None
    seconds: float | None = None
    sleep = _get(node, "sleep", "seconds")
    command = _words(_get(node, "exec", "command")) or ()
    if _int(sleep) is not None:
        seconds = float(_int(sleep) or 0)
    elif command[:1] and command[0].rsplit("/", 1)[-1] == "sleep" and len(command) == 2:
        text = command[1].removesuffix("s")
        seconds = float(text) if is_digits(text) else None
    return PreStop(node.line, seconds)


def _ports(node: Node | None) -> tuple[ContainerPort, ...]:
    if not isinstance(node, Seq):
        return ()
    return tuple(
        ContainerPort(_int(port.get("containerPort")), _str(port.get("name")), port.line)
        for port in node.items
        if isinstance(port, Map)
    )


def _probe(kind: str, node: Node | None) -> Probe | None:
    if not isinstance(node, Map):
        return None
    probe = Probe(
        kind,
        None,
        node.line,
        initial_delay=_int(node.get("initialDelaySeconds")),
        period=_int(node.get("periodSeconds")),
        timeout=_int(node.get("timeoutSeconds")),
        failure_threshold=_int(node.get("failureThreshold")),
    )
    for handler in ("httpGet", "tcpSocket", "grpc"):
        spec = node.get(handler)
        if isinstance(spec, Map):
            port = spec.get("port")
            port_value: int | str | None = _int(port) if _int(port) is not None else _str(port)
            path = _str(spec.get("path")) if handler == "httpGet" else None
            return replace(probe, handler=handler, path=path, port=port_value)
    exec_spec = node.get("exec")
    if isinstance(exec_spec, Map):
        return replace(probe, handler="exec", command=_words(exec_spec.get("command")) or ())
    return probe


def _env(node: Node | None) -> tuple[EnvVar, ...]:
    if not isinstance(node, Seq):
        return ()
    found: list[EnvVar] = []
    for item in node.items:
        if not isinstance(item, Map) or (name := _str(item.get("name"))) is None:
            continue
        source = item.get("valueFrom")
        if isinstance(source, Map) and source.entries:
            found.append(EnvVar(name, item.line, source=next(iter(source.entries))))
        else:
            value = item.get("value")
            text = value.text if isinstance(value, Scalar) and value.value is not None else None
            found.append(EnvVar(name, _line(value, item.line), value=text))
    return tuple(found)


def _env_from_secrets(node: Node | None) -> tuple[str, ...]:
    if not isinstance(node, Seq):
        return ()
    return tuple(
        _str(_get(item, "secretRef", "name")) or "?"
        for item in node.items
        if isinstance(item, Map) and item.get("secretRef") is not None
    )


def _resources(node: Node | None) -> Resources:
    if not isinstance(node, Map):
        return Resources()
    return Resources(
        line=node.line,
        requests_memory=_quantity(_get(node, "requests", "memory"), memory=True),
        requests_cpu=_quantity(_get(node, "requests", "cpu"), memory=False),
        limits_memory=_quantity(_get(node, "limits", "memory"), memory=True),
        limits_cpu=_quantity(_get(node, "limits", "cpu"), memory=False),
        accelerators=_accelerators(node),
    )


_DEVICE_RESOURCE = re.compile(r"^[a-z0-9.-]+/(?:gpu|tpu|[a-z0-9-]*(?:gpu|tpu|neuron)[a-z0-9-]*)$")


def _accelerators(node: Map) -> tuple[tuple[str, int], ...]:
    counts: dict[str, int] = {}
    for section in ("requests", "limits"):
        values = node.get(section)
        if not isinstance(values, Map):
            continue
        for key, value in values.entries.items():
            if not _DEVICE_RESOURCE.match(key):
                continue
            text = _str(value)
            count = _int(value) or (small_int(text) if text else None)
            if count is not None and count > 0:
                counts[key] = max(counts.get(key, 0), count)
    return tuple(sorted(counts.items()))


def _security(node: Node | None) -> SecurityContext:
    if not isinstance(node, Map):
        return SecurityContext()
    return SecurityContext(
        line=node.line,
        run_as_non_root=_bool(node.get("runAsNonRoot")),
        run_as_user=_int(node.get("runAsUser")),
        read_only_root_filesystem=_bool(node.get("readOnlyRootFilesystem")),
        allow_privilege_escalation=_bool(node.get("allowPrivilegeEscalation")),
        privileged=_bool(node.get("privileged")),
        capabilities_add=_words(_get(node, "capabilities", "add")) or (),
        key_lines=tuple((key, line) for key, (line, _) in node.keys.items()),
    )


_SUFFIXES = {
    "": 1,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
    "m": 1e-3,
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([A-Za-z]{0,2})$")


def parse_quantity(text: str) -> float | None:
    """A Kubernetes quantity as a number (`512Mi` -> 536870912, `250m` -> 0.25)."""
    match = _QUANTITY.match(text.strip())
    if not match or match.group(2) not in _SUFFIXES or len(text) > 40:
        return None
    return float(match.group(1)) * _SUFFIXES[match.group(2)]


def _quantity(node: Node | None, *, memory: bool) -> Quantity | None:
    if not isinstance(node, Scalar) or node.value is None:
        return None
    return Quantity(node.text, parse_quantity(node.text), node.line)
