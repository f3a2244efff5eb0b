"""Every join between artifacts, made once and printable: which stage of a Dockerfile
ships, which Dockerfile builds the image another one starts FROM, and which compose services
and Kubernetes containers run the image a Dockerfile builds, so which files make one service.

- which compose build uses a Dockerfile, and so which stage ships (`stage_choice`);
- which Dockerfile of the project builds the image another Dockerfile's FROM names
  (`compose_images`, `script_images`, `folder_images`): compose `image:` next to `build:`, `docker build -t NAME` in Makefiles
  and shell scripts, and directory naming (`FROM acme/base` and a `base/Dockerfile`).

Loaders never judge and rules never read files: this module only reads compose files and
scripts the discovery found (and, for one Dockerfile checked alone, the compose files in
its folder and the folders above it up to the repository root).

The service joins (`build_services`), strongest first:
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

import os
import shlex
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct, field

from dockwise.lazyre import lazy_compile
from dockwise.model.service import ComposePart, ContainerPart, ImagePart, Join, Service
from dockwise.sources.imageref import parse_image_ref

if TYPE_CHECKING:
    from dockwise.project import Project
    from dockwise.sources.compose import ComposeFile
    from dockwise.sources.dockerfile import Dockerfile

# a stage (or compose file, or folder) named like this is for developers, not production
DEV_WORDS = frozenset(
    {
        "dev",
        "devel",
        "develop",
        "development",
        "devcontainer",
        "test",
        "tests",
        "testing",
        "debug",
        "ci",
        "lint",
        "local",
        "e2e",
    }
)
_WORD_SPLIT = lazy_compile(r"[-_./]+")
# without a .git above it, a single Dockerfile's compose files are looked for this far up
MAX_PARENT_LEVELS = 3
MAX_SCRIPT_BYTES = 256 * 1024


def is_dev_name(name: str | None) -> bool:
    """`dev`, `test`, `debug-tools`, `ci_runner`, `docker-compose.dev`... (case-insensitive)."""
    if not name:
        return False
    return any(word in DEV_WORDS for word in _WORD_SPLIT.split(name.lower()))


class StageChoice(Struct, frozen=True):
    """What says which stage of a Dockerfile ships."""

    target: str | None  # the stage to judge; None: the last one
    source: str  # for messages: "--target", "compose.yaml (service web)"


def stage_choice(
    dockerfile: Path,
    compose_files: Iterable[ComposeFile],
    relpath: Callable[[Path], str],
    resolved: dict[Path, Path] | None = None,
) -> StageChoice | None:
    """The stage the compose files build from this Dockerfile; None when none builds it.

    Several builds: a production-looking one (target and compose file not named dev/test)
    wins over a development one. `resolved` keeps the builds' Dockerfile paths resolved,
    for many Dockerfiles at once."""
    found: list[tuple[bool, StageChoice]] = []
    wanted = dockerfile.resolve()
    known = resolved if resolved is not None else {}
    for compose in compose_files:
        for build in compose.builds:
            if build.dockerfile not in known:
                known[build.dockerfile] = build.dockerfile.resolve()
            if known[build.dockerfile] != wanted:
                continue
            where = f"{relpath(compose.path)} (service {build.service})"
            dev = is_dev_name(build.target) or is_dev_name(compose.path.name.rsplit(".", 1)[0])
            found.append((dev, StageChoice(build.target, where)))
    if not found:
        return None
    found.sort(key=lambda item: item[0])  # stable: production-looking builds first
    return found[0][1]


def compose_files_above(
    dockerfile: Path, stop: Path | None = None, listings: dict[Path, list[str]] | None = None
) -> list[Path]:
    """Compose files in the Dockerfile's folder and the folders above it, up to `stop`, or
    the repository root (the folder holding .git), or MAX_PARENT_LEVELS without one.
    `listings` keeps the compose names of each folder read, for many Dockerfiles at once."""
    from dockwise.project import is_compose_name

    folder = dockerfile.resolve().parent
    top = stop.resolve() if stop is not None else repository_root(folder)
    found: list[Path] = []
    levels = 0
    while True:
        names = listings.get(folder) if listings is not None else None
        if names is None:
            try:
                names = [name for name in sorted(os.listdir(folder)) if is_compose_name(name)]
            except OSError:
                names = []
            if listings is not None:
                listings[folder] = names
        found.extend(folder / name for name in names)
        levels += 1
        if folder == top or folder.parent == folder:
            break
        if top is None and levels > MAX_PARENT_LEVELS:
            break
        folder = folder.parent
    return [path for path in found if path.is_file()]


def repository_root(folder: Path) -> Path | None:
    """The folder holding .git at or above `folder`, if any."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


# --- images built inside the project ----------------------------------------------------


def image_key(reference: str) -> str | None:
    """`quay.io/acme/base:1.2` -> `quay.io/acme/base`; None for variables or empty text."""
    if "$" in reference or not reference.strip():
        return None
    ref = parse_image_ref(reference)
    return f"{ref.registry}/{ref.repository}"


class ImageLink(Struct, frozen=True):
    """`image` is built from `dockerfile` (a project path); `how` says what tells so."""

    image: str
    dockerfile: str
    target: str | None
    how: str


def compose_images(
    compose_files: Iterable[ComposeFile], relpath: Callable[[Path], str]
) -> list[ImageLink]:
    """Services with both `image:` and `build:` name the image their build makes."""
    links: list[ImageLink] = []
    for compose in compose_files:
        for build in compose.builds:
            service = compose.services.get(build.service)
            image = _service_image(service)
            key = image_key(image) if image else None
            if key:
                how = f"{relpath(compose.path)} service {build.service} builds {image}"
                links.append(ImageLink(key, relpath(build.dockerfile), build.target, how))
    return links


def _service_image(service: object) -> str | None:
    """A service's `image:` (a typed `Text` with `.value`, or the raw mapping's string)."""
    value = service.get("image") if isinstance(service, Mapping) else None
    if value is None:
        value = getattr(service, "image", None)
    value = getattr(value, "value", value)
    return str(value) if value else None


_DOCKER_BUILD = lazy_compile(r"\b(?:docker|podman|buildah)\s+(?:buildx\s+)?(?:build|bud)\b[^\n]*")


def script_images(scripts: Iterable[Path], root: Path) -> list[ImageLink]:
    """`docker build -t NAME [-f FILE] CONTEXT` lines of Makefiles and shell scripts."""
    links: list[ImageLink] = []
    for script in scripts:
        try:
            with script.open("rb") as handle:
                text = handle.read(MAX_SCRIPT_BYTES).decode("utf-8", "replace")
        except OSError:
            continue
        if "build" not in text:
            continue
        text = text.replace("\\\n", " ")
        for match in _DOCKER_BUILD.finditer(text):
            link = _build_line(match.group(0), script, root)
            if link is not None:
                links.append(link)
    return links


def _build_line(line: str, script: Path, root: Path) -> ImageLink | None:
    try:
        words = shlex.split(line.split("&&")[0].split(";")[0], comments=True)
    except ValueError:
        return None
    tags: list[str] = []
    dockerfile: str | None = None
    target: str | None = None
    positional: list[str] = []
    index = 2
    while index < len(words):
        word = words[index]
        name, eq, inline = word.partition("=")
        takes = name in ("-t", "--tag", "-f", "--file", "--target")
        value = inline if eq else (words[index + 1] if takes and index + 1 < len(words) else "")
        if name in ("-t", "--tag"):
            tags.append(value)
        elif name in ("-f", "--file"):
            dockerfile = value
        elif name == "--target":
            target = value
        elif not word.startswith("-"):
            positional.append(word)
        index += 2 if takes and not eq else 1
    if not tags or not positional or "$" in positional[-1]:
        return None
    context = (script.parent / positional[-1]).resolve()
    if dockerfile is None:
        path = context / "Dockerfile"
    elif "$" in dockerfile:
        return None
    else:
        path = (script.parent / dockerfile).resolve()
        if not path.is_file():
            path = (context / dockerfile).resolve()
    if not path.is_file():
        return None
    try:
        rel = path.relative_to(root).as_posix()
        where = script.relative_to(root).as_posix()
    except ValueError:
        return None
    key = next((k for tag in tags if (k := image_key(tag))), None)
    if key is None:
        return None
    return ImageLink(key, rel, target, f"{where} runs `docker build -t {tags[0]}`")


def folder_images(references: Iterable[str], dockerfiles: Iterable[str]) -> list[ImageLink]:
    """`FROM acme/base` and exactly one `base/Dockerfile` (or `base.Dockerfile`,
    `Dockerfile.base`) in the project: that Dockerfile builds it. Only for images with an
    owner (`acme/base`), never for official ones (`FROM redis` next to a `redis/` folder
    is usually the image it customises)."""
    by_name: dict[str, list[str]] = {}
    for relpath in dockerfiles:
        for name in names_of(relpath):
            by_name.setdefault(name, []).append(relpath)
    links: list[ImageLink] = []
    for reference in references:
        key = image_key(reference)
        if key is None:
            continue
        ref = parse_image_ref(reference)
        if ref.official_name is not None or "/" not in ref.repository:
            continue
        name = ref.repository.rsplit("/", 1)[-1]
        found = by_name.get(name, [])
        if len(found) == 1:
            links.append(ImageLink(key, found[0], None, f"{found[0]} is named after {name}"))
    return links


def names_of(relpath: str) -> set[str]:
    folder, _, file = relpath.rpartition("/")
    lowered = file.lower()
    names: set[str] = set()
    if lowered in ("dockerfile", "containerfile") and folder:
        names.add(folder.rsplit("/", 1)[-1].lower())
    elif lowered.endswith((".dockerfile", ".containerfile")):
        names.add(lowered.rsplit(".", 1)[0])
    elif lowered.startswith(("dockerfile.", "containerfile.")):
        names.add(lowered.partition(".")[2])
    return names


# --- services: the parts that run one image ------------------------------------------


class _Draft(Struct):
    name: str
    dockerfile: Dockerfile | None = None
    context_dir: Path | None = None
    compose: list[ComposePart] = field(default_factory=list)
    containers: list[ContainerPart] = field(default_factory=list)
    joins: list[Join] = field(default_factory=list)
    image: ImagePart | None = None

    def freeze(self) -> Service:
        return Service(
            self.name,
            self.dockerfile,
            tuple(self.compose),
            tuple(self.containers),
            self.context_dir,
            tuple(self.joins),
            image=self.image,
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
    sole = _sole_own_image(project) if single is not None else None
    for manifest in project.manifests:
        for workload in manifest.workloads:
            for container in workload.containers:
                part = ContainerPart(manifest, workload, container)
                _add_container(drafts, project, part, by_image, single, sole)
    for image in project.images:
        _add_image(drafts, image, by_image, single)
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
    sole: str | None = None,
) -> None:
    owner, because = _container_owner(project, part, by_image, single, sole)
    draft = drafts.get(owner) if owner else None
    if draft is None:
        key = f"k8s:{part.path}:{part.workload.label}:{part.container.name}"
        draft = drafts.setdefault(key, _Draft(f"{part.workload.name}/{part.container.name}"))
        because = "runs an image no Dockerfile here builds"
    draft.containers.append(part)
    draft.joins.append(Join("kubernetes", part.path, part.container.line, part.label, because))


def _add_image(
    drafts: dict[str, _Draft],
    part: ImagePart,
    by_image: Mapping[str, str],
    single: Dockerfile | None,
) -> None:
    """A built image joins the service it was built for: the Dockerfile the project says
    builds its name, else the compose service or Kubernetes container that runs its name,
    else the project's only service Dockerfile; else it is a service of its own."""
    owner, because = _image_owner(drafts, part, by_image, single)
    draft = drafts.get(owner) if owner else None
    if draft is None or draft.image is not None:
        draft = drafts.setdefault(f"image:{part.path}", _Draft(part.label))
        because = (
            "the image checked"
            if len(drafts) == 1
            else "no Dockerfile or service here is known to build or run it"
        )
    draft.image = part
    draft.joins.append(Join("image", part.path, None, f"image {part.label}", because))


def _image_owner(
    drafts: Mapping[str, _Draft],
    part: ImagePart,
    by_image: Mapping[str, str],
    single: Dockerfile | None,
) -> tuple[str | None, str]:
    key = image_key(part.reference) if part.reference else None
    if key is not None:
        if key in by_image:
            return by_image[key], f"named {part.reference}, which {by_image[key]} builds"
        for name, draft in drafts.items():
            for compose in draft.compose:
                image = compose.service.image.value if compose.service.image else None
                if image and image_key(image) == key:
                    service = compose.service.name
                    return name, f"named {part.reference}, which service {service} runs"
            for container in draft.containers:
                image = container.container.image
                if image and image_key(image) == key:
                    return name, f"named {part.reference}, which {container.label} runs"
    if single is not None:
        name = f"named {part.reference}" if part.reference else "unnamed"
        return single.relpath, (
            f"{name}; {single.relpath} is the only service Dockerfile, taken as its build"
        )
    return None, ""


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
    sole: str | None = None,
) -> tuple[str | None, str]:
    image = part.container.image
    key = image_key(image) if image else None
    if key is None:
        placeholder = _placeholder_owner(project, part.path, image) if image else None
        return placeholder or (None, "")
    if key in by_image:
        return by_image[key], f"runs {image}, which {by_image[key]} builds"
    if single is not None:
        repository_name = key.rsplit("/", 1)[-1]
        if repository_name in _folder_names(project, single):
            return single.relpath, f"runs {image}, named like the folder of {single.relpath}"
        if sole is not None and repository_name == sole and _holds(single, part.path):
            return single.relpath, (
                f"runs {image}, the only image of the manifests that is not a well-known "
                f"public one, and {single.relpath} is the only service Dockerfile"
            )
    nearby = _local_image_owner(project, part.path, image) if image else None
    if nearby is not None:
        return nearby
    named = _named_folder_owner(project, part.path, key)
    if named is not None:
        return named
    return None, ""


_PLACEHOLDER = lazy_compile(r"^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|<[^<>]+>)$")


def _placeholder_owner(project: Project, manifest: str, image: str) -> tuple[str, str] | None:
    """A manifest whose image is only a placeholder (`$IMAGE_URL`, `${IMAGE}`, `<IMAGE>`:
    the README's build step fills it in) runs the one Dockerfile of its own folder, or of
    the folder holding its manifests folder (`app/Dockerfile` and `app/k8s/job.yaml`)."""
    if not _PLACEHOLDER.match(image.strip()):
        return None
    by_folder = _dockerfiles_by_folder(project)
    folders = manifest.split("/")[:-1]
    candidates = ["/".join(folders)]
    if folders and _manifest_folder(folders[-1]):
        candidates.append("/".join(folders[:-1]))
    for folder in candidates:
        here = by_folder.get(folder, [])
        if len(here) == 1:
            return here[0].relpath, f"runs {image}, a placeholder beside {here[0].relpath}"
        if here:
            return None
    return None


def _manifest_folder(name: str) -> bool:
    lowered = name.lower()
    return lowered in _MANIFEST_FOLDERS or any(
        word in ("manifests", "k8s", "kubernetes") for word in _WORD_SPLIT.split(lowered)
    )


def _named_folder_owner(project: Project, manifest: str, key: str) -> tuple[str, str] | None:
    """An image named after a Dockerfile's folder below the manifest's sample folder:
    `registry.k8s.io/example-dns-frontend` and `images/frontend/Dockerfile`, the only
    Dockerfile there whose folder name ends the image's name. The sample folder is the
    manifest's own, or the one holding its manifests folder."""
    name = key.rsplit("/", 1)[-1].lower()
    words = [w for w in _WORD_SPLIT.split(name) if w]
    folders = manifest.split("/")[:-1]
    if folders and _manifest_folder(folders[-1]):
        folders = folders[:-1]
    if not folders:
        return None  # the whole project: too wide to guess from a name
    top = "/".join(folders) + "/"
    found: list[Dockerfile] = []
    for dockerfile in project.dockerfiles:
        if not dockerfile.relpath.startswith(top):
            continue
        folder = dockerfile.relpath.rpartition("/")[0]
        if folder + "/" == top:
            continue
        own = [w for w in _WORD_SPLIT.split(folder.rsplit("/", 1)[-1].lower()) if w]
        if own and len(own) < len(words) and words[-len(own) :] == own:
            found.append(dockerfile)
    if len(found) != 1:
        return None
    owner = found[0].relpath
    return owner, f"runs {key.rsplit('/', 1)[-1]}, named after the folder of {owner}"


# the folders Kubernetes manifests live in, beside the Dockerfile of what they deploy
_MANIFEST_FOLDERS = frozenset(
    {"k8s", "kubernetes", "kube", "manifests", "deploy", "deployment", "kustomize", "base"}
)
_KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def _local_image_owner(project: Project, manifest: str, image: str) -> tuple[str, str] | None:
    """The Dockerfile that builds a placeholder image name of a manifest: a Kustomization
    between the manifest and the Dockerfile's folder replaces the name (`images:` with
    `newName`/`newTag`, what `kustomize edit set image` writes), or the name is one word
    with no registry nor tag (`image: hello`: nothing pullable) that the nearest
    Dockerfile above the manifest runs (`CMD ["/hello"]`) or that is that folder's only
    Dockerfile, beside the manifests' folder (`app/Dockerfile` and `app/k8s/`)."""
    ref = parse_image_ref(image)
    one_word = "/" not in image and ":" not in image and "@" not in image
    folders = manifest.split("/")[:-1]
    by_folder = _dockerfiles_by_folder(project)
    for depth in range(len(folders), -1, -1):
        folder = "/".join(folders[:depth])
        kustomized = _kustomized_names(project, folder)
        new_name = kustomized.get(image.partition(":")[0], kustomized.get(ref.repository))
        if new_name is not None:
            where = f"{folder}/kustomization.yaml" if folder else "kustomization.yaml"
            link = project.image_links.get(image_key(new_name) or "") if new_name else None
            if link is not None:
                return link.dockerfile, f"runs {image}, which {where} sets to {new_name}"
            owner = _nearest_dockerfiles(project, folders[:depth])
            if len(owner) == 1:
                return owner[0].relpath, f"runs {image}, which {where} sets to the image it builds"
        here = by_folder.get(folder, [])
        if not here or not one_word or depth == len(folders):
            continue
        beside = folders[depth] in _MANIFEST_FOLDERS
        runs = [df for df in here if _runs_program(df, image)]
        if len(runs) == 1 or (len(runs) > 1 and beside):
            return runs[0].relpath, f"runs {image}, the program {runs[0].relpath} builds"
        if len(here) == 1 and beside and image not in _OFFICIAL_IMAGES:
            return here[0].relpath, f"runs {image} (no registry, no tag), beside {here[0].relpath}"
        return None  # the nearest folder with Dockerfiles decides
    return None


# official images a manifest pulls by one word: never a placeholder for a local build
_OFFICIAL_IMAGES = frozenset(
    [
        "alpine",
        "busybox",
        "ubuntu",
        "debian",
        "centos",
        "fedora",
        "amazonlinux",
        "nginx",
        "httpd",
        "haproxy",
        "traefik",
        "caddy",
        "redis",
        "memcached",
        "postgres",
        "mysql",
        "mariadb",
        "mongo",
        "cassandra",
        "elasticsearch",
        "rabbitmq",
        "zookeeper",
        "consul",
        "vault",
        "registry",
        "python",
        "node",
        "golang",
        "openjdk",
        "eclipse-temurin",
        "tomcat",
        "php",
        "ruby",
        "perl",
        "rust",
        "wordpress",
        "ghost",
        "nextcloud",
        "influxdb",
        "telegraf",
        "chronograf",
        "kibana",
        "logstash",
        "nats",
    ]
)


def _dockerfiles_by_folder(project: Project) -> dict[str, list[Dockerfile]]:
    """The project's Dockerfiles (not named for development) by folder, listed once."""

    def compute() -> dict[str, list[Dockerfile]]:
        table: dict[str, list[Dockerfile]] = {}
        for df in project.dockerfiles:
            folder, _, name = df.relpath.rpartition("/")
            if not is_dev_name(name):
                table.setdefault(folder, []).append(df)
        return table

    return project.memo("dockerfiles_by_folder", project, compute)


def _kustomized_names(project: Project, folder: str) -> dict[str, str]:
    """The image names a Kustomization in `folder` replaces (`images: [{name, newName,
    newTag}]`) with their new name ("" when only the tag changes), each folder read once."""
    cache: dict[str, dict[str, str]] = project.memo("kustomized_names", project, dict)
    found = cache.get(folder)
    if found is None:
        found = cache[folder] = _read_kustomized_names(project, folder)
    return found


def _read_kustomized_names(project: Project, folder: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in _KUSTOMIZATIONS:
        path = project.root / folder / name if folder else project.root / name
        if not path.is_file():
            continue
        from dockwise.sources.yamlload import Map, Seq, YamlReadError, load_yaml, read_text

        try:
            text = read_text(path, 256 * 1024)
        except YamlReadError:
            continue
        for document in load_yaml(text, source=name).documents:
            images = document.get("images") if isinstance(document, Map) else None
            if not isinstance(images, Seq):
                continue
            for item in images.items:
                if not isinstance(item, Map):
                    continue
                value = getattr(item.get("name"), "value", None)
                new_name = getattr(item.get("newName"), "value", None)
                if isinstance(value, str) and value:
                    found[value] = new_name if isinstance(new_name, str) else ""
    return found


def _nearest_dockerfiles(project: Project, folders: list[str]) -> list[Dockerfile]:
    by_folder = _dockerfiles_by_folder(project)
    for depth in range(len(folders), -1, -1):
        here = by_folder.get("/".join(folders[:depth]))
        if here:
            return here
    return []


def _runs_program(dockerfile: Dockerfile, name: str) -> bool:
    """The shipped image's ENTRYPOINT or CMD starts a program called `name`."""
    for stage in dockerfile.shipped_chain():
        for kind in ("ENTRYPOINT", "CMD"):
            instruction = stage.last(kind)
            if instruction is None or not instruction.value:
                continue
            words = instruction.value if instruction.json else instruction.script.split()
            program = str(words[0]) if words else ""
            if program.rsplit("/", 1)[-1] == name:
                return True
        if stage.last("ENTRYPOINT") is not None or stage.last("CMD") is not None:
            return False
    return False


# namespaces of well-known vendors' public images: a project does not build these
_PUBLIC_NAMESPACES = frozenset(
    {
        "bitnami",
        "grafana",
        "prom",
        "prometheus",
        "jaegertracing",
        "otel",
        "openzipkin",
        "hashicorp",
        "confluentinc",
        "elastic",
        "minio",
        "curlimages",
        "busybox",
        "nginxinc",
        "envoyproxy",
        "istio",
        "coredns",
        "kubernetesui",
        "jetstack",
        "fluent",
        "timberio",
        "cockroachdb",
        "memcached",
        "docker",
        "library",
        "google-samples",
        "distroless",
        "chainguard",
        "linuxserver",
        "percona",
        "mongo",
        "rabbitmq",
    }
)


def _well_known_public(key: str) -> bool:
    """An image a project pulls rather than builds: an official library image, a
    distroless/Chainguard base, a well-known vendor's image, or one named like an
    official image under another namespace (`bitnami/redis`, `quay.io/x/postgres`)."""
    registry, _, repository = key.partition("/")
    parts = repository.split("/")
    if registry == "docker.io" and (len(parts) == 1 or parts[0] == "library"):
        return True
    if registry in ("registry.k8s.io", "k8s.gcr.io", "mcr.microsoft.com", "public.ecr.aws"):
        return True
    if repository.startswith(("distroless/", "chainguard/")):
        return True
    if parts[0] in _PUBLIC_NAMESPACES:
        return True
    return parts[-1] in _OFFICIAL_IMAGES


def _holds(dockerfile: Dockerfile, manifest: str) -> bool:
    """The Dockerfile's folder holds the manifest (the root Dockerfile holds them all)."""
    folder = dockerfile.relpath.rpartition("/")[0]
    return not folder or manifest.startswith(folder + "/")


def _sole_own_image(project: Project) -> str | None:
    """The one image name (last path part) the manifests run that is not a well-known
    public image (`ghcr.io/acme/shop` and `acme/shop:dev` are one name): with a single
    service Dockerfile, that is what the project builds. None when there are several."""
    names: set[str] = set()
    for manifest in project.manifests:
        for workload in manifest.workloads:
            for container in workload.containers:
                key = image_key(container.image) if container.image else None
                if key is None or _well_known_public(key):
                    continue
                names.add(key.rsplit("/", 1)[-1])
                if len(names) > 1:
                    return None
    return next(iter(names)) if names else None


def _single_service_dockerfile(project: Project) -> Dockerfile | None:
    candidates = [df for df in project.dockerfiles if not is_dev_name(df.relpath)]
    return candidates[0] if len(candidates) == 1 else None


def _folder_names(project: Project, dockerfile: Dockerfile) -> set[str]:
    names = {project.root.name.lower()}
    folder = dockerfile.relpath.rpartition("/")[0]
    if folder:
        names.add(folder.rsplit("/", 1)[-1].lower())
    return names
