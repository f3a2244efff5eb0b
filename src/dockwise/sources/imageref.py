"""Image references as FROM and COPY --from write them: registry, repository, tag, digest."""

from __future__ import annotations

from msgspec import Struct

DOCKER_HUB = "docker.io"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
# mirrors of the official images keep their repository layout under a prefix
_HUB_MIRRORS = ("public.ecr.aws/docker/library/", "mirror.gcr.io/library/", "mirror.gcr.io/")


class ImageRef(Struct, frozen=True):
    registry: str  # "docker.io" when none is written
    repository: str  # "library/python", "distroless/python3-debian12", lower case
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """The repository without Docker Hub's `library/` prefix."""
        return self.repository.removeprefix("library/")

    @property
    def official_name(self) -> str | None:
        """`python` for python, library/python and docker.io/library/python; else None."""
        if self.registry != DOCKER_HUB or not self.repository.startswith("library/"):
            return None
        return self.name

    @property
    def short(self) -> str:
        """The image for messages: without docker.io, library/ and the digest."""
        prefix = "" if self.registry == DOCKER_HUB else self.registry + "/"
        return prefix + self.name + (f":{self.tag}" if self.tag else "")


def parse_image_ref(ref: str) -> ImageRef:
    text, _, digest = ref.strip().partition("@")
    for mirror in _HUB_MIRRORS:
        if text.startswith(mirror):
            text = "docker.io/library/" + text[len(mirror) :]
            break
    tag = None
    colon = text.rfind(":")
    if colon > text.rfind("/"):
        text, tag = text[:colon], text[colon + 1 :]
    registry = DOCKER_HUB
    first, sep, rest = text.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, text = first.lower(), rest
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
        if "/" not in text:
            text = "library/" + text
    return ImageRef(registry, text.lower(), tag or None, digest or None)  # tags are case-sensitive
