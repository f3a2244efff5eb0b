"""The unit rules see: a service, and the joins that make one (made once, printable).

A service is what one team deploys: the Dockerfile and the stage that ships, its build
context and app code, the compose services and the Kubernetes containers that run it. Any
part may be missing: compose running a public image, a Deployment whose image is built
elsewhere, a Dockerfile nobody orchestrates here. Each part carries the reason it belongs
(`Join`), so `dockwise check --explain-model` can show why two files were read together.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct

if TYPE_CHECKING:
    from dockwise.imagescan.facts import ImageFacts
    from dockwise.sources.compose import ComposeFile, ComposeService
    from dockwise.sources.dockerfile import Dockerfile
    from dockwise.sources.kubernetes import Container, ManifestFile, Workload


class Join(Struct, frozen=True):
    """One part of a service and why it belongs to it."""

    kind: str  # dockerfile, compose, kubernetes, image
    path: str
    line: int | None
    what: str  # "stage runtime", "service web", "Deployment/web container api"
    because: str

    def describe(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{self.kind:<10} {where}  {self.what}  ({self.because})"


class ComposePart(Struct, frozen=True):
    file: ComposeFile
    service: ComposeService

    @property
    def path(self) -> str:
        return self.service.origin.path

    @property
    def line(self) -> int:
        return self.service.origin.line


class ContainerPart(Struct, frozen=True):
    manifest: ManifestFile
    workload: Workload
    container: Container

    @property
    def path(self) -> str:
        return self.manifest.path

    @property
    def label(self) -> str:
        return f"{self.workload.label} container {self.container.name}"


class ImagePart(Struct, frozen=True):
    """A built image dockwise read (`dockwise image SOURCE`, `check PATH --image SOURCE`):
    what the analysis found in it, and the name its findings are reported under."""

    facts: ImageFacts
    path: str  # the source as given: an archive path, an OCI folder, registry://...
    reference: str | None = None  # the name the image carries (a tag, a registry reference)

    @property
    def label(self) -> str:
        return self.reference or self.path


class Service(Struct, frozen=True):
    name: str
    dockerfile: Dockerfile | None
    compose: tuple[ComposePart, ...] = ()
    containers: tuple[ContainerPart, ...] = ()
    context_dir: Path | None = None
    joins: tuple[Join, ...] = ()
    # the built image, when one was read (imagescan/join.py)
    image: ImagePart | None = None

    @property
    def runtime_containers(self) -> Iterator[ContainerPart]:
        """The long-running containers (no init containers, no Jobs or CronJobs)."""
        for part in self.containers:
            if not part.container.init and not part.workload.is_batch:
                yield part

    def health_checks_elsewhere(self) -> list[tuple[str, int | None, str]]:
        """(path, line, what) of every compose healthcheck and Kubernetes liveness or
        readiness probe that checks this service from outside the image."""
        found: list[tuple[str, int | None, str]] = []
        for part in self.compose:
            check = part.service.healthcheck
            if check is not None and not check.disable and check.test[:1] != ("NONE",):
                found.append((check.origin.path, check.origin.line, "compose healthcheck"))
        for container in self.runtime_containers:
            for probe in container.container.probes:
                if probe.kind in ("liveness", "readiness"):
                    found.append((container.path, probe.line, f"{probe.kind} probe"))
        return found

    @property
    def orchestrated(self) -> bool:
        return bool(self.compose or self.containers)
