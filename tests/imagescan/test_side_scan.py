"""The layer secret scan in a forked child (imagescan/side_scan.py): the same facts as the
one-process pass, a fallback when the child fails, nothing left behind."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest
from imagegen import File, LayerSpec, TestImage, make_image, whiteout

from dockwise.imagescan import side_scan
from dockwise.imagescan.analysis import analyse
from dockwise.imagescan.facts import ImageFacts
from dockwise.sources.image import ImageError, open_image

AWS_KEY = "AKIA" + "Z7Q4XR2MPLK9WV3N"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCY" + "Q4v8Nz2Lp9Rs"
GITHUB_TOKEN = "ghp_" + "Xy7Qw2Rt9Lk3Zp8Vb4Nm6Jh1Gf5Dc0Sa3Ee9"


def secret_image(compression: str = "") -> TestImage:
    passwd = b"root:x:0:0:root:/root:/bin/bash\napp:x:1000:1000::/home/app:/bin/sh\n"
    return make_image(
        [
            LayerSpec([File("etc/passwd", passwd), File("usr/bin/tool", bytes(range(256)))]),
            LayerSpec(
                [
                    File("app/.env", f"GITHUB_TOKEN={GITHUB_TOKEN}\n".encode()),
                    File("app/settings.py", f"AWS_ACCESS_KEY_ID = '{AWS_KEY}'\n".encode()),
                ],
                compression=compression,
            ),
            LayerSpec(
                [whiteout("app/.env"), File("root/.aws/credentials", _aws_file())],
                compression=compression,
            ),
        ]
    )


def _aws_file() -> bytes:
    return (
        f"[default]\naws_access_key_id = {AWS_KEY}\naws_secret_access_key = {AWS_SECRET}\n"
    ).encode()


def facts_of(source: str, monkeypatch: pytest.MonkeyPatch, jobs: str) -> ImageFacts:
    monkeypatch.setenv("DOCKWISE_JOBS", jobs)
    with open_image(source) as image:
        return analyse(image)


def secrets_of(facts: ImageFacts) -> list[tuple[str, int, str, str]]:
    return [(s.path, s.layer, s.kind, s.fingerprint) for s in facts.secrets]


@pytest.mark.parametrize("layout", ["legacy", "oci"])
def test_the_side_scan_finds_what_one_process_finds(
    layout: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = str(secret_image().write_docker_archive(tmp_path / "img.tar", layout=layout))
    with open_image(archive) as image:
        assert side_scan.worth_forking(image)  # this test exercises the child
    alone = facts_of(archive, monkeypatch, "1")
    forked = facts_of(archive, monkeypatch, "2")
    assert secrets_of(forked) == secrets_of(alone)
    assert {s.kind for s in alone.secrets} >= {"dotenv", "aws-access-key-id"}
    assert forked.accounts == alone.accounts and "etc/passwd" in alone.accounts
    assert forked.secrets_scanned and alone.secrets_scanned
    assert forked.size_bytes == alone.size_bytes and forked.hidden == alone.hidden


def test_compressed_layers_are_scanned_in_one_process(tmp_path: Path) -> None:
    archive = secret_image("gzip").write_oci_archive(tmp_path / "img.oci.tar")
    with open_image(f"oci-archive:{archive}") as image:
        assert not side_scan.worth_forking(image)
        assert {s.kind for s in analyse(image).secrets} >= {"dotenv", "aws-access-key-id"}


def test_a_failing_child_falls_back_to_scanning_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = str(secret_image().write_docker_archive(tmp_path / "img.tar"))
    alone = facts_of(archive, monkeypatch, "1")

    def broken(*args: object) -> None:
        raise RuntimeError("the child breaks")

    monkeypatch.setattr(side_scan, "_scan_and_send", broken)  # the forked child inherits it
    forked = facts_of(archive, monkeypatch, "2")
    assert secrets_of(forked) == secrets_of(alone) != []
    assert forked.accounts == alone.accounts


def test_an_unreadable_layer_stops_the_child_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    img = secret_image()
    archive = tmp_path / "img.tar"
    img.write_docker_archive(archive)
    data = bytearray(archive.read_bytes())
    at = data.find(b"AWS_ACCESS_KEY_ID")
    data[at : at + 4] = b"XXXX"  # same size: only the digest tells
    archive.write_bytes(bytes(data))
    monkeypatch.setenv("DOCKWISE_JOBS", "2")
    me = psutil.Process()
    before = {child.pid for child in me.children(recursive=True)}
    with pytest.raises(ImageError, match="does not match"), open_image(str(archive)) as image:
        analyse(image)
    assert {child.pid for child in me.children(recursive=True)} - before == set()


def test_the_cap_on_findings_stops_where_one_process_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each share reads past the cap; merged in stream order, the list ends where the one
    process scanner stopped reading (the cap is checked before each file)."""
    from dockwise.imagescan import layer_secrets

    monkeypatch.setattr(layer_secrets, "MAX_FOUND", 7)  # the forked child inherits it
    tokens = [f"ghp_{i:02d}Xy7Qw2Rt9Lk3Zp8Vb4Nm6Jh1Gf5Dc0Sa3" for i in range(30)]
    files = [
        File(
            f"app/conf{n}.py",
            "".join(f"TOKEN_{k} = '{tokens[n * 3 + k]}'\n" for k in range(3)).encode(),
        )
        for n in range(10)
    ]
    archive = str(
        make_image([LayerSpec(files[:4]), LayerSpec(files[4:])]).write_docker_archive(
            tmp_path / "img.tar"
        )
    )
    alone = facts_of(archive, monkeypatch, "1")
    forked = facts_of(archive, monkeypatch, "2")
    assert len(alone.secrets) == 9  # 3 files of 3: the cap (7) is passed inside the third
    assert secrets_of(forked) == secrets_of(alone)
