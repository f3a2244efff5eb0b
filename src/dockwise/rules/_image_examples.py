"""Examples of image rules: a built image described as a small JSON document.

An image rule's bad and good examples are `image_example(...)`: the image config (the
`config` object `docker inspect` shows), its layers (each the history command that made it,
the files it adds and the paths it deletes) and, for rules that join the image to its
Dockerfile, project files. The example is a project holding `image.json`; the example tests
(tests/rules/test_examples.py) write it into a docker-archive and read that back through the
real readers and analysis, so an example exercises the same path as `dockwise image`.

    image_example(
        config={"User": "app", "Cmd": ["python", "-m", "app"]},
        layers=[
            layer("COPY rootfs / # buildkit", files=SLIM_FILES),
            layer("RUN rm /app/.env", delete=["/app/.env"]),
            empty("ENV PORT=8000"),
        ],
    )

A file is its text, or `{"size": N}` (N bytes of binary filler), `{"link": "target"}` (a
symbolic link) or `{"dir": true}`; `{"mode": 0o755}` may be added to any of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

IMAGE_SPEC = "image.json"  # the file an image example is written to
EXAMPLE_REFERENCE = "docker.io/acme/web:1.4.2"

FileSpec = str | Mapping[str, Any]

# the few files of a slim Python base image that the examples need: a shell, Python, the
# users (a stand-in, not a real rootfs)
SLIM_FILES: dict[str, FileSpec] = {
    "/bin": {"link": "usr/bin"},
    "/usr/bin/dash": {"size": 125560, "mode": 0o755},
    "/usr/bin/sh": {"link": "dash"},
    "/usr/bin/python3.11": {"size": 6831736, "mode": 0o755},
    "/usr/bin/python3": {"link": "python3.11"},
    "/usr/bin/python": {"link": "python3"},
    "/etc/passwd": (
        "root:x:0:0:root:/root:/bin/bash\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    ),
}


def layer(
    created_by: str,
    files: Mapping[str, FileSpec] | None = None,
    delete: tuple[str, ...] | list[str] = (),
) -> dict[str, Any]:
    """A layer: the history command that made it, the files it adds, the paths it deletes
    (whiteouts)."""
    found: dict[str, Any] = {"created_by": created_by}
    if files:
        found["files"] = dict(files)
    if delete:
        found["delete"] = list(delete)
    return found


def empty(created_by: str) -> dict[str, Any]:
    """A history entry that made no layer (ENV, USER, HEALTHCHECK...)."""
    return {"created_by": created_by, "empty_layer": True}


# the base layer of most examples: a slim Python image's few files, as a builder records it
SLIM_BASE: dict[str, Any] = {
    "created_by": "/bin/sh -c #(nop) ADD file:rootfs.tar in / ",
    "files": SLIM_FILES,
}


class ImageExample(Mapping[str, str]):
    """A rule example that is a built image (and perhaps the project that built it): the
    files to write, `image.json` among them."""

    def __init__(
        self,
        config: Mapping[str, Any],
        layers: list[dict[str, Any]],
        files: Mapping[str, str] | None = None,
        reference: str = EXAMPLE_REFERENCE,
    ) -> None:
        self.spec: dict[str, Any] = {
            "reference": reference,
            "config": dict(config),
            "layers": layers,
        }
        self._files = dict(files or {})
        self._files[IMAGE_SPEC] = _spec_text(self.spec)

    def __getitem__(self, name: str) -> str:
        return self._files[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._files.items())))


def image_example(
    config: Mapping[str, Any],
    layers: list[dict[str, Any]],
    files: Mapping[str, str] | None = None,
    reference: str = EXAMPLE_REFERENCE,
) -> ImageExample:
    """An image example; project `files` (a Dockerfile...) are written beside `image.json`."""
    import textwrap

    dedented = {
        name: textwrap.dedent(text).strip("\n") + "\n" for name, text in (files or {}).items()
    }
    return ImageExample(config, layers, dedented, reference)


def _spec_text(spec: Mapping[str, Any]) -> str:
    """The JSON document, compact where that reads better: the config on one line, one line
    per layer and per file."""
    dump = json.dumps
    lines = [
        "{",
        f'  "reference": {dump(spec["reference"])},',
        f'  "config": {dump(spec["config"])},',
        '  "layers": [',
    ]
    layers = spec["layers"]
    for number, item in enumerate(layers):
        comma = "," if number < len(layers) - 1 else ""
        files = item.get("files")
        if not files:
            lines.append(f"    {dump(item)}{comma}")
            continue
        head = dump({key: value for key, value in item.items() if key != "files"})
        lines.append(f'    {head[:-1]}, "files": {{')
        entries = list(files.items())
        for index, (name, content) in enumerate(entries):
            more = "," if index < len(entries) - 1 else ""
            lines.append(f"      {dump(name)}: {dump(content)}{more}")
        lines.append(f"    }}}}{comma}")
    lines.extend(["  ]", "}"])
    text = "\n".join(lines) + "\n"
    json.loads(text)  # the document must stay valid JSON
    return text


def slim_app_image(*layers: dict[str, Any]) -> ImageExample:
    """The usual example: a Python app run as `app` on the slim base, plus `layers`."""
    return image_example(
        config={"User": "app", "Cmd": ["python", "-m", "app"]},
        layers=[layer("COPY rootfs / # buildkit", files=SLIM_FILES), *layers],
    )
