"""The scopes a rule can declare beyond one Dockerfile: a compose service, a Kubernetes
container, or a whole service with all its parts (model/service.py).

    @compose_rule("DW211", lesson="health", ...)
    def compose_without_healthcheck(part: ComposePart, service: Service, project: Project): ...

Each check runs once per part and gets the service the part belongs to, so a cross-check
(a compose healthcheck against the Dockerfile's EXPOSE, a probe against the app's routes)
is an ordinary rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from dockwise.findings import Hit, Related, Rule, rule

if TYPE_CHECKING:
    from dockwise.model.service import ComposePart, ContainerPart, Service
    from dockwise.project import Project

ComposeCheck = Callable[["ComposePart", "Service", "Project"], Iterable[Hit]]
ContainerCheck = Callable[["ContainerPart", "Service", "Project"], Iterable[Hit]]
ServiceCheck = Callable[["Service", "Project"], Iterable[Hit]]


def compose_rule(id: str, **meta: Any) -> Callable[[ComposeCheck], Rule]:
    """A rule run once per compose service (override files merged, as compose reads them)."""
    make = rule(id, **meta)

    def wrap(check: ComposeCheck) -> Rule:
        def run(project: Project) -> Iterator[Hit]:
            for service in project.services:
                for part in service.compose:
                    yield from check(part, service, project)

        run.__name__ = check.__name__
        run.__doc__ = check.__doc__
        return make(run)

    return wrap


def container_rule(
    id: str, *, batch: bool = False, init: bool = False, **meta: Any
) -> Callable[[ContainerCheck], Rule]:
    """A rule run once per Kubernetes container; init containers and the containers of
    Jobs and CronJobs only when asked for (probes make no sense there)."""
    make = rule(id, **meta)

    def wrap(check: ContainerCheck) -> Rule:
        def run(project: Project) -> Iterator[Hit]:
            for service in project.services:
                for part in service.containers:
                    if part.container.init and not init:
                        continue
                    if part.workload.is_batch and not batch:
                        continue
                    yield from check(part, service, project)

        run.__name__ = check.__name__
        run.__doc__ = check.__doc__
        return make(run)

    return wrap


def service_rule(id: str, **meta: Any) -> Callable[[ServiceCheck], Rule]:
    """A rule run once per service, with every part it has."""
    make = rule(id, **meta)

    def wrap(check: ServiceCheck) -> Rule:
        def run(project: Project) -> Iterator[Hit]:
            for service in project.services:
                yield from check(service, project)

        run.__name__ = check.__name__
        run.__doc__ = check.__doc__
        return make(run)

    return wrap


def at_line(
    path: str,
    line: int | None,
    message: str,
    *,
    fix: str | None = None,
    related: tuple[Related, ...] = (),
) -> Hit:
    """A hit in a compose file, manifest or Python module."""
    return Hit(path=path, line=line, message=message, fix=fix, related=related)
