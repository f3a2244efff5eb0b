"""Rules of the limits lesson (DW4xx): memory and CPU limits and requests on the compose
services and Kubernetes containers that run a service, and whether the memory limit can
hold the server's workers.

Every long-running container gets limits: a warning when a service has none. Development
compose files and services (named dev/test/ci/local, in a dev or debug profile, running
`--reload` or `runserver`), one-off tool services (migrations, tests, a service others wait
for to complete) and Kubernetes Jobs, CronJobs and init containers are not long-running
services: at most info there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from msgspec import Struct
from msgspec.structs import replace

from dockwise.digits import is_digits, small_int
from dockwise.findings import Hit, Related, Severity, rule
from dockwise.lazyre import lazy_compile
from dockwise.model.roles import (
    NOT_A_SERVICE,
    TEST,
    compose_role,
    container_role,
    one_off_reason,
)
from dockwise.rules._examples import deployment
from dockwise.rules._scopes import at_line, service_rule

if TYPE_CHECKING:
    from dockwise.model.service import ComposePart, ContainerPart, Service
    from dockwise.project import Project
    from dockwise.sources.kubernetes import Quantity, Workload

MIB = 2**20
# what dockwise assumes one Python web worker process needs until usage is measured: a
# small Flask/FastAPI app sits at 50-80 MiB resident after imports, grows with traffic
PER_WORKER_MIB = 100
# Docker refuses a memory limit under 6 MB; nothing Python starts in less
MIN_MEMORY_BYTES = 6 * MIB

_HEADROOM = (
    "Start from observed usage plus 50% headroom, then adjust: dockwise cannot measure yet, "
    "so run the service under a realistic load and read its peak with `docker stats` "
    "(or `kubectl top pod`)."
)

# --- what kind of container a part is: dockwise.model.roles decides it for every rule ---

# every role but production and node agents makes a missing limit advice
_SOFTENED = NOT_A_SERVICE


def is_partial(part: ComposePart) -> bool:
    """An `x-` entry (compose keeps it as an extension, not a service) or a fragment of an
    override file: no image, no build, no extends, so not runnable alone; the file it is
    merged with judges the service."""
    service = part.service
    if service.name.startswith("x-"):
        return True
    return service.image is None and service.build is None and not service.extends


# --- the YAML to add -------------------------------------------------------------------


def _compose_fix(service: str, memory: bool, cpu: bool) -> str:
    values = ", ".join(
        v for v, wanted in (("memory: 512M", memory), ('cpus: "1.0"', cpu)) if wanted
    )
    short = " / ".join(
        v for v, wanted in (("`mem_limit: 512m`", memory), ("`cpus: 1.0`", cpu)) if wanted
    )
    what = "a memory limit" if memory and not cpu else "a CPU limit" if cpu and not memory else ""
    return (
        f"Add {what or 'limits'} to service {service}: "
        f"`deploy: {{resources: {{limits: {{{values}}}}}}}` (or {short}) as a starting "
        f"value. {_HEADROOM}"
    )


def _k8s_fix(container: str, *, memory_limit: bool, cpu_request: bool) -> str:
    parts = []
    if cpu_request:
        parts.append("requests: {cpu: 100m}")
    if memory_limit:
        parts.append("requests: {memory: 256Mi}, limits: {memory: 256Mi}")
    yaml = ", ".join(parts)
    return f"Give container {container} `resources: {{{yaml}}}` as a starting value. {_HEADROOM}"


# --- compose ---------------------------------------------------------------------------


def _compose_parts(project: Project) -> Iterator[tuple[ComposePart, Service]]:
    for service in project.services:
        for part in service.compose:
            yield part, service


def _deployment(*resources: str) -> dict[str, str]:
    """An example project: one Deployment whose container has these `resources:` lines."""
    lines = "".join(f"            {line}\n" for line in resources)
    return deployment(container="          resources:\n" + lines)


@rule(
    "DW401",
    lesson="limits",
    severity="warning",
    title="Compose service without a memory limit",
    why="""
        A container without a memory limit can take all the host's memory: one leak or
        one large request and the kernel's OOM killer picks a victim on the host, which
        may be the database next to it rather than the leaking service. With a limit the
        leaking container alone is killed and restarted, and `docker stats` shows how
        close it runs to its budget.

        Compose sets it with `deploy.resources.limits.memory` (or the older `mem_limit`).
        Development and test compose files, services in a dev/debug profile, development
        servers (`--reload`, `runserver`) and one-off services (migrations, tests, a
        service others wait for to complete) are reported at info only: the lesson is
        about long-running containers.
    """,
    fix="""
        Add `deploy: {resources: {limits: {memory: 512M}}}` (or `mem_limit: 512m`) to the
        service, starting from observed usage plus 50% headroom (`docker stats` under load),
        then adjust.
    """,
    bad={
        "compose.yaml": """\
            services:
              web:
                image: acme/web:1.4.2
        """
    },
    good={
        "compose.yaml": """\
            services:
              web:
                image: acme/web:1.4.2
                deploy:
                  resources:
                    limits:
                      memory: 512M
                      cpus: "1.0"
              migrate:
                image: acme/web:1.4.2
                command: ["alembic", "upgrade", "head"]
        """,
    },
)
def compose_without_memory_limit(project: Project) -> Iterator[Hit]:
    for part, _ in _compose_parts(project):
        service = part.service
        if service.memory_limit is not None:
            continue
        if is_partial(part) or one_off_reason(part) is not None:
            continue
        role = compose_role(part, project).note(_SOFTENED)
        yield Hit(
            path=part.path,
            line=part.line,
            message=f"compose service {service.name} has no memory limit"
            + (f" ({role}: info only)" if role else ""),
            fix=_compose_fix(service.name, memory=True, cpu=service.cpu_limit is None),
            severity=Severity.INFO if role else None,
        )


@rule(
    "DW402",
    lesson="limits",
    severity="info",
    title="Compose service without a CPU limit",
    why="""
        Advice, not a warning: Docker gives every container the same CPU weight by default
        (cpu.shares 1024, cpu.weight 100), so under contention the kernel already shares the
        CPU fairly between containers and a busy one cannot starve its neighbours. What a
        CPU limit (`deploy.resources.limits.cpus` or `cpus`) adds is a bound: a runaway
        loop takes at most its cap rather than every idle core, and the capacity the host
        needs is predictable from the sum of the caps.

        The cost is throttling: a capped service is slowed down when it reaches its cap even
        while other cores are idle, which shows as latency spikes on bursty servers. Size it
        from observed usage (a single-threaded Python process uses at most about one core
        per worker process). Development, test and one-off services are not reported.
    """,
    fix="""
        When you want the bound, add `deploy: {resources: {limits: {cpus: "1.0"}}}` (or
        `cpus: 1.0`), at least one core per server worker process, from observed usage plus
        50% headroom.
    """,
    bad={
        "compose.yaml": """\
            services:
              web:
                image: acme/web:1.4.2
                mem_limit: 512m
        """
    },
    good={
        "compose.yaml": """\
            services:
              web:
                image: acme/web:1.4.2
                mem_limit: 512m
                cpus: 1.0
        """
    },
)
def compose_without_cpu_limit(project: Project) -> Iterator[Hit]:
    for part, _ in _compose_parts(project):
        service = part.service
        if service.cpu_limit is not None:
            continue
        if is_partial(part) or one_off_reason(part) is not None:
            continue
        if compose_role(part, project).note(_SOFTENED) is not None:
            continue  # advice about capacity: not for a laptop, a test or a CI run
        yield Hit(
            path=part.path,
            line=part.line,
            message=f"compose service {service.name} has no CPU limit: a runaway may take "
            "every idle core (Docker already shares the CPU fairly under contention)",
            fix=_compose_fix(service.name, memory=False, cpu=True),
        )


# --- Kubernetes ------------------------------------------------------------------------


class _Elsewhere(Struct, frozen=True):
    """What other copies of the same workload's container set (a Kustomize base and its
    overlays, a patch that adds resources): a value set in any copy counts."""

    memory_limit: bool = False
    cpu_request: bool = False
    cpu_limit: bool = False


def _resource_index(project: Project) -> dict[tuple[str, str, str], _Elsewhere]:
    index: dict[tuple[str, str, str], _Elsewhere] = {}
    for manifest in project.manifests:
        for workload in manifest.workloads:
            for container in workload.containers:
                key = (workload.kind, workload.name, container.name)
                seen = index.get(key, _Elsewhere())
                res = container.resources
                index[key] = _Elsewhere(
                    seen.memory_limit or res.limits_memory is not None,
                    seen.cpu_request or res.requests_cpu is not None or res.limits_cpu is not None,
                    seen.cpu_limit or res.limits_cpu is not None,
                )
    return index


def _kinds(project: Project) -> set[str]:
    return {kind for manifest in project.manifests for kind, _, _ in manifest.kinds}


def _k8s_parts(project: Project) -> Iterator[tuple[ContainerPart, _Elsewhere, str | None]]:
    """Every container with an image (a patch without one is not a whole container),
    what other copies of it set, and why it is not a long-running service."""
    index = _resource_index(project)
    for service in project.services:
        for part in service.containers:
            if part.container.image is None or part.workload.patch:
                continue
            key = (part.workload.kind, part.workload.name, part.container.name)
            yield part, index[key], container_role(part, project).note(_SOFTENED)


def _where(part: ContainerPart) -> tuple[int, str]:
    res = part.container.resources
    return (
        res.line or part.container.line
    ), f"container {part.container.name} of {part.workload.label}"


@rule(
    "DW403",
    lesson="limits",
    severity="warning",
    title="Kubernetes container without a memory limit",
    why="""
        Memory cannot be throttled: a container without a memory limit grows until the
        node runs short, and then the kubelet evicts pods, or the kernel kills a process,
        that may belong to another service. With a limit only the leaking container is
        OOM-killed and restarted, and its budget is stated where a reviewer sees it.

        Kubernetes sets a missing memory request to the limit, so a limit alone also gives
        the scheduler a request; kube-score, Polaris (`memoryRequestsMissing`) and checkov
        (CKV_K8S_12) also ask for the request to be written out, dockwise does not.
        Containers of Jobs and CronJobs, init containers and manifests for development
        namespaces or folders are reported at info only; a LimitRange in the project, which
        can give defaults, makes it info too.
    """,
    fix="""
        Set `resources.limits.memory` (and the same `resources.requests.memory` for a
        Guaranteed pod), from observed usage plus 50% headroom (`kubectl top pod`,
        `docker stats`), then adjust.
    """,
    bad=_deployment("requests:", "  cpu: 100m"),
    good=_deployment("requests:", "  cpu: 100m", "limits:", "  memory: 256Mi"),
    also=(
        "kube-score:container-resources",
        "polaris:memoryLimitsMissing",
        "polaris:memoryRequestsMissing",
        "kube-linter:unset-memory-requirements",
        "checkov:CKV_K8S_13",
        "checkov:CKV_K8S_12",
    ),
)
def container_without_memory_limit(project: Project) -> Iterator[Hit]:
    limit_range = "LimitRange" in _kinds(project)
    for part, elsewhere, role in _k8s_parts(project):
        res = part.container.resources
        if res.limits_memory is not None or elsewhere.memory_limit:
            continue
        line, where = _where(part)
        note = role or ("a LimitRange in the project may set a default" if limit_range else None)
        request = f" (its request is {res.requests_memory.text})" if res.requests_memory else ""
        yield Hit(
            path=part.path,
            line=line,
            message=f"{where} has no memory limit{request}"
            + (f" ({note}: info only)" if note else ""),
            fix=_k8s_fix(part.container.name, memory_limit=True, cpu_request=False),
            severity=Severity.INFO if note else None,
        )


@rule(
    "DW404",
    lesson="limits",
    severity="warning",
    title="Kubernetes container without a CPU request",
    why="""
        The CPU request is what the scheduler places pods by and what the kernel shares
        CPU by under contention. Without one (and without a CPU limit, which Kubernetes
        would copy into it) the container is scheduled as if it needed nothing, lands on
        busy nodes and gets the smallest share exactly when the node is loaded: latency
        climbs and probes time out.

        Containers of Jobs and CronJobs, init containers, bare demo Pods and manifests for
        development, test or CI are reported at info only; so are pods that take every
        accelerator of their node (all the TPU chips of a single-host slice, eight GPUs):
        they own the node and a CPU request buys nothing. A LimitRange or a
        VerticalPodAutoscaler in the project, which can set requests, makes it info too.
    """,
    fix="""
        Set `resources.requests.cpu` (for example `100m`), from observed usage plus 50%
        headroom (`kubectl top pod`), then adjust.
    """,
    bad=_deployment("limits:", "  memory: 256Mi"),
    good=_deployment("requests:", "  cpu: 100m", "limits:", "  memory: 256Mi"),
    also=(
        "kube-score:container-resources",
        "polaris:cpuRequestsMissing",
        "kube-linter:unset-cpu-requirements",
        "checkov:CKV_K8S_10",
    ),
)
def container_without_cpu_request(project: Project) -> Iterator[Hit]:
    kinds = _kinds(project)
    defaults = "LimitRange" in kinds or "VerticalPodAutoscaler" in kinds
    for part, elsewhere, role in _k8s_parts(project):
        res = part.container.resources
        if res.requests_cpu is not None or res.limits_cpu is not None or elsewhere.cpu_request:
            continue
        line, where = _where(part)
        note = (
            role
            or _whole_node(part.workload)
            or (
                "a LimitRange or VerticalPodAutoscaler in the project may set it"
                if defaults
                else None
            )
        )
        yield Hit(
            path=part.path,
            line=line,
            message=f"{where} has no CPU request" + (f" ({note}: info only)" if note else ""),
            fix=_k8s_fix(part.container.name, memory_limit=False, cpu_request=True),
            severity=Severity.INFO if note else None,
        )


@rule(
    "DW405",
    lesson="limits",
    severity="info",
    title="Kubernetes container without a CPU limit",
    why="""
        Off by default. A CPU limit is a CFS quota: the container is throttled when it
        uses its share within a 100 ms period, even when the node has idle cores, which
        shows as latency spikes on bursty Python servers. Many teams deliberately set a
        CPU request and no CPU limit (krr's default strategy recommends none), while
        others want one on shared, multi-tenant clusters. kube-score, Polaris
        (`cpuLimitsMissing`) and checkov (CKV_K8S_11) ask for it; kube-linter does not.
        dockwise cannot know which policy a cluster follows, so this check is opt-in:
        select DW405 when every container must have a CPU limit.
    """,
    fix="""
        Set `resources.limits.cpu` to at least one core per worker process (a CPython
        worker uses about one core at most), from observed peaks plus 50% headroom.
    """,
    bad=_deployment("requests: {cpu: 100m, memory: 256Mi}", "limits: {memory: 256Mi}"),
    good=_deployment("requests: {cpu: 100m, memory: 256Mi}", 'limits: {cpu: "1", memory: 256Mi}'),
    also=(
        "kube-score:container-resources",
        "polaris:cpuLimitsMissing",
        "checkov:CKV_K8S_11",
    ),
    default_enabled=False,
)
def container_without_cpu_limit(project: Project) -> Iterator[Hit]:
    for part, elsewhere, role in _k8s_parts(project):
        if part.container.resources.limits_cpu is not None or elsewhere.cpu_limit:
            continue
        if role is not None and (part.container.init or part.workload.is_batch):
            continue
        line, where = _where(part)
        yield at_line(
            part.path,
            line,
            f"{where} has no CPU limit",
            fix=f"Set `resources.limits.cpu` on container {part.container.name} (for example "
            f'"1"), at least one core per worker process. {_HEADROOM}',
        )


# the most GPUs one machine carries (a3/a4 and p5 machines: 8): a pod asking that many owns
# the node
_GPUS_PER_NODE = 8
_TOPOLOGY = "cloud.google.com/gke-tpu-topology"


def _whole_node(workload: Workload) -> str | None:
    """Why a pod owns its node: it asks for every accelerator of it (all the TPU chips of
    the single-host slice its nodeSelector picks, or a full machine of GPUs). Nothing else
    is scheduled there, so a CPU request buys nothing."""
    wanted: dict[str, int] = {}
    for container in workload.containers:
        if container.init:
            continue
        for name, count in container.resources.accelerators:
            wanted[name] = wanted.get(name, 0) + count
    selector = dict(workload.node_selector)
    chips = wanted.get("google.com/tpu", 0)
    topology = selector.get(_TOPOLOGY, "")
    dims = [small_int(d) for d in topology.lower().split("x")] if topology else []
    if chips and dims and all(d is not None for d in dims):
        slice_chips = 1
        for d in dims:
            slice_chips *= d or 1
        if chips >= slice_chips:
            return (
                f"the pod takes all {slice_chips} TPU chips of a {topology} slice: it owns the node"
            )
    gpus = sum(count for name, count in wanted.items() if name.endswith("/gpu"))
    if gpus >= _GPUS_PER_NODE:
        return f"the pod takes {gpus} GPUs, a whole machine's: it owns the node"
    return None


# --- impossible values -----------------------------------------------------------------


def _mib(value: float) -> str:
    mib = value / MIB
    return f"{mib:.0f} MiB" if mib >= 10 else f"{mib:.2g} MiB"


def _cores(value: float) -> str:
    return f"{value:g} core" + ("" if value == 1 else "s")


@rule(
    "DW406",
    lesson="limits",
    severity="error",
    title="Limit below the request",
    why="""
        Kubernetes refuses a pod whose container asks for more memory or CPU than its
        limit allows (`must be less than or equal to memory limit`): the Deployment rolls
        out nothing. Docker likewise refuses a memory reservation above the memory limit
        (`Minimum memory limit can not be less than memory reservation limit`).

        A request far below the limit is legal (a Burstable pod) and not reported. In a test
        fixture (`tests/`, `testdata/`) the impossible value may be the point of the test:
        advice (info) there.
    """,
    fix="""
        Raise the limit to at least the request, or lower the request; for memory,
        request = limit gives a Guaranteed pod that is evicted last.
    """,
    bad=_deployment("requests: {cpu: 100m, memory: 512Mi}", "limits: {memory: 256Mi}"),
    good=_deployment("requests: {cpu: 100m, memory: 128Mi}", 'limits: {cpu: "2", memory: 1Gi}'),
)
def limit_below_request(project: Project) -> Iterator[Hit]:
    for service in project.services:
        for container in service.containers:
            res = container.container.resources
            where = f"container {container.container.name} of {container.workload.label}"
            pairs: tuple[tuple[str, Quantity | None, Quantity | None], ...] = (
                ("memory", res.requests_memory, res.limits_memory),
                ("cpu", res.requests_cpu, res.limits_cpu),
            )
            for name, request, limit in pairs:
                if request is None or limit is None or request.value is None:
                    continue
                if limit.value is None or limit.value >= request.value:
                    continue
                show = _mib if name == "memory" else _cores
                hit = at_line(
                    container.path,
                    limit.line,
                    f"{where}: {name} limit {limit.text} ({show(limit.value)}) is below its "
                    f"request {request.text} ({show(request.value)}); Kubernetes rejects the pod",
                    fix=f"Set the {name} limit to at least {request.text} or lower the request.",
                    related=(
                        Related(container.path, request.line, f"{name} request {request.text}"),
                    ),
                )
                yield _fixture_milder(hit, container_role(container, project).note({TEST}))
        for part in service.compose:
            limit_size = part.service.memory_limit
            reservation = (
                part.service.reservations.memory if part.service.reservations else None
            ) or part.service.mem_reservation
            if limit_size is None or reservation is None or reservation.bytes <= limit_size.bytes:
                continue
            hit = at_line(
                limit_size.origin.path,
                limit_size.origin.line,
                f"compose service {part.service.name}: memory limit {limit_size.written} is "
                f"below its reservation {reservation.written}; Docker refuses to create it",
                fix=f"Set the memory limit to at least {reservation.written} or lower the "
                "reservation.",
                related=(
                    Related(
                        reservation.origin.path,
                        reservation.origin.line,
                        f"memory reservation {reservation.written}",
                    ),
                ),
            )
            yield _fixture_milder(hit, compose_role(part, project).note({TEST}))


def _fixture_milder(hit: Hit, test: str | None) -> Hit:
    """A test fixture may hold an impossible value on purpose (the input of a test that
    expects it to be caught): advice there."""
    if test is None:
        return hit
    return replace(hit, message=f"{hit.message} ({test})", severity=Severity.INFO)


@rule(
    "DW407",
    lesson="limits",
    severity="error",
    title="Memory limit too small to start anything",
    why="""
        A memory quantity without a unit is bytes: `memory: 512` in a manifest or
        `mem_limit: 512` in a compose file is 512 bytes, not 512 MiB. Docker refuses a
        limit under 6 MB, and under Kubernetes the container is OOM-killed before Python
        has finished starting, in a restart loop.
    """,
    fix="Write the unit: `512Mi` in Kubernetes, `512m` / `512M` in compose.",
    bad=_deployment("requests: {cpu: 100m}", "limits: {memory: 512}"),
    good=_deployment("requests: {cpu: 100m}", "limits: {memory: 512Mi}"),
)
def memory_limit_too_small(project: Project) -> Iterator[Hit]:
    for service in project.services:
        for container in service.containers:
            res = container.container.resources
            for kind, quantity in (("limit", res.limits_memory), ("request", res.requests_memory)):
                if quantity is None or quantity.value is None or quantity.value <= 0:
                    continue
                if quantity.value >= MIN_MEMORY_BYTES:
                    continue
                yield at_line(
                    container.path,
                    quantity.line,
                    f"container {container.container.name} of {container.workload.label}: "
                    f"memory {kind} {quantity.text} is {quantity.value:g} bytes; no process "
                    "starts in that",
                    fix=f"Write the unit: `{quantity.text}Mi` if MiB was meant.",
                )
        for part in service.compose:
            size = part.service.memory_limit
            if size is None or size.bytes <= 0 or size.bytes >= MIN_MEMORY_BYTES:
                continue
            yield at_line(
                size.origin.path,
                size.origin.line,
                f"compose service {part.service.name}: memory limit {size.written} is "
                f"{size.bytes} bytes; Docker refuses a limit under 6 MB",
                fix=f"Write the unit: `{size.written}m` if MiB was meant.",
            )


# --- workers against the memory limit --------------------------------------------------


class Workers(Struct, frozen=True):
    server: str
    count: int
    source: str  # "-w 4", "WEB_CONCURRENCY=4", "gunicorn's default"
    path: str
    line: int | None


_VAR = lazy_compile(r"\$(?:\{(\w+)(?::?-([^}]*))?\}|(\w+))")


def _expand(word: str, env: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        if name in env:
            return env[name]
        default = match.group(2)
        return default if default is not None else match.group(0)

    return _VAR.sub(value, word)


def _workers_of(
    argv: tuple[str, ...], env: Mapping[str, str], path: str, line: int | None
) -> Workers | None:
    """The worker processes a command line starts (through wrappers and `sh -c`)."""
    from dockwise.rules._commands import shell_c_script, unwrap
    from dockwise.sources.servercmd import parse_server_command
    from dockwise.sources.shell import parse_script

    argv = unwrap(argv)
    script = shell_c_script(argv)
    commands: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    if script is not None:
        for command in parse_script(script).commands:
            commands.append((unwrap(command.argv), command.assignments))
    else:
        commands.append((argv, ()))
    for words, assignments in commands:
        scope = dict(env)
        for assignment in assignments:
            name, _, value = assignment.partition("=")
            scope[name] = value
        expanded = tuple(_expand(word, scope) for word in words)
        server = parse_server_command(expanded)
        if server is None:
            continue
        return _count(server, expanded, scope, path, line)
    return None


def _count(
    server: object, argv: tuple[str, ...], env: Mapping[str, str], path: str, line: int | None
) -> Workers | None:
    from dockwise.sources.servercmd import ServerCommand

    assert isinstance(server, ServerCommand)
    name = server.server
    if server.workers is not None:
        return Workers(name, server.workers, f"{server.workers} workers", path, line)
    if any(re.match(r"^(-w|--workers|--processes|-p)(=|$)", a) for a in argv[1:]):
        return None  # a count dockwise cannot read ($(nproc), an unset variable)
    if name in ("gunicorn", "uvicorn") and "WEB_CONCURRENCY" in env:
        text = env["WEB_CONCURRENCY"].strip()
        if is_digits(text):
            return Workers(name, int(text), f"WEB_CONCURRENCY={text}", path, line)
        return None
    if name == "gunicorn":
        extra = env.get("GUNICORN_CMD_ARGS", "")
        match = re.search(r"(?:-w|--workers)[= ]\s*(\d+)", extra)
        if match:
            count = small_int(match.group(1))
            if count is None:
                return None
            return Workers(name, count, f"GUNICORN_CMD_ARGS --workers {count}", path, line)
        if server.config_file is not None or "GUNICORN_CMD_ARGS" in env:
            return None  # the config file may set workers
        return Workers(name, 1, "gunicorn's default of 1 worker", path, line)
    return None


def _dockerfile_workers(service: Service, env: Mapping[str, str]) -> Workers | None:
    from dockwise.rules._commands import entrypoint_and_cmd

    dockerfile = service.dockerfile
    if dockerfile is None:
        return None
    for instruction in entrypoint_and_cmd(dockerfile):
        argv = (
            tuple(instruction.value) if instruction.json else ("/bin/sh", "-c", instruction.script)
        )
        scope = {**instruction.vars, **env}
        found = _workers_of(argv, scope, dockerfile.relpath, instruction.start_line)
        if found is not None:
            return found
    return None


def _compose_workers(part: ComposePart, service: Service) -> Workers | None:
    env = {
        name: variable.value
        for name, variable in part.service.environment.items()
        if variable.value is not None
    }
    compose = part.service
    for command in (compose.entrypoint, compose.command):
        if command is None:
            continue
        argv = command.argv
        if command is compose.entrypoint and compose.command is not None:
            argv = (*argv, *compose.command.argv)
        found = _workers_of(argv, env, command.origin.path, command.origin.line)
        if found is not None:
            return found
        if command is compose.entrypoint:
            return None  # an entrypoint replaces the image's: its CMD no longer runs
        if _starts_program(argv):
            return None  # the command replaces the image's CMD
    return _dockerfile_workers(service, env)


def _starts_program(argv: tuple[str, ...]) -> bool:
    return bool(argv) and not argv[0].startswith("-")


def _container_workers(part: ContainerPart, service: Service) -> Workers | None:
    container = part.container
    env = {var.name: var.value for var in container.env if var.value is not None}
    argv = (*(container.command or ()), *(container.args or ()))
    if argv:
        found = _workers_of(argv, env, part.path, container.line)
        if found is not None or container.command is not None:
            return found
        if _starts_program(argv):
            return None
    return _dockerfile_workers(service, env)


def _check_workers(
    workers: Workers | None, limit_bytes: float, limit_text: str, path: str, line: int | None
) -> Hit | None:
    if workers is None:
        return None
    need = workers.count * PER_WORKER_MIB * MIB
    if need <= limit_bytes:
        return None
    fits = int(limit_bytes // (PER_WORKER_MIB * MIB))
    plural = "s" if workers.count != 1 else ""
    where = f"{workers.path}:{workers.line}" if workers.line else workers.path
    message = (
        f"memory limit {limit_text} cannot hold {workers.count} {workers.server} worker"
        f"{plural} ({workers.source}, {where}): at about {PER_WORKER_MIB} MiB per Python web "
        f"worker (an assumption until usage is measured) they need about "
        f"{workers.count * PER_WORKER_MIB} MiB"
    )
    fix = (
        f"Raise the memory limit to at least {workers.count * PER_WORKER_MIB * 3 // 2} MiB "
        f"(workers x {PER_WORKER_MIB} MiB + 50% headroom)"
        + (f", or run at most {fits} worker{'s' if fits != 1 else ''}" if fits >= 1 else "")
        + "; then measure the real per-worker memory with `docker stats` under load and size "
        "from it."
    )
    return Hit(
        path=path,
        line=line,
        message=message,
        fix=fix,
        related=(Related(workers.path, workers.line, f"starts {workers.count} worker{plural}"),),
        # a single worker may well fit in less: 100 MiB is a rough figure
        severity=Severity.INFO if workers.count < 2 else None,
    )


@service_rule(
    "DW408",
    lesson="limits",
    severity="warning",
    title="Memory limit smaller than the server's workers need",
    why=f"""
        Each gunicorn, uvicorn, hypercorn, granian or uWSGI worker is a separate Python
        process with its own copy of the app: a small Flask or FastAPI app sits at
        50-80 MiB after imports and grows under traffic. dockwise assumes about
        {PER_WORKER_MIB} MiB per Python web worker until usage is measured. When workers
        x {PER_WORKER_MIB} MiB is more than the memory limit, the container is OOM-killed
        under load (or as soon as every worker has served a few requests), and the kill
        takes every in-flight request with it.

        The worker count is read from the command the container runs (the compose
        `command`, the Kubernetes `command`/`args`, else the Dockerfile's
        ENTRYPOINT/CMD): `-w`/`--workers`/`--processes`, `WEB_CONCURRENCY` (read by
        gunicorn and uvicorn), `GUNICORN_CMD_ARGS`, and gunicorn's default of one worker.
        With one worker the figure is too rough to warn: info.
    """,
    fix=f"""
        Raise the memory limit to workers x {PER_WORKER_MIB} MiB plus 50% headroom, or run
        fewer workers (and more replicas); then measure the real per-worker figure with
        `docker stats` under load.
    """,
    bad={
        "Dockerfile": """\
            FROM python:3.12-slim
            WORKDIR /app
            COPY . .
            CMD ["gunicorn", "-w", "4", "-b", "0.0.0.0:8000", "app:app"]
        """,
        "compose.yaml": """\
            services:
              web:
                build: .
                mem_limit: 256m
                cpus: 1.0
        """,
    },
    good={
        "Dockerfile": """\
            FROM python:3.12-slim
            WORKDIR /app
            COPY . .
            CMD ["gunicorn", "-w", "4", "-b", "0.0.0.0:8000", "app:app"]
        """,
        "compose.yaml": """\
            services:
              web:
                build: .
                mem_limit: 768m
                cpus: 1.0
        """,
    },
)
def workers_exceed_memory_limit(service: Service, project: Project) -> Iterator[Hit]:
    for part in service.compose:
        size = part.service.memory_limit
        if size is None:
            continue
        hit = _check_workers(
            _compose_workers(part, service),
            size.bytes,
            size.written,
            size.origin.path,
            size.origin.line,
        )
        if hit is not None:
            yield hit
    for container in service.containers:
        if container.container.init:
            continue
        limit = container.container.resources.limits_memory
        if limit is None or limit.value is None:
            continue
        hit = _check_workers(
            _container_workers(container, service),
            limit.value,
            limit.text,
            container.path,
            limit.line,
        )
        if hit is not None:
            yield hit
