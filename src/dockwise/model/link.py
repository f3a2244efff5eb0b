"""Every join between artifacts, made once: which compose services and Kubernetes
containers run the image a Dockerfile builds, and so which files make one service.

Links, strongest first:
1. a compose service whose `build:` uses the Dockerfile;
2. an image name the project's own files say the Dockerfile builds (compose `image:` next
   to `build:`, `docker build -t` in Makefiles and scripts, folder naming; see
   `Project.image_links`), matched against compose `image:` and Kubernetes `image:`
   by registry and repository, whatever the tag;
3. a project with a single service Dockerfile whose folder (or the project folder) is
   named like the repository of a Kubernetes image (`podinfo/` and
   `ghcr.io/stefanprodan/podinfo:6.1`).
Whatever is not linked becomes a service of its own (a compose service running a public
image, a Deployment of an image built elsewhere).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dockwise.link import image_key, is_dev_name
from dockwise.model.service import ComposePart, ContainerPart, Join, Service

if TYPE_CHECKING:
    from dockwise.project import Project
    from dockwise.sources.dockerfile import Dockerfile


@dataclass
class _Draft:
    name: str
    dockerfile: Dockerfile | None = None
    context_dir: Path | None = None
    compose: list[ComposePart] = field(default_factory=list)
    containers: list[ContainerPart] = field(default_factory=list)
    joins: list[Join] = field(default_factory=list)

    def freeze(self) -> Service:
        return Service(
            self.name,
            self.dockerfile,
            tuple(self.compose),
            tuple(self.containers),
            self.context_dir,
            tuple(self.joins),
        )


def build_services(project: Project) -> tuple[Service, ...]:
    """The project's services, each with the joins that made it."""
    drafts: dict[str, _Draft] = {}
    for dockerfile in project.dockerfiles:
        name = _dockerfile_name(project, dockerfile)
        draft = _Draft(name, dockerfile, _context(project, dockerfile))
        stage = dockerfile.shipped_stage
        what = f"stage {stage.label}" if stage is not None else "no stage"
        draft.joins.append(Join("dockerfile", dockerfile.relpath, None, what, "a Dockerfile"))
        drafts[dockerfile.relpath] = draft
    by_image = {key: link.dockerfile for key, link in project.image_links.items()}

    for compose in project.compose_files:
        if compose.merged_into is not None:
            continue
        for service in compose.services.values():
            _add_compose(drafts, project, ComposePart(compose, service), by_image)
    single = _single_service_dockerfile(project)
    for manifest in project.manifests:
        for workload in manifest.workloads:
            for container in workload.containers:
                part = ContainerPart(manifest, workload, container)
                _add_container(drafts, project, part, by_image, single)
    return tuple(draft.freeze() for draft in drafts.values())


def _add_compose(
    drafts: dict[str, _Draft], project: Project, part: ComposePart, by_image: Mapping[str, str]
) -> None:
    owner, because = _compose_owner(project, part, by_image)
    draft = drafts.get(owner) if owner else None
    if draft is None:
        key = f"compose:{part.file.relpath}:{part.service.name}"
        draft = drafts.setdefault(key, _Draft(part.service.name))
        because = "runs an image no Dockerfile here builds"
    draft.compose.append(part)
    draft.joins.append(
        Join("compose", part.path, part.line, f"service {part.service.name}", because)
    )


def _add_container(
    drafts: dict[str, _Draft],
    project: Project,
    part: ContainerPart,
    by_image: Mapping[str, str],
    single: Dockerfile | None,
) -> None:
    owner, because = _container_owner(project, part, by_image, single)
    draft = drafts.get(owner) if owner else None
    if draft is None:
        key = f"k8s:{part.path}:{part.workload.label}:{part.container.name}"
        draft = drafts.setdefault(key, _Draft(f"{part.workload.name}/{part.container.name}"))
        because = "runs an image no Dockerfile here builds"
    draft.containers.append(part)
    draft.joins.append(Join("kubernetes", part.path, part.container.line, part.label, because))


def _dockerfile_name(project: Project, dockerfile: Dockerfile) -> str:
    """A service's name: its Dockerfile's folder (the project's, at the root), plus the
    file name when it is not plain `Dockerfile`."""
    folder, _, file = dockerfile.relpath.rpartition("/")
    name = folder.rsplit("/", 1)[-1] if folder else project.root.name
    return name if file in ("Dockerfile", "Containerfile") else f"{name}/{file}"


def _context(project: Project, dockerfile: Dockerfile) -> Path | None:
    return project.context_dir(dockerfile) if dockerfile.path.is_absolute() else None


def _compose_owner(
    project: Project, part: ComposePart, by_image: Mapping[str, str]
) -> tuple[str | None, str]:
    build = part.service.build
    if build is not None and build.dockerfile is not None:
        relpath = project.relpath(build.dockerfile)
        if any(df.relpath == relpath for df in project.dockerfiles):
            return relpath, f"builds {relpath}"
    image = part.service.image.value if part.service.image is not None else None
    key = image_key(image) if image else None
    if key and key in by_image:
        return by_image[key], f"runs {image}, which {by_image[key]} builds"
    return None, ""


def _container_owner(
    project: Project,
    part: ContainerPart,
    by_image: Mapping[str, str],
    single: Dockerfile | None,
) -> tuple[str | None, str]:
    image = part.container.image
    key = image_key(image) if image else None
    if key is None:
        return None, ""
    if key in by_image:
        return by_image[key], f"runs {image}, which {by_image[key]} builds"
    if single is not None:
        repository_name = key.rsplit("/", 1)[-1]
        if repository_name in _folder_names(project, single):
            return single.relpath, f"runs {image}, named like the folder of {single.relpath}"
    return None, ""


def _single_service_dockerfile(project: Project) -> Dockerfile | None:
    candidates = [df for df in project.dockerfiles if not is_dev_name(df.relpath)]
    return candidates[0] if len(candidates) == 1 else None


def _folder_names(project: Project, dockerfile: Dockerfile) -> set[str]:
    names = {project.root.name.lower()}
    folder = dockerfile.relpath.rpartition("/")[0]
    if folder:
        names.add(folder.rsplit("/", 1)[-1].lower())
    return names
