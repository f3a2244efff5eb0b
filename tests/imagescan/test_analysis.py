"""The one-pass analysis on images written by tests/imagegen.py: whiteouts and opaque folders
as the OCI spec says, hard links, symbolic links, duplicates; wasted bytes checked against an
independent replay of the layers (replay.py) on every image."""

from __future__ import annotations

from pathlib import Path

import pytest
from imagegen import Device, Dir, File, Hardlink, LayerSpec, Symlink, make_image, opaque, whiteout
from replay import replay

from dockwise.imagescan.analysis import analyse
from dockwise.imagescan.facts import DELETED, DIR_DELETED, OPAQUE, OVERWRITTEN, ImageFacts
from dockwise.sources.image import open_image


def X(n: int) -> bytes:
    return b"x" * n


def analysed(layers: list[LayerSpec], tmp_path: Path, **config: object) -> ImageFacts:
    """The facts of an image written as a docker-archive, after checking that the replay
    agrees on stored and visible bytes."""
    archive = make_image(layers, config=dict(config)).write_docker_archive(tmp_path / "i.tar")
    with open_image(str(archive)) as image:
        facts = analyse(image, secrets=False)
    stored, visible = replay(archive, tmp_path / "replay")
    assert (facts.size_bytes, facts.visible_bytes) == (stored, visible)
    assert facts.wasted_bytes == stored - visible
    assert sum(h.size for h in facts.hidden) == facts.wasted_bytes
    assert sum(layer.wasted_bytes for layer in facts.layers) == facts.wasted_bytes
    return facts


def hidden(facts: ImageFacts) -> set[tuple[str, int, int, int, str]]:
    return {(h.path, h.size, h.stored_in, h.hidden_by, h.how) for h in facts.hidden}


def test_overwritten_file_wastes_only_the_earlier_copy(tmp_path: Path) -> None:
    facts = analysed(
        [
            LayerSpec([File("big", X(1000))]),
            LayerSpec([File("big", X(100_000))]),  # dive counts both copies (dive#684)
        ],
        tmp_path,
    )
    assert facts.wasted_bytes == 1000
    assert hidden(facts) == {("big", 1000, 0, 1, OVERWRITTEN)}
    assert facts.dive.wasted_bytes == 101_000
    assert facts.layers[1].changed == 1 and facts.layers[1].added == 0


def test_deleted_file_and_deleted_folder(tmp_path: Path) -> None:
    facts = analysed(
        [
            LayerSpec([Dir("data"), Dir("data/sub"), File("data/sub/a", X(700)), File("b", X(50))]),
            LayerSpec([whiteout("data"), whiteout("b")]),
        ],
        tmp_path,
    )
    assert hidden(facts) == {
        ("data/sub/a", 700, 0, 1, DIR_DELETED),
        ("b", 50, 0, 1, DELETED),
    }
    assert "data" not in facts.files and facts.visible_bytes == 0
    assert facts.layers[1].removed == 4  # data, data/sub, data/sub/a, b
    assert facts.dive.wasted_bytes == 50  # dive misses the folder deleted whole


def test_opaque_folder_hides_lower_children_only(tmp_path: Path) -> None:
    facts = analysed(
        [
            LayerSpec([Dir("d"), File("d/a", X(1000)), File("d/b", X(2000)), File("keep", X(5))]),
            # the marker comes after the layer's own entry: it must not hide it
            LayerSpec([Dir("d"), File("d/c", X(300)), opaque("d")]),
        ],
        tmp_path,
    )
    assert hidden(facts) == {("d/a", 1000, 0, 1, OPAQUE), ("d/b", 2000, 0, 1, OPAQUE)}
    assert set(facts.under("d")) == {("d/c", facts.files["d/c"])}
    assert facts.dive.wasted_bytes == 0  # dive ignores opaque markers


def test_whiteout_in_the_same_layer_as_the_new_folder(tmp_path: Path) -> None:
    facts = analysed(
        [
            LayerSpec([Dir("d"), File("d/a", X(1000))]),
            LayerSpec([Dir("d"), File("d/b", X(7)), whiteout("d")]),
        ],
        tmp_path,
    )
    assert hidden(facts) == {("d/a", 1000, 0, 1, DIR_DELETED)}
    assert facts.files["d/b"].size == 7


def test_hard_link_keeps_a_deleted_body_visible(tmp_path: Path) -> None:
    facts = analysed(
        [
            LayerSpec([File("a", X(1000)), Hardlink("a2", "a")]),
            LayerSpec([Hardlink("b", "a")]),  # a link to a file of an older layer
            LayerSpec([whiteout("a"), whiteout("a2")]),
        ],
        tmp_path,
    )
    assert facts.wasted_bytes == 0 and facts.visible_bytes == 1000
    assert facts.files["b"].kind == "file" and facts.files["b"].size == 1000
    assert facts.dive.wasted_bytes == 1000  # dive counts /a as deleted


def test_folder_replaced_by_a_file_and_file_by_a_folder(tmp_path: Path) -> None:
    facts = analysed(
        [
            LayerSpec([Dir("d"), File("d/a", X(1000)), File("f", X(30))]),
            LayerSpec([File("d", X(10)), Dir("f"), File("f/inner", X(3))]),
        ],
        tmp_path,
    )
    assert hidden(facts) == {("d/a", 1000, 0, 1, OVERWRITTEN), ("f", 30, 0, 1, OVERWRITTEN)}
    assert facts.files["d"].kind == "file" and facts.files["f"].kind == "dir"


def test_duplicate_entries_in_one_layer(tmp_path: Path) -> None:
    facts = analysed([LayerSpec([File("a", X(1000)), File("a", X(10))])], tmp_path)
    assert hidden(facts) == {("a", 1000, 0, 0, OVERWRITTEN)}
    assert facts.files["a"].size == 10


def test_symbolic_links_and_devices(tmp_path: Path) -> None:
    facts = analysed(
        [
            LayerSpec(
                [
                    Dir("usr"),
                    Dir("usr/bin"),
                    File("usr/bin/dash", X(100), mode=0o755),
                    Symlink("usr/bin/sh", "dash"),
                    Symlink("bin", "usr/bin"),
                    Dir("dev"),
                    Device("dev/null"),
                ]
            ),
            LayerSpec([whiteout("usr/bin/sh")]),
        ],
        tmp_path,
        Env=["PATH=/bin"],
    )
    assert facts.which("dash") == "/bin/dash"
    assert facts.lookup("/bin/dash") == facts.files["usr/bin/dash"]
    assert facts.which("sh") is None
    assert facts.files["dev/null"].kind == "char"
    assert facts.wasted_bytes == 0


def test_whiteouts_of_missing_paths_and_empty_layers(tmp_path: Path) -> None:
    facts = analysed(
        [
            LayerSpec([File("a", X(1000)), File("z", X(50))]),
            LayerSpec([whiteout("nothere"), File("z", X(70))]),
            LayerSpec([]),
        ],
        tmp_path,
    )
    assert hidden(facts) == {("z", 50, 0, 1, OVERWRITTEN)}
    # dive stops visiting a layer at a whiteout of a missing path (checked against dive)
    assert facts.dive.efficiency == pytest.approx(1049 / 1050)
    assert facts.dive.wasted_bytes == 0


def test_compressed_layers_give_the_same_facts(tmp_path: Path) -> None:
    layers = [
        LayerSpec([Dir("d"), File("d/a", X(5000)), File("e", b"hello")], compression="gzip"),
        LayerSpec([whiteout("d"), File("e", b"bye")], compression="zstd"),
    ]
    image = make_image(layers)
    facts = []
    for path in (
        image.write_docker_archive(tmp_path / "a.tar"),
        image.write_oci_archive(tmp_path / "b.tar"),
    ):
        with open_image(str(path)) as opened:
            facts.append(analyse(opened, secrets=False))
        assert replay(path, tmp_path / path.stem) == (5008, 3)
    assert (
        hidden(facts[0])
        == hidden(facts[1])
        == {
            ("d/a", 5000, 0, 1, DIR_DELETED),
            ("e", 5, 0, 1, OVERWRITTEN),
        }
    )


def test_python_aware_waste(tmp_path: Path) -> None:
    site = "usr/local/lib/python3.11/site-packages"
    facts = analysed(
        [
            LayerSpec(
                [
                    File("root/.cache/pip/http-v2/a/b", X(4000)),
                    File("root/.cache/uv/wheels/x", X(10)),
                    File("var/lib/apt/lists/deb_Packages", X(900)),
                    File("var/lib/apt/lists/lock"),
                    File(f"{site}/pandas/tests/test_frame.py", X(300)),
                    File(f"{site}/pandas/core/frame.py", X(3)),
                    File(f"{site}/pandas/__pycache__/x.cpython-311.pyc", X(20)),
                    File(f"{site}/pkg-1.0.dist-info/tests/RECORD", X(1)),
                    File("app/.git/HEAD", X(21)),
                    File("usr/lib/gcc/x86_64-linux-gnu/12/cc1", X(50)),
                    File("usr/include/stdio.h", X(8)),
                ]
            )
        ],
        tmp_path,
    )
    found = {(w.kind, w.path, w.size, w.files) for w in facts.waste}
    assert found == {
        ("pip cache", "root/.cache/pip", 4000, 1),
        ("uv cache", "root/.cache/uv", 10, 1),
        ("apt lists", "var/lib/apt/lists", 900, 1),
        ("tests in site-packages", f"{site}/pandas/tests", 300, 1),
        ("bytecode", site, 20, 1),
        (".git folder", "app/.git", 21, 1),
        ("compiler", "usr/lib/gcc", 50, 1),
        ("headers", "usr/include", 8, 1),
    }


def test_largest_files_and_folders(tmp_path: Path) -> None:
    facts = analysed(
        [
            LayerSpec(
                [File("a/b/big", X(500)), File("a/small", X(5)), Hardlink("a/big2", "a/b/big")]
            )
        ],
        tmp_path,
    )
    assert [(f.path, f.size) for f in facts.largest_files] == [("a/b/big", 500), ("a/small", 5)]
    assert [(d.path, d.size) for d in facts.largest_dirs] == [("a", 505), ("a/b", 500)]
