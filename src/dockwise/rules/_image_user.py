"""Which user a service's image starts as, for the compose and Kubernetes security rules:
the Dockerfile's own USER when the project builds the image, else what dockwise knows of
the public image (baseimages.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec import Struct

from dockwise.digits import is_digits, small_int

if TYPE_CHECKING:
    from dockwise.model.service import Service
    from dockwise.project import Project
    from dockwise.sources.dockerfile import Dockerfile


class ImageUser(Struct, frozen=True):
    """kind: "nonroot", "root", "drops" (the entrypoint starts the server as another user),
    "workers" (a root master with unprivileged workers), "windows" or "unknown"."""

    kind: str
    user: str | None = None  # the USER as written, when the Dockerfile sets one
    path: str | None = None  # where that is known: the Dockerfile and its USER line
    line: int | None = None
    why: str = ""

    @property
    def numeric(self) -> bool:
        return is_digits((self.user or "").partition(":")[0])

    @property
    def uid(self) -> int | None:
        return small_int((self.user or "").partition(":")[0])

    @property
    def built_here(self) -> bool:
        return self.path is not None


def image_user(service: Service, image: str | None, project: Project) -> ImageUser:
    """The user the image of `service` starts as (`image`: the reference the compose service
    or container names, used when no Dockerfile of the project builds it); what the built
    image's config says settles what the Dockerfile and the base leave unknown (--image)."""
    known = _declared_user(service, image, project)
    if known.kind != "unknown" or service.image is None:
        return known
    from msgspec.structs import replace

    from dockwise.rules._image_config import runs_as_root, user

    facts = service.image.facts
    said = user(facts)
    kind = "root" if runs_as_root(facts) else "nonroot"
    return replace(known, kind=kind, user=said or None, why=f"the built image's User: {said!r}")


def _declared_user(service: Service, image: str | None, project: Project) -> ImageUser:
    from dockwise.baseimages import base_user
    from dockwise.rules.security import (
        base_verdict,
        drops_privileges,
        effective_user,
        is_root,
        own_entrypoint,
    )

    dockerfile = service.dockerfile
    if dockerfile is not None and dockerfile.shipped_stage is not None:
        where = dockerfile.relpath
        instruction, user = effective_user(dockerfile)
        if instruction is not None and user:
            if "$" in user:
                return ImageUser("unknown", user, where, instruction.start_line)
            kind = "root" if is_root(user) else "nonroot"
            return ImageUser(kind, user, where, instruction.start_line, f"USER {user}")
        if _serves(dockerfile, project) and drops_privileges(dockerfile, project):
            return ImageUser("drops", None, where, None, "its entrypoint drops privileges")
        verdict = base_verdict(dockerfile, project)
        if verdict.kind == "drops" and own_entrypoint(dockerfile):
            return ImageUser("root", None, where, None, f"no USER; base {verdict.where}")
        return ImageUser(verdict.kind, None, where, None, f"no USER; base {verdict.where}")
    if not image or "$" in image or "{{" in image:
        return ImageUser("unknown")
    known = base_user(image)
    return ImageUser(known.kind, why=known.why)


def _serves(dockerfile: Dockerfile, project: Project) -> bool:
    """A service or a one-shot job: an image whose entrypoint may drop privileges."""
    from dockwise.rules._common import not_a_service

    reason = not_a_service(dockerfile, project)
    return reason is None or reason.kind == "job"
