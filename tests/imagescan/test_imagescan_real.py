"""The analysis on real buildah-built images, read from every local format: wasted bytes
checked against an independent replay of the layers, dive's figures against dive itself when
it is installed, and the size findings of `dockwise image`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from needs import dive_image_figures
from realimages import RealImage, build_test_image, export, real_image  # noqa: F401 (fixture)
from replay import replay

from dockwise.cli import main
from dockwise.imagescan.analysis import analyse
from dockwise.imagescan.facts import DELETED, DIR_DELETED, OVERWRITTEN, ImageFacts
from dockwise.sources.image import open_image

pytestmark = pytest.mark.slow


def facts_of(source: str) -> ImageFacts:
    with open_image(source) as image:
        return analyse(image, secrets=False)


@pytest.fixture(scope="session")
def waste_image(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tag = build_test_image("imagescan-waste")
    out = tmp_path_factory.mktemp("imagescan-waste")
    return {
        "docker-archive": export(tag, "docker-archive", out / "image.tar"),
        "oci-archive": export(tag, "oci-archive", out / "image.oci.tar"),
        "oci": export(tag, "oci", out / "oci"),
    }


def test_wasted_bytes_exact_on_the_waste_image(
    waste_image: dict[str, Path], tmp_path: Path
) -> None:
    facts = facts_of(str(waste_image["docker-archive"]))
    stored, visible = replay(waste_image["docker-archive"], tmp_path / "replay")
    assert (facts.size_bytes, facts.visible_bytes) == (stored, visible)
    found = {(h.path, h.size, h.stored_in, h.hidden_by, h.how) for h in facts.hidden}
    assert {
        ("big1", 3_000_000, 1, 2, OVERWRITTEN),
        ("data/sub/a", 1_000_000, 1, 2, DIR_DELETED),
        ("data/b", 500_000, 1, 2, DIR_DELETED),
        ("big1", 2_000_000, 2, 3, DELETED),
    } <= found
    rewritten = [h for h in facts.hidden if h.path.startswith("usr/local/lib/")]
    assert rewritten and all(h.how == OVERWRITTEN and h.hidden_by == 2 for h in rewritten)
    assert facts.files["x/g"].size == 100 and facts.files["x/s"].kind == "symlink"
    for kind in ("oci-archive", "oci"):
        again = facts_of(f"{kind}:{waste_image[kind]}")
        assert (again.size_bytes, again.wasted_bytes, again.dive) == (
            facts.size_bytes,
            facts.wasted_bytes,
            facts.dive,
        )


def test_wasted_bytes_exact_on_the_sources_image(
    real_image: RealImage,  # noqa: F811 (the fixture)
    tmp_path: Path,
) -> None:
    archive = real_image.docker_archive
    facts = facts_of(str(archive))
    assert (facts.size_bytes, facts.visible_bytes) == replay(archive, tmp_path / "replay")


def test_size_findings_of_the_waste_image(
    waste_image: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["image", str(waste_image["docker-archive"]), "-f", "json", "--no-secrets"])
    document = json.loads(capsys.readouterr().out)
    rules = {f["rule"] for f in document["findings"]}
    assert code == 1
    assert {"DW130", "DW131", "DW132"} <= rules
    assert document["image"]["wasted_bytes"] > 7_000_000  # with the files chown -R stored again


def test_dive_figures_equal_dive_on_the_waste_image(
    waste_image: dict[str, Path], tmp_path: Path
) -> None:
    archive = waste_image["docker-archive"]
    theirs = dive_image_figures(archive, tmp_path)
    ours = facts_of(str(archive)).dive
    assert ours.efficiency == pytest.approx(theirs["efficiencyScore"], rel=1e-3)
    assert ours.wasted_bytes == pytest.approx(theirs["inefficientBytes"], rel=1e-3)
    assert ours.size_bytes == theirs["sizeBytes"]
