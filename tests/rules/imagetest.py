"""Image rule examples and tests: a spec (rules/_image_examples.py) written into a real
docker-archive (tests/imagegen.py) and read back through the readers and the analysis."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from imagegen import Dir, File, LayerSpec, Symlink, make_image, whiteout

from dockwise.findings import Finding
from dockwise.imagescan.join import attach, image_project, read_image
from dockwise.model.service import ImagePart
from dockwise.project import Project
from dockwise.rules._image_examples import IMAGE_SPEC


def archive_from_spec(spec: dict[str, Any], path: Path) -> Path:
    """A docker-archive of the image a spec describes."""
    layers: list[LayerSpec] = []
    history: list[dict[str, Any]] = []
    for item in spec["layers"]:
        entry = {"created": "1970-01-01T00:00:00Z", "created_by": item["created_by"]}
        if item.get("empty_layer"):
            history.append({**entry, "empty_layer": True})
            continue
        history.append(entry)
        entries: list[Any] = []
        seen_dirs: set[str] = set()
        for name, content in (item.get("files") or {}).items():
            relpath = name.strip("/")
            parts = relpath.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                folder = "/".join(parts[:depth])
                if folder not in seen_dirs:
                    seen_dirs.add(folder)
                    entries.append(Dir(folder))
            if isinstance(content, str):
                entries.append(File(relpath, content.encode()))
            elif "link" in content:
                entries.append(Symlink(relpath, content["link"]))
            elif content.get("dir"):
                entries.append(Dir(relpath, mode=content.get("mode", 0o755)))
            else:
                data = bytes(range(256)) * (content["size"] // 256 + 1)
                entries.append(
                    File(relpath, data[: content["size"]], mode=content.get("mode", 0o644))
                )
        entries.extend(whiteout(name.strip("/")) for name in item.get("delete", ()))
        layers.append(LayerSpec(entries, created_by=item["created_by"]))
    image = make_image(layers, config=dict(spec["config"]), history=history, tag=spec["reference"])
    return image.write_docker_archive(path)


def example_image(folder: Path) -> ImagePart | None:
    """The image of an example written into `folder` (None when it holds none)."""
    spec_file = folder / IMAGE_SPEC
    if not spec_file.is_file():
        return None
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    (folder / ".image").mkdir(exist_ok=True)
    archive = archive_from_spec(spec, folder / ".image" / "image.tar")
    return read_image(str(archive))


def with_example_image(project: Project, folder: Path) -> Project:
    """The project with its example image attached (as `check --image` does)."""
    part = example_image(folder)
    if part is None:
        return project
    if not project.dockerfiles and not project.discovery.compose_files:
        return image_project(part, project.config)
    return attach(project, [part])


def image_findings(
    rule_id: str,
    config: dict[str, Any],
    layers: list[dict[str, Any]],
    folder: Path,
    reference: str = "docker.io/acme/web:1.0",
) -> list[Finding]:
    """One image rule's findings on the image a spec describes, checked alone (as
    `dockwise image` does)."""
    from dockwise.config import Config
    from dockwise.engine import check_project
    from dockwise.rules import rule_by_id

    rule = rule_by_id(rule_id)
    assert rule is not None and rule.id == rule_id
    spec = {"reference": reference, "config": config, "layers": layers}
    archive = archive_from_spec(spec, folder / f"{rule_id}.tar")
    project = image_project(read_image(str(archive)), Config(select=(rule_id,)))
    outcome = check_project(project, [rule])
    assert not outcome.problems, outcome.problems
    return [f for f in outcome.findings if f.rule == rule_id]
