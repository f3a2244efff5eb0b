"""Images written by tests/imagegen.py read back through every local source."""

from __future__ import annotations

import json
import tarfile
import threading
from pathlib import Path

import pytest
from imagegen import (
    Device,
    Dir,
    File,
    Hardlink,
    LayerSpec,
    Symlink,
    TestImage,
    make_image,
    opaque,
    whiteout,
)

from dockwise.sources.image import Entry, ImageError, open_image

LONG = "deep/" * 30 + "name.txt"


def sample() -> TestImage:
    return make_image(
        [
            LayerSpec(
                [
                    Dir("app"),
                    File("app/big.bin", b"x" * 100_000, mode=0o755, uid=1000, gid=1000),
                    Symlink("app/link", "/etc/passwd"),
                    File(LONG, b"long name"),
                ],
                created_by="COPY . /app",
            ),
            LayerSpec(
                [whiteout("app/big.bin"), Hardlink("app/hard", LONG)],
                compression="gzip",
                created_by="RUN rm app/big.bin",
            ),
            LayerSpec([opaque("app"), Device("dev/null")], compression="zstd", created_by="RUN z"),
        ],
        config={"User": "app", "Env": ["A=1"], "Cmd": ["python3"]},
        history=[
            {"created_by": "COPY . /app"},
            {"created_by": "ENV A=1", "empty_layer": True},
            {"created_by": "RUN rm app/big.bin"},
            {"created_by": "RUN z"},
        ],
    )


WRITERS = {
    "docker-legacy": lambda img, p: img.write_docker_archive(p / "img.tar"),
    "docker-25": lambda img, p: img.write_docker_archive(p / "img.tar", layout="oci"),
    "oci-archive": lambda img, p: img.write_oci_archive(p / "img.oci.tar"),
    "oci-dir": lambda img, p: img.write_oci_dir(p / "oci"),
}


def read_all(
    source: str,
) -> tuple[list[tuple[str, str, str, int | None]], list[list[tuple[Entry, bytes]]]]:
    with open_image(source) as image:
        layers = [(x.digest, x.diff_id, x.created_by, x.history_index) for x in image.layers]
        contents = [[(e, read(1 << 20)) for e, read in image.entries(x)] for x in image.layers]
    return layers, contents


@pytest.mark.parametrize("layout", sorted(WRITERS))
def test_every_layout_reads_the_same_image(layout: str, tmp_path: Path) -> None:
    img = sample()
    path = WRITERS[layout](img, tmp_path)
    layers, contents = read_all(str(path))
    assert [d for d, *_ in layers] == [b.digest for b in img.layers]
    assert [x for _, x, *_ in layers] == img.diff_ids
    assert [(c, h) for *_, c, h in layers] == [
        ("COPY . /app", 0),
        ("RUN rm app/big.bin", 2),
        ("RUN z", 3),
    ]
    first = {e.path: (e, body) for e, body in contents[0]}
    assert first["app/big.bin"][0].size == 100_000
    assert first["app/big.bin"][0].mode == 0o755
    assert (first["app/big.bin"][0].uid, first["app/big.bin"][0].gid) == (1000, 1000)
    assert first["app/big.bin"][1] == b"x" * 100_000
    assert first["app/link"][0].kind == "symlink"
    assert first["app/link"][0].linkname == "/etc/passwd"
    assert first[LONG][1] == b"long name"
    second = {e.path: e for e, _ in contents[1]}
    assert second["app/.wh.big.bin"].kind == "file"
    assert second["app/hard"].kind == "hardlink"
    assert second["app/hard"].linkname == LONG
    third = {e.path: e for e, _ in contents[2]}
    assert third["dev/null"].kind == "char"
    assert "app/.wh..wh..opq" in third
    with open_image(str(path)) as image:
        assert image.config["config"]["User"] == "app"
        assert image.platform == "linux/amd64"
        assert image.config_digest == img.config.digest


def test_all_layouts_agree(tmp_path: Path) -> None:
    img = sample()
    results = []
    for name, write in WRITERS.items():
        (tmp_path / name).mkdir()
        results.append(read_all(str(write(img, tmp_path / name))))
    assert all(r == results[0] for r in results[1:])


def test_missing_source_is_an_image_error(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no such file"):
        open_image(str(tmp_path / "nope.tar"))


def two_platforms(tmp_path: Path) -> Path:
    """One OCI folder with an amd64 and an arm64 image behind one index."""
    amd = make_image([LayerSpec([File("arch", b"amd64")])], architecture="amd64")
    arm = make_image([LayerSpec([File("arch", b"arm64")])], architecture="arm64")
    oci = amd.write_oci_dir(tmp_path / "oci")
    arm.write_oci_dir(oci)
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            amd.manifest.descriptor(platform={"os": "linux", "architecture": "amd64"}),
            arm.manifest.descriptor(
                platform={"os": "linux", "architecture": "arm64", "variant": "v8"}
            ),
        ],
    }
    (oci / "index.json").write_text(json.dumps(index))
    return oci


@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64", "linux/arm64/v8"])
def test_index_picks_the_platform(platform: str, tmp_path: Path) -> None:
    with open_image(str(two_platforms(tmp_path)), platform=platform) as image:
        (body,) = [read(100) for _, read in image.entries(image.layers[0])]
    assert body == platform.split("/")[1].encode()
    assert image.platform == "linux/" + body.decode()


def test_index_without_the_platform_says_what_it_has(tmp_path: Path) -> None:
    with pytest.raises(
        ImageError,
        match=r"no manifest for platform linux/s390x \(has: linux/amd64, linux/arm64/v8\)",
    ):
        open_image(str(two_platforms(tmp_path)), platform="linux/s390x")


def test_archive_image_chosen_by_name(tmp_path: Path) -> None:
    path = sample().write_docker_archive(tmp_path / "img.tar")
    with open_image(f"{path}:localhost/dockwise-test:latest") as image:
        assert image.reference == "localhost/dockwise-test:latest"
    with pytest.raises(ImageError, match="no image tagged 'other:1'"):
        open_image(f"{path}:other:1")


def test_skopeo_style_prefixes(tmp_path: Path) -> None:
    img = sample()
    archive = img.write_docker_archive(tmp_path / "img.tar")
    oci_archive = img.write_oci_archive(tmp_path / "img.oci.tar")
    oci = img.write_oci_dir(tmp_path / "oci")
    for source in (f"docker-archive:{archive}", f"oci-archive:{oci_archive}", f"oci:{oci}"):
        with open_image(source) as image:
            assert image.config_digest == img.config.digest


def test_progress_counts_every_stored_byte(tmp_path: Path) -> None:
    img = sample()
    for path in (img.write_docker_archive(tmp_path / "a.tar"), img.write_oci_dir(tmp_path / "oci")):
        with open_image(str(path)) as image:
            for layer in image.layers:
                seen: list[int] = []
                for _ in image.entries(layer, on_bytes=seen.append):
                    pass
                assert sum(seen) == layer.compressed_bytes


@pytest.mark.parametrize("compression", ["", "gzip"])
def test_a_reader_is_valid_only_until_the_next_entry(compression: str, tmp_path: Path) -> None:
    img = make_image([LayerSpec([File("a", b"A" * 600), File("b", b"B")], compression=compression)])
    with open_image(str(img.write_oci_dir(tmp_path / "oci"))) as image:
        readers = [(entry.path, read) for entry, read in image.entries(image.layers[0])]
    for _, read in readers:
        with pytest.raises(ValueError, match="after the next entry"):
            read(10)


def test_abandoned_iteration_releases_everything(tmp_path: Path) -> None:
    img = sample()
    before = threading.active_count()
    for path in (
        img.write_oci_archive(tmp_path / "img.tar"),
        img.write_docker_archive(tmp_path / "d.tar"),
    ):
        with open_image(str(path)) as image:
            for layer in image.layers:
                stream = image.entries(layer)
                next(stream)
                stream.close()  # decoding and hashing threads stop; no error for the rest
            assert len(list(image.entries(image.layers[1]))) == 2
        assert threading.active_count() == before


@pytest.mark.parametrize(
    "tar_format",
    [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT],
    ids=["ustar", "gnu", "pax"],
)
def test_tar_formats_long_names_and_links(tar_format: int, tmp_path: Path) -> None:
    # ustar splits a name into prefix + name up to 255 bytes; GNU and pax go beyond
    name = (
        ("d" * 90 + "/") * 2 + "f.txt"
        if tar_format == tarfile.USTAR_FORMAT
        else "e/" * 200 + "f.txt"
    )
    target = (
        "t/" * 30 + "target" if tar_format == tarfile.USTAR_FORMAT else "/" + "t/" * 120 + "target"
    )
    img = make_image(
        [
            LayerSpec(
                [
                    File(name, b"body", uid=123456, gid=7, mtime=1_700_000_000),
                    Symlink("link", target),
                    Hardlink("hard", name if tar_format != tarfile.USTAR_FORMAT else "link"),
                    File("caf\u00e9/\u00fcber.txt", b"utf8"),
                ],
                tar_format=tar_format,
            )
        ]
    )
    with open_image(str(img.write_oci_dir(tmp_path / "oci"))) as image:
        got = {e.path: (e, read(100)) for e, read in image.entries(image.layers[0])}
    entry, body = got[name]
    assert (body, entry.size, entry.uid, entry.gid, entry.mtime) == (
        b"body",
        4,
        123456,
        7,
        1_700_000_000,
    )
    assert got["link"][0].linkname == target
    assert got["hard"][0].linkname == (name if tar_format != tarfile.USTAR_FORMAT else "link")
    assert got["caf\u00e9/\u00fcber.txt"][1] == b"utf8"


def test_empty_layers_duplicates_and_a_repeated_layer(tmp_path: Path) -> None:
    same = LayerSpec([File("same.txt", b"identical")])
    img = make_image(
        [
            LayerSpec([]),  # an empty tar (RUN that changed nothing)
            same,
            LayerSpec([File("dup", b"first"), File("dup", b"second")]),  # tar keeps both
            same,  # docker save links the repeated layer to its first copy
        ]
    )
    for path in (
        img.write_docker_archive(tmp_path / "legacy.tar"),
        img.write_oci_dir(tmp_path / "oci"),
    ):
        with open_image(str(path)) as image:
            got = [[(e.path, read(100)) for e, read in image.entries(x)] for x in image.layers]
        assert got == [
            [],
            [("same.txt", b"identical")],
            [("dup", b"first"), ("dup", b"second")],
            [("same.txt", b"identical")],
        ]
