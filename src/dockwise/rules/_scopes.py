"""The scopes a rule can declare beyond one Dockerfile: a compose service, a Kubernetes
container, a built image, or a whole service with all its parts (model/service.py).

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
    from dockwise.imagescan.facts import ImageFacts
    from dockwise.model.service import ComposePart, ContainerPart, Service
    from dockwise.project import Project

ComposeCheck = Callable[["ComposePart", "Service", "Project"], Iterable[Hit]]
ContainerCheck = Callable[["ContainerPart", "Service", "Project"], Iterable[Hit]]
ServiceCheck = Callable[["Service", "Project"], Iterable[Hit]]
ImageCheck = Callable[["ImageFacts", "Service", "Project"], Iterable[Hit]]

# the scope of each check made here, by its `run` function: a rule of scope `compose`,
# `kubernetes` or `image` reports nothing on a project without compose files, manifests or
# images, so its module need not even be imported for it (rules/__init__.py, `rules_for`)
SCOPE_OF_CHECK: dict[object, str] = {}


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
        SCOPE_OF_CHECK[run] = "compose"
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
        SCOPE_OF_CHECK[run] = "kubernetes"
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
        SCOPE_OF_CHECK[run] = "service"
        return make(run)

    return wrap


def image_rule(id: str, **meta: Any) -> Callable[[ImageCheck], Rule]:
    """A rule run once per built image read with the project (`dockwise image SOURCE`,
    `dockwise check PATH --image SOURCE`), with the service it joined (model/link.py): the
    Dockerfile, compose services and containers of what it was built for, or nothing else
    when the image is checked alone. Its examples are images (rules/_image_examples.py).

    Hits name the image with `at_image`; the Dockerfile line behind a layer or a history
    entry is `imagescan.join.origin_of`."""
    make = rule(id, **meta)

    def wrap(check: ImageCheck) -> Rule:
        def run(project: Project) -> Iterator[Hit]:
            if not project.images:  # most checks: the services are not even built for this
                return
            for service in project.services:
                if service.image is not None:
                    yield from check(service.image.facts, service, project)

        run.__name__ = check.__name__
        run.__doc__ = check.__doc__
        SCOPE_OF_CHECK[run] = "image"
        return make(run)

    return wrap


def at_image(
    service: Service,
    message: str,
    *,
    fix: str | None = None,
    related: tuple[Related, ...] = (),
    fingerprint: str | None = None,
) -> Hit:
    """A hit on a service's built image (reported under the image's source, no line)."""
    assert service.image is not None, "at_image needs a service with an image"
    return Hit(
        path=service.image.path,
        line=None,
        message=message,
        fix=fix,
        related=related,
        fingerprint=fingerprint,
    )


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
