"""The hand-written tar reader on tars Python's tarfile writes."""

from __future__ import annotations

import io
import tarfile

from dockwise.sources.image.tarstream import StreamSource, iter_tar


def _entries(data: bytes) -> list[tuple[str, str, bytes]]:
    chunks = iter([data[i : i + 700] for i in range(0, len(data), 700)])
    src = StreamSource(lambda: next(chunks, b""), "test")
    return [(entry.path, entry.kind, read(1 << 20)) for entry, read in iter_tar(src, "test")]


def test_bodies_of_other_entry_types_are_skipped_whole() -> None:
    """A GNU dump directory's listing and an unknown type's data are not file bodies, but
    they take room in the stream: the next entry starts after them."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, kind, body in (
            ("dumpdir", b"D", b"Yfile\0" * 300),
            ("volume", b"Q", b"q" * 1500),
            ("after.txt", tarfile.REGTYPE, b"hello"),
        ):
            info = tarfile.TarInfo(name)
            info.type = kind
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    assert _entries(buffer.getvalue()) == [
        ("dumpdir", "dir", b""),
        ("volume", "other", b""),
        ("after.txt", "file", b"hello"),
    ]


def test_pax_headers_apply_to_their_entry_only() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, body in (("a/" + "long" * 40 + ".txt", b"one"), ("b.txt", b"two")):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    assert _entries(buffer.getvalue()) == [
        ("a/" + "long" * 40 + ".txt", "file", b"one"),
        ("b.txt", "file", b"two"),
    ]
