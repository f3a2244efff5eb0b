"""Image manifests, indexes and configs as JSON: platform choice, layers matched to history."""

from __future__ import annotations

import json
from typing import Any

from msgspec import Struct

from dockwise.sources.image.model import ImageError

MAX_JSON_BYTES = 16 << 20
MAX_INDEX_DEPTH = 4

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})


class Descriptor(Struct, frozen=True):
    media_type: str
    digest: str
    size: int
    platform: str = ""  # "os/arch[/variant]" when the index says
    ref_name: str = ""  # org.opencontainers.image.ref.name / io.containerd.image.name
    attestation: bool = False


def load_json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageError(f"{where}: not valid JSON ({exc.__class__.__name__})") from None


def check_digest(digest: Any, where: str) -> str:
    if not isinstance(digest, str) or not digest.startswith("sha256:"):
        raise ImageError(f"{where}: unsupported digest {str(digest)[:80]!r} (only sha256)")
    hexpart = digest[7:]
    if len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise ImageError(f"{where}: malformed digest {digest[:80]!r}")
    return digest


def descriptor(raw: Any, where: str) -> Descriptor:
    if not isinstance(raw, dict):
        raise ImageError(f"{where}: a descriptor is not an object")
    digest = check_digest(raw.get("digest"), where)
    size = raw.get("size", -1)
    if not isinstance(size, int) or isinstance(size, bool):
        raise ImageError(f"{where}: descriptor {digest[:19]} has no valid size")
    plat = raw.get("platform") or {}
    platform = ""
    if isinstance(plat, dict) and plat.get("os"):
        platform = f"{plat.get('os')}/{plat.get('architecture', '')}"
        if plat.get("variant"):
            platform += f"/{plat['variant']}"
    annotations = raw.get("annotations") or {}
    if not isinstance(annotations, dict):
        annotations = {}
    ref_name = str(
        annotations.get("io.containerd.image.name")
        or annotations.get("org.opencontainers.image.ref.name")
        or ""
    )
    attestation = "vnd.docker.reference.type" in annotations or platform == "unknown/unknown"
    return Descriptor(
        media_type=str(raw.get("mediaType", "")),
        digest=digest,
        size=size,
        platform=platform,
        ref_name=ref_name,
        attestation=attestation,
    )


def normalise_platform(platform: str) -> tuple[str, str, str]:
    parts = (platform.strip().lower().split("/") + ["", "", ""])[:3]
    os_, arch, variant = parts
    if arch in ("arm64", "aarch64") and variant in ("", "v8"):
        arch, variant = "arm64", ""
    if arch in ("x86_64", "x86-64"):
        arch = "amd64"
    return os_, arch, variant


def platform_matches(have: str, want: str) -> bool:
    h, w = normalise_platform(have), normalise_platform(want)
    if h[:2] != w[:2]:
        return False
    return not w[2] or h[2] == w[2] or (not h[2] and w[2] == "v7" and h[1] == "arm")


def is_index(doc: dict[str, Any], media_type: str = "") -> bool:
    kind = doc.get("mediaType") or media_type
    return kind in INDEX_TYPES or ("manifests" in doc and "layers" not in doc)


def choose(manifests: list[Descriptor], platform: str, ref: str, where: str) -> Descriptor:
    """The one manifest of an index this source means."""
    candidates = [m for m in manifests if not m.attestation]
    if ref:
        named = [
            m
            for m in candidates
            if m.ref_name == ref or m.ref_name.rsplit(":", 1)[-1] == ref or m.digest == ref
        ]
        if not named:
            names = sorted({m.ref_name for m in candidates if m.ref_name})
            raise ImageError(f"{where}: no image named {ref!r} (has: {', '.join(names) or 'none'})")
        candidates = named
    with_platform = [m for m in candidates if m.platform]
    if with_platform:
        matching = [
            m for m in candidates if not m.platform or platform_matches(m.platform, platform)
        ]
        if not matching:
            have = ", ".join(sorted({m.platform for m in with_platform}))
            raise ImageError(f"{where}: no manifest for platform {platform} (has: {have})")
        candidates = matching
    if not candidates:
        raise ImageError(f"{where}: the index lists no image")
    if len({(m.digest) for m in candidates}) > 1 and not with_platform:
        names = sorted({m.ref_name for m in candidates if m.ref_name})
        if names and not ref:
            raise ImageError(
                f"{where}: holds several images ({', '.join(names)}); name one as SOURCE:NAME"
            )
    return candidates[0]


def index_entries(doc: Any, where: str) -> list[Descriptor]:
    if not isinstance(doc, dict) or not isinstance(doc.get("manifests"), list):
        raise ImageError(f"{where}: not an image index")
    return [descriptor(m, where) for m in doc["manifests"]]


class ImageManifest(Struct, frozen=True):
    config: Descriptor
    layers: tuple[Descriptor, ...]


def image_manifest(doc: Any, where: str) -> ImageManifest:
    if not isinstance(doc, dict):
        raise ImageError(f"{where}: manifest is not an object")
    if doc.get("schemaVersion") == 1:
        raise ImageError(f"{where}: schema 1 manifests are not supported")
    layers = doc.get("layers")
    if not isinstance(layers, list) or "config" not in doc:
        raise ImageError(f"{where}: not an image manifest")
    return ImageManifest(
        config=descriptor(doc["config"], where),
        layers=tuple(descriptor(layer, where) for layer in layers),
    )


def config_doc(data: bytes, where: str) -> dict[str, Any]:
    doc = load_json(data, where)
    if not isinstance(doc, dict):
        raise ImageError(f"{where}: image config is not an object")
    rootfs = doc.get("rootfs")
    if not isinstance(rootfs, dict) or not isinstance(rootfs.get("diff_ids"), list):
        raise ImageError(f"{where}: image config has no rootfs.diff_ids")
    for diff_id in rootfs["diff_ids"]:
        check_digest(diff_id, where)
    return doc


def diff_ids(config: dict[str, Any]) -> list[str]:
    return list(config["rootfs"]["diff_ids"])


def history_for_layers(config: dict[str, Any], count: int) -> list[tuple[str, int | None]]:
    """(created_by, history index) per layer: history entries with empty_layer skipped."""
    history = config.get("history")
    out: list[tuple[str, int | None]] = []
    if isinstance(history, list):
        for i, item in enumerate(history):
            if not isinstance(item, dict) or item.get("empty_layer"):
                continue
            created_by = item.get("created_by", "")
            out.append((created_by if isinstance(created_by, str) else "", i))
    if len(out) != count:  # history that does not line up with the layers says nothing
        return [("", None)] * count
    return out


def platform_of(config: dict[str, Any]) -> str:
    os_ = config.get("os") or ""
    arch = config.get("architecture") or ""
    variant = config.get("variant") or ""
    text = f"{os_}/{arch}" if os_ or arch else ""
    return f"{text}/{variant}" if variant and text else text
