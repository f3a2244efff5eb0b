"""Layer digests computed in the hashing processes (sources/image/digests.py), and
`verify=False` / `--no-verify`, which skips them and nothing else."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from imagegen import File, LayerSpec, TestImage, make_image, same_size_layer

from dockwise.sources.image import ImageError, open_image
from dockwise.sources.image.digests import RegionHasher


def two_layers(compression: str) -> TestImage:
    return make_image(
        [
            LayerSpec([File("app/a.bin", bytes(range(256)) * 4000)], compression=compression),
            LayerSpec([File("app/b.txt", b"hello\n" * 50)], compression=compression),
        ]
    )


def tamper_second_layer(img: TestImage, oci: Path, compression: str) -> None:
    blob = oci / "blobs" / "sha256" / img.layers[1].digest.removeprefix("sha256:")
    blob.write_bytes(same_size_layer(blob.stat().st_size, compression))


def read_all(source: str, verify: bool) -> list[str]:
    with open_image(source, verify=verify) as image:
        return [entry.path for layer in image.layers for entry, _ in image.entries(layer)]


@pytest.mark.parametrize("compression", ["", "gzip", "zstd"])
def test_no_verify_reads_a_tampered_layer_that_verify_refuses(
    compression: str, tmp_path: Path
) -> None:
    img = two_layers(compression)
    oci = img.write_oci_dir(tmp_path / "oci")
    assert read_all(str(oci), verify=True) == ["app/a.bin", "app/b.txt"]
    tamper_second_layer(img, oci, compression)
    with pytest.raises(ImageError, match="layer 1 .*does not match its digest"):
        read_all(str(oci), verify=True)
    assert read_all(str(oci), verify=False) == ["app/a.bin", "app/b.txt"]


@pytest.mark.parametrize("compression", ["", "gzip"])
def test_no_verify_still_checks_the_config_digest(compression: str, tmp_path: Path) -> None:
    img = two_layers(compression)
    oci = img.write_oci_dir(tmp_path / "oci")
    config = oci / "blobs" / "sha256" / img.config.digest.removeprefix("sha256:")
    config.write_bytes(config.read_bytes().replace(b"linux", b"LINUX"))
    with pytest.raises(ImageError, match="config .* does not match its digest"):
        open_image(str(oci), verify=False)


def test_every_layer_of_an_archive_is_verified_by_the_processes(tmp_path: Path) -> None:
    """Many layers of uneven sizes shared by two processes: each digest lands on its own
    layer (a wrong pairing would fail the read of a layer)."""
    layers = [
        LayerSpec([File(f"d{i}/f", os.urandom(1000 + (i * 7919) % 50_000))], compression=c)
        for i, c in enumerate(["", "gzip", "", "", "gzip", "", "", "", "zstd", ""])
    ]
    img = make_image(layers)
    archive = img.write_docker_archive(tmp_path / "img.tar", layout="oci")
    with open_image(str(archive)) as image:
        for layer in reversed(image.layers):  # any order
            assert [e.path for e, _ in image.entries(layer)][-1].endswith("/f")


@contextlib.contextmanager
def random_blob(tmp_path: Path, size: int) -> Iterator[tuple[bytes, int]]:
    """(the bytes, a read-only descriptor) of a file of `size` random bytes."""
    data = os.urandom(size)
    path = tmp_path / "blob"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        yield data, fd
    finally:
        os.close(fd)


def test_region_hasher_digests_and_errors(tmp_path: Path) -> None:
    with random_blob(tmp_path, 3 << 20) as (data, fd):
        regions = [(fd, 0, 10), (fd, 5, (3 << 20) - 5), (fd, 1 << 20, 5 << 20), (fd, 7, 0)]
        hasher = RegionHasher(regions)
        try:
            expected = [
                hashlib.sha256(data[0:10]).hexdigest(),
                hashlib.sha256(data[5 : 5 + ((3 << 20) - 5)]).hexdigest(),
            ]
            assert hasher.digest(0, "x") == "sha256:" + expected[0]
            assert hasher.digest(1, "x") == "sha256:" + expected[1]
            with pytest.raises(ImageError, match="^blob 2: truncated$"):
                hasher.digest(2, "blob 2")  # runs past the end of the file
            assert hasher.digest(3, "x") == "sha256:" + hashlib.sha256(b"").hexdigest()
        finally:
            hasher.close()


def test_closing_an_image_mid_layer_stops_the_hashing_processes(tmp_path: Path) -> None:
    img = make_image(
        [LayerSpec([File(f"big{i}", os.urandom(4 << 20)) for i in range(8)]) for _ in range(3)]
    )
    archive = img.write_docker_archive(tmp_path / "img.tar")
    me = psutil.Process()
    before = {child.pid for child in me.children(recursive=True)}
    image = open_image(str(archive))
    entries = image.entries(image.layers[0])
    next(entries)
    started = {child.pid for child in me.children(recursive=True)} - before
    assert started, "the hashing processes start with the first layer"
    entries.close()
    image.close()
    left = {child.pid for child in me.children(recursive=True)} - before
    assert not left


def test_no_verify_option_of_the_command(tmp_path: Path) -> None:
    img = two_layers("")
    oci = img.write_oci_dir(tmp_path / "oci")
    tamper_second_layer(img, oci, "")
    dockwise = [str(Path(sys.executable).parent / "dockwise"), "image", "--quiet", "-f", "json"]
    refused = subprocess.run([*dockwise, str(oci)], capture_output=True, text=True)
    assert refused.returncode == 2
    assert "does not match its digest" in refused.stderr
    assert refused.stderr.count("\n") == 1
    trusted = subprocess.run([*dockwise, "--no-verify", str(oci)], capture_output=True, text=True)
    assert trusted.returncode in (0, 1), trusted.stderr
    assert json.loads(trusted.stdout)["image"]["layers_verified"] is False
    text = subprocess.run(
        [*dockwise[:2], "--no-verify", str(oci)], capture_output=True, text=True
    ).stdout
    assert "not verified: --no-verify" in text.splitlines()[0]
    clean = two_layers("").write_oci_dir(tmp_path / "clean")
    verified = subprocess.run([*dockwise, str(clean)], capture_output=True, text=True)
    assert json.loads(verified.stdout)["image"]["layers_verified"] is True


def test_without_an_interpreter_to_start_the_digests_are_computed_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", "")
    with random_blob(tmp_path, 1 << 20) as (data, fd):
        hasher = RegionHasher([(fd, 0, 1 << 20), (fd, 10, 100), (fd, 1 << 19, 1 << 20)])
        assert hasher.digest(1, "x") == "sha256:" + hashlib.sha256(data[10:110]).hexdigest()
        assert hasher.digest(0, "x") == "sha256:" + hashlib.sha256(data).hexdigest()
        with pytest.raises(ImageError, match="^b: truncated$"):
            hasher.digest(2, "b")
        hasher.close()
    img = two_layers("")
    oci = img.write_oci_dir(tmp_path / "oci")
    tamper_second_layer(img, oci, "")
    with pytest.raises(ImageError, match="layer 1 .*does not match its digest"):
        read_all(str(oci), verify=True)


def test_the_hashing_process_works_without_preadv(tmp_path: Path) -> None:
    """macOS before 11 has no os.preadv: the hashing process reads with os.pread there."""
    from dockwise.sources.image.digests import _HASHER

    with random_blob(tmp_path, 5 << 20) as (data, fd):
        done = subprocess.run(
            [
                sys.executable,
                "-I",
                "-S",
                "-c",
                "import os\ndel os.preadv\n" + _HASHER,
                f"{fd}:3:{(5 << 20) - 3}",
                f"{fd}:0:{6 << 20}",
            ],
            capture_output=True,
            text=True,
            pass_fds=(fd,),
            check=True,
        )
    assert done.stdout.splitlines() == [
        "sha256:" + hashlib.sha256(data[3:]).hexdigest(),
        "! truncated",
    ]
