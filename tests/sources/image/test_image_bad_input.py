"""Hostile and broken images: a clear ImageError, bounded time and memory, nothing written."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from imagegen import (
    OCI_INDEX,
    Device,
    Dir,
    File,
    LayerSpec,
    Raw,
    Sparse,
    TestImage,
    make_image,
    same_size_layer,
)

from dockwise.sources.image import ImageError, Limits, open_image

GB = 1 << 30


def read_everything(source: str, limits: Limits | None = None) -> list[list[tuple[str, bytes]]]:
    with open_image(source, limits=limits) as image:
        return [
            [(entry.path, read(1 << 16)) for entry, read in image.entries(layer)]
            for layer in image.layers
        ]


def small(compression: str = "") -> TestImage:
    payload = bytes(range(256)) * 400
    return make_image(
        [
            LayerSpec([Dir("app"), File("app/a.bin", payload)], compression=compression),
            LayerSpec([File("app/b.txt", b"hello\n" * 50)], compression=compression),
        ]
    )


def blob_path(oci: Path, digest: str) -> Path:
    return oci / "blobs" / "sha256" / digest.removeprefix("sha256:")


# -- truncated and broken archives ---------------------------------------------------------
@pytest.mark.parametrize("layout", ["legacy", "oci"])
def test_truncated_docker_archive_at_every_kind_of_cut(layout: str, tmp_path: Path) -> None:
    archive = small().write_docker_archive(tmp_path / "whole.tar", layout=layout)
    whole = archive.read_bytes()
    with tarfile.open(archive) as tar:  # inside each member's header and in its body
        members = [m for m in tar.getmembers() if m.isfile() and m.size > 1]
        cuts = {m.offset + 100 for m in members} | {m.offset_data + m.size // 2 for m in members}
    cuts |= {1, 100, 511}
    for cut in cuts:
        path = tmp_path / f"cut{cut}.tar"
        path.write_bytes(whole[:cut])
        with pytest.raises(ImageError) as err:
            read_everything(str(path))
        assert str(path) in str(err.value)
        assert "\n" not in str(err.value)


def test_truncated_layer_body_is_caught_while_streaming(tmp_path: Path) -> None:
    img = small()
    oci = img.write_oci_dir(tmp_path / "oci")
    blob = blob_path(oci, img.layers[0].digest)
    data = blob.read_bytes()
    blob.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="bytes, expected"):
        read_everything(str(oci))


def test_not_an_archive(tmp_path: Path) -> None:
    for name, data in {
        "empty.tar": b"",
        "random.tar": os.urandom(4096),
        "text.tar": b"hello world\n" * 100,
        "zeros.tar": bytes(10240),
    }.items():
        with pytest.raises(ImageError):
            open_image(str(tmp_path / name)) if (tmp_path / name).write_bytes(
                data
            ) or True else None


def test_gzipped_docker_save_says_so(tmp_path: Path) -> None:
    import gzip

    plain = small().write_docker_archive(tmp_path / "img.tar").read_bytes()
    (tmp_path / "img.tar.gz").write_bytes(gzip.compress(plain))
    with pytest.raises(ImageError, match="compressed archive"):
        open_image(str(tmp_path / "img.tar.gz"))


def test_bad_json_everywhere(tmp_path: Path) -> None:
    img = small()
    oci = img.write_oci_dir(tmp_path / "oci")
    (oci / "index.json").write_text("{not json")
    with pytest.raises(ImageError, match="index.json: not valid JSON"):
        open_image(str(oci))
    (oci / "index.json").write_text(json.dumps({"manifests": [{"digest": "md5:abc", "size": 1}]}))
    with pytest.raises(ImageError, match="unsupported digest"):
        open_image(str(oci))
    (oci / "index.json").write_text(json.dumps([1, 2]))
    with pytest.raises(ImageError, match="not an image index"):
        open_image(str(oci))


# -- corrupt compression, digests, missing blobs -------------------------------------------
@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_corrupt_compressed_layer(compression: str, tmp_path: Path) -> None:
    img = small(compression)
    oci = img.write_oci_dir(tmp_path / "oci")
    blob = blob_path(oci, img.layers[0].digest)
    data = bytearray(blob.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 16):
        data[i] ^= 0x5A
    blob.write_bytes(bytes(data))
    with pytest.raises(ImageError, match=f"layer 0 .*(corrupt {compression}|does not match)"):
        read_everything(str(oci))


@pytest.mark.parametrize("compression", ["", "gzip", "zstd"])
def test_digest_mismatch_is_raised_at_the_end_of_the_layer(
    compression: str, tmp_path: Path
) -> None:
    img = small(compression)
    oci = img.write_oci_dir(tmp_path / "oci")
    blob = blob_path(oci, img.layers[1].digest)
    # a different, valid layer of the same size: only the digest can tell
    blob.write_bytes(same_size_layer(blob.stat().st_size, compression))
    with open_image(str(oci)) as image:
        list(image.entries(image.layers[0]))  # the untouched layer reads fine
        seen = []
        with pytest.raises(ImageError, match="layer 1 .*does not match its digest"):
            for entry, read in image.entries(image.layers[1]):
                seen.append((entry.path, read(100)))
        assert len(seen) == 1
        assert seen[0][1] != b"hello\n" * 16 + b"hell"


def test_diff_id_mismatch(tmp_path: Path) -> None:
    img = small("gzip")
    doc = dict(img.config_doc)
    doc["rootfs"] = {"type": "layers", "diff_ids": ["sha256:" + "0" * 64, img.diff_ids[1]]}
    forged = make_image([])  # reuse the writer with a forged config
    forged.layers, forged.diff_ids = img.layers, doc["rootfs"]["diff_ids"]
    forged.config = type(img.config)(json.dumps(doc).encode(), img.config.media_type)
    oci = forged.write_oci_dir(tmp_path / "oci")
    with pytest.raises(ImageError, match="layer 0 .*diff_id"):
        read_everything(str(oci))


def test_config_digest_mismatch(tmp_path: Path) -> None:
    img = small()
    oci = img.write_oci_dir(tmp_path / "oci")
    config = blob_path(oci, img.config.digest)
    config.write_bytes(config.read_bytes().replace(b"linux", b"LINUX"))
    with pytest.raises(ImageError, match="config .* does not match its digest"):
        open_image(str(oci))


def test_missing_blob(tmp_path: Path) -> None:
    img = small()
    oci = img.write_oci_dir(tmp_path / "oci")
    blob_path(oci, img.layers[1].digest).unlink()
    with pytest.raises(ImageError, match="missing blob"):
        read_everything(str(oci))
    archive = img.write_oci_archive(tmp_path / "img.tar")
    with tarfile.open(archive) as src, tarfile.open(tmp_path / "holed.tar", "w") as dst:
        for member in src.getmembers():
            if img.config.digest[7:] not in member.name:
                dst.addfile(member, src.extractfile(member) if member.isfile() else None)
    with pytest.raises(ImageError, match="missing blob"):
        open_image(str(tmp_path / "holed.tar"))


def test_symlink_loop_in_a_legacy_archive(tmp_path: Path) -> None:
    path = small().write_docker_archive(tmp_path / "img.tar")
    with tarfile.open(path) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    out = tmp_path / "loop.tar"
    with tarfile.open(path) as src, tarfile.open(out, "w") as dst:
        for member in src.getmembers():
            if member.name == manifest[0]["Layers"][0]:
                member = tarfile.TarInfo(member.name)
                member.type, member.linkname = tarfile.SYMTYPE, "layer.tar"
                dst.addfile(member)
            else:
                dst.addfile(member, src.extractfile(member) if member.isfile() else None)
    with pytest.raises(ImageError, match="symlink loop|missing blob"):
        open_image(str(out))


# -- hostile entries -----------------------------------------------------------------------
def raw(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> Raw:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return Raw(info, b"pwned\n" if kind == tarfile.REGTYPE else b"")


def test_dotdot_and_absolute_names_are_normalised_and_marked(tmp_path: Path) -> None:
    img = make_image(
        [
            LayerSpec(
                [
                    raw("../../etc/cron.d/evil"),
                    raw("/etc/shadow"),
                    raw("app/../../../root/.ssh/authorized_keys"),
                    raw("./ok/./file"),
                    raw("app/hard", tarfile.LNKTYPE, "../../etc/passwd"),
                    raw("app/sym", tarfile.SYMTYPE, "../../../etc/passwd"),
                ]
            )
        ]
    )
    before = set(os.listdir(tempfile.gettempdir()))
    with open_image(str(img.write_oci_archive(tmp_path / "img.tar"))) as image:
        got = {e.path: e for e, _ in image.entries(image.layers[0])}
    assert got["etc/cron.d/evil"].unsafe == "dotdot"
    assert got["etc/shadow"].unsafe == "absolute"
    assert got["root/.ssh/authorized_keys"].unsafe == "dotdot"
    assert got["ok/file"].unsafe == ""
    assert got["app/hard"].linkname == "etc/passwd"
    assert got["app/hard"].unsafe == "link-dotdot"
    assert got["app/sym"].linkname == "../../../etc/passwd"  # symlink targets stay as stored
    assert got["app/sym"].unsafe == ""
    assert not Path("/etc/cron.d/evil").exists()
    assert set(os.listdir(tempfile.gettempdir())) - before == set()


def test_device_files_are_typed_and_have_no_body(tmp_path: Path) -> None:
    img = make_image(
        [
            LayerSpec(
                [
                    Device("dev/sda", "block", 8, 0),
                    Device("dev/mem", "char", 1, 1),
                    Device("run/fifo", "fifo"),
                ]
            )
        ]
    )
    with open_image(str(img.write_oci_dir(tmp_path / "oci"))) as image:
        got = [(e.path, e.kind, e.size, read(10)) for e, read in image.entries(image.layers[0])]
    assert got == [
        ("dev/sda", "block", 0, b""),
        ("dev/mem", "char", 0, b""),
        ("run/fifo", "fifo", 0, b""),
    ]


@pytest.mark.parametrize("style", ["pax", "gnu"])
def test_ten_gigabyte_sparse_file(style: str, tmp_path: Path) -> None:
    real = 10 * GB
    img = make_image(
        [
            LayerSpec(
                [
                    Sparse(
                        "data/disk.img",
                        real,
                        [(0, b"HEAD" * 256), (real - 1024, b"T" * 1024)],
                        style,
                    ),
                    File("after.txt", b"still here"),
                ],
                compression="gzip",
            )
        ]
    )
    archive = img.write_docker_archive(tmp_path / "img.tar", layout="oci")
    assert archive.stat().st_size < 1 << 20
    started = time.monotonic()
    with open_image(str(archive)) as image:
        got = {}
        for entry, read in image.entries(image.layers[0]):
            got[entry.path] = (entry, read(2048))
    assert time.monotonic() - started < 60  # bounded: the holes are never materialised
    disk, head = got["data/disk.img"]
    assert (disk.kind, disk.size) == ("file", real)
    assert head == b"HEAD" * 256 + bytes(1024)
    assert got["after.txt"][1] == b"still here"


def test_sparse_file_reads_back_exactly(tmp_path: Path) -> None:
    segments = [(0, b"a" * 10), (4096, b"b" * 600), (9000, b"c" * 7)]
    img = make_image([LayerSpec([Sparse("s.bin", 10_000, segments)])])
    with open_image(str(img.write_oci_dir(tmp_path / "oci"))) as image:
        ((entry, read),) = list((e, r(20_000)) for e, r in image.entries(image.layers[0]))
    expected = bytearray(10_000)
    for offset, chunk in segments:
        expected[offset : offset + len(chunk)] = chunk
    assert read == bytes(expected)


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_decompression_bomb_is_capped(compression: str, tmp_path: Path) -> None:
    bomb = make_image([LayerSpec([File("zeros.bin", bytes(64 << 20))], compression=compression)])
    assert len(bomb.layers[0].data) < 1 << 20
    oci = bomb.write_oci_dir(tmp_path / "oci")
    limits = Limits(ratio=20, ratio_floor=8 << 20)
    with pytest.raises(ImageError, match="decompression bomb"):
        read_everything(str(oci), limits)
    # the same layer within the default limits reads fine
    assert read_everything(str(oci))[0][0][0] == "zeros.bin"


def test_huge_tar_size_field_in_an_uncompressed_layer(tmp_path: Path) -> None:
    info = tarfile.TarInfo("liar.bin")
    info.size = 8 * GB  # the header claims 8 GB; the blob holds a few bytes
    header = info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
    layer = header + b"x" * 512 + bytes(1024)
    img = make_image([LayerSpec([File("a", b"a")])])
    img.layers[0] = type(img.layers[0])(layer, img.layers[0].media_type)
    img.diff_ids[0] = "sha256:" + hashlib.sha256(layer).hexdigest()
    img.config_doc["rootfs"]["diff_ids"] = img.diff_ids
    img.config = type(img.config)(json.dumps(img.config_doc).encode(), img.config.media_type)
    with pytest.raises(ImageError, match="truncated"):
        read_everything(str(img.write_docker_archive(tmp_path / "img.tar")))


def test_corrupt_tar_header_checksum(tmp_path: Path) -> None:
    img = small()
    oci = img.write_oci_dir(tmp_path / "oci")
    blob = blob_path(oci, img.layers[1].digest)
    data = bytearray(blob.read_bytes())
    data[0] ^= 0x01  # the first header's name changes, its checksum no longer adds up
    blob.write_bytes(bytes(data))
    with pytest.raises(ImageError, match="layer 1 .*bad checksum"):
        read_everything(str(oci))


def test_deeply_nested_indexes(tmp_path: Path) -> None:
    img = small()
    oci = img.write_oci_dir(tmp_path / "oci")
    inner = json.loads((oci / "index.json").read_text())
    for _ in range(8):  # index -> index -> ... -> manifest
        data = json.dumps(inner).encode()
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blob_path(oci, digest).write_bytes(data)
        inner = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": OCI_INDEX, "digest": digest, "size": len(data)}],
        }
    (oci / "index.json").write_text(json.dumps(inner))
    with pytest.raises(ImageError, match="nested deeper"):
        open_image(str(oci))


def test_standard_input_spool_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockwise.sources.image.archive import open_stdin

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    data = small("gzip").write_docker_archive(tmp_path / "img.tar").read_bytes()
    with open_stdin("", "linux/amd64", io.BytesIO(data)) as image:
        assert [len(list(image.entries(layer))) for layer in image.layers] == [2, 1]
    assert list(spool.iterdir()) == []
    with pytest.raises(ImageError):
        open_stdin("", "linux/amd64", io.BytesIO(data[:3000]))
    assert list(spool.iterdir()) == []


# -- registries that misbehave ---------------------------------------------------------------
class _Hostile(BaseHTTPRequestHandler):
    mode = "garbage"
    manifest = b""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path == "/v2/":
            self._send(200, b"{}")
        elif self.mode == "garbage":
            self._send(
                200, b"\x00\xffnot json at all" * 10, "application/vnd.oci.image.manifest.v1+json"
            )
        elif self.mode == "stall":
            time.sleep(3)
            self._send(200, b"{}")
        elif self.mode == "trickle":  # a byte at a time, never slow enough for a read timeout
            self.send_response(200)
            self.send_header("Content-Type", OCI_INDEX)
            self.end_headers()
            with contextlib.suppress(OSError):
                for _ in range(200):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.1)
        elif self.mode == "loop":
            # every manifest request gets the same index, whatever digest is asked for
            self._send(200, self.manifest, OCI_INDEX)
        elif self.mode == "huge":
            self.send_response(200)
            self.send_header("Content-Type", OCI_INDEX)
            self.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(1024):  # 64 MB of spaces
                    self.wfile.write(chunk)
            except OSError:
                pass

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (the stall test)
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hostile() -> Iterator[tuple[str, type[_Hostile]]]:
    handler = type("Handler", (_Hostile,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_registry_returning_garbage(hostile: tuple[str, type[_Hostile]]) -> None:
    host, handler = hostile
    handler.mode = "garbage"
    with pytest.raises(ImageError, match="not valid JSON"):
        open_image(f"registry://{host}/x/y:1", insecure=True)


def test_registry_that_stalls_times_out(hostile: tuple[str, type[_Hostile]]) -> None:
    host, handler = hostile
    handler.mode = "stall"
    started = time.monotonic()
    with pytest.raises(ImageError, match="timed out"):
        open_image(f"registry://{host}/x/y:1", insecure=True, limits=Limits(timeout=0.5))
    assert time.monotonic() - started < 10


def test_registry_that_trickles_is_given_up(hostile: tuple[str, type[_Hostile]]) -> None:
    host, handler = hostile
    handler.mode = "trickle"
    started = time.monotonic()
    with pytest.raises(ImageError, match="too slow"):
        open_image(f"registry://{host}/x/y:1", insecure=True, limits=Limits(timeout=0.5))
    assert time.monotonic() - started < 10


def test_registry_manifest_loop(hostile: tuple[str, type[_Hostile]]) -> None:
    host, handler = hostile
    handler.mode = "loop"
    handler.manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_INDEX,
                    "digest": "sha256:" + "ab" * 32,
                    "size": 10,
                    "platform": {"os": "linux", "architecture": "amd64"},
                }
            ],
        }
    ).encode()
    with pytest.raises(ImageError, match="does not match its digest|manifest loop"):
        open_image(f"registry://{host}/x/y:1", insecure=True)


def test_registry_endless_manifest_is_capped(hostile: tuple[str, type[_Hostile]]) -> None:
    host, handler = hostile
    handler.mode = "huge"
    with pytest.raises(ImageError, match="larger than"):
        open_image(f"registry://{host}/x/y:1", insecure=True)


def test_registry_source_syntax_and_plain_http() -> None:
    for bad in (
        "registry://",
        "registry://host",
        "registry://host/UPPER:1",
        "registry://h/x@md5:1",
    ):
        with pytest.raises(ImageError):
            open_image(bad)
    with pytest.raises(ImageError, match="loopback"):
        open_image("registry://10.0.0.1:5000/x:1", insecure=True)


def test_standard_input_redirected_from_a_file_is_read_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    path = small("zstd").write_docker_archive(tmp_path / "img.tar", layout="oci")
    with open(path, "rb") as stdin:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(stdin))
        with open_image("-") as image:
            assert list(spool.iterdir()) == []  # nothing spooled
            assert [len(list(image.entries(layer))) for layer in image.layers] == [2, 1]
            assert image.source == "-"
