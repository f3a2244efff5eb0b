"""Image sources read without a daemon and without extracting to disk.

`open_image(SOURCE)` takes a `docker save` archive (legacy or Docker 25+ layout), an
oci-archive tarball, an OCI layout folder, `-` (an archive on standard input) or
`registry://host[:port]/name:tag` / `name@sha256:...`; skopeo-style prefixes
(`docker-archive:`, `oci-archive:`, `oci:`) are accepted too. `FILE:NAME` picks one image of
an archive that holds several. Every blob's sha256 is verified while its layer streams
(unless `verify=False`).
"""

from __future__ import annotations

from dockwise.sources.image.image import Image
from dockwise.sources.image.model import Entry, ImageError, Layer, Limits

__all__ = ["Entry", "Image", "ImageError", "Layer", "Limits", "open_image"]

_PREFIXES = ("docker-archive:", "oci-archive:", "oci:")


def open_image(
    source: str,
    *,
    platform: str = "linux/amd64",
    insecure: bool = False,
    limits: Limits | None = None,
    verify: bool = True,
) -> Image:
    """Open an image source; raises ImageError with a one-line message naming it.
    `verify=False` skips hashing the layer blobs (manifests and configs are still checked
    against their digests): for an archive the caller trusts, such as one `docker save`
    just wrote."""
    limits = limits or Limits()
    if source.startswith("registry://"):
        from dockwise.sources.image.registry import open_registry

        image = open_registry(source, platform=platform, insecure=insecure, timeout=limits.timeout)
        image.limits = limits
        image.verify = verify
        return image
    kind = ""
    path = source
    for prefix in _PREFIXES:
        if source.startswith(prefix):
            kind, path = prefix[:-1], source[len(prefix) :]
            break
    from dockwise.sources.image.archive import open_local, open_stdin

    image = open_stdin(kind, platform) if path == "-" else open_local(path, kind, platform)
    image.limits = limits
    image.verify = verify
    return image
