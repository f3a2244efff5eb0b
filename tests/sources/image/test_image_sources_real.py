"""A buildah-built image read back through every source gives the same config and entries."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
import realimages
from realimages import PASSWORD, USER, RealImage, Registry

from dockwise.sources.image import ImageError, open_image

pytestmark = pytest.mark.slow

# the session fixtures of tests/realimages.py
real_image = realimages.real_image
registry_plain = realimages.registry_plain
registry_htpasswd = realimages.registry_htpasswd
registry_token = realimages.registry_token


def snapshot(source: str, insecure: bool = False) -> tuple[dict, list[str], list[list[tuple]]]:
    """The config, the diff_ids and every layer's entries with a hash of each body."""
    with open_image(source, insecure=insecure) as image:
        layers = []
        for layer in image.layers:
            rows = []
            for entry, read in image.entries(layer):
                body = hashlib.sha256()
                while chunk := read(1 << 20):
                    body.update(chunk)
                rows.append(
                    (entry.path, entry.kind, entry.size, entry.mode, entry.uid, entry.gid,
                     entry.linkname, body.hexdigest())
                )  # fmt: skip
            layers.append(rows)
        return image.config, [x.diff_id for x in image.layers], layers


# what an OCI image config can hold: skopeo's conversion to OCI (oci-archive, oci folder)
# drops Docker-only fields (Healthcheck, container_config, Hostname...)
OCI_KEYS = ("User", "Env", "Cmd", "Entrypoint", "ExposedPorts", "WorkingDir", "Labels", "Volumes")


def oci_view(snap: tuple) -> tuple:
    config, diff_ids, layers = snap
    runtime = {k: v for k, v in (config.get("config") or {}).items() if k in OCI_KEYS and v}
    top = {k: config.get(k) for k in ("architecture", "os", "rootfs", "history")}
    return top, runtime, diff_ids, layers


@pytest.fixture(scope="module")
def reference(real_image: RealImage) -> tuple[dict, list[str], list[list[tuple]]]:
    return snapshot(str(real_image.docker_archive))


def test_docker_archive_holds_what_the_dockerfile_made(reference: tuple) -> None:
    config, diff_ids, layers = reference
    assert config["config"]["User"] == "1000"
    assert config["config"]["Healthcheck"]["Test"][:2] == ["CMD", "python3"]
    assert "APP_MODE=test" in config["config"]["Env"]
    assert len(diff_ids) == len(layers) == 4  # the base, COPY, and two RUNs
    copied = {row[0]: row for row in layers[1]}
    assert copied["app/main.py"][1] == "file"
    made = {row[0]: row for row in layers[2]}
    assert made["data/blob.bin"][2] == 300_000
    assert made["data/blob.hard"][1] == "hardlink"
    assert made["data/blob.hard"][6] == "data/blob.bin"
    assert made["app/link.py"][1:2] == ("symlink",)
    assert made["app/link.py"][6] == "/app/main.py"
    removed = {row[0] for row in layers[3]}
    assert {"app/.wh.cache", "data/.wh.blob.hard"} <= removed
    assert any(row[0] == "usr/bin/python3.11" for row in layers[0])


def test_oci_archive_reads_the_same(real_image: RealImage, reference: tuple) -> None:
    assert oci_view(snapshot(str(real_image.oci_archive))) == oci_view(reference)


def test_oci_folder_reads_the_same(real_image: RealImage, reference: tuple) -> None:
    assert oci_view(snapshot(str(real_image.oci_dir))) == oci_view(reference)


def test_docker_archive_from_stdin_reads_the_same(
    real_image: RealImage, reference: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockwise.sources.image.archive import open_stdin

    with (
        open(real_image.docker_archive, "rb") as stream,
        open_stdin("", "linux/amd64", stream) as image,
    ):
        assert image.config == reference[0]
        assert [x.diff_id for x in image.layers] == reference[1]


@pytest.fixture(scope="module")
def pushed(real_image: RealImage, registry_plain: Registry) -> str:
    """The image in the plain registry (compressed once; the others copy from it)."""
    return registry_plain.push(real_image.tag, "sources/layers:v1")


def test_plain_registry_reads_the_same(pushed: str, reference: tuple) -> None:
    assert snapshot(pushed, insecure=True) == reference


@pytest.mark.parametrize("auth", ["htpasswd", "token"])
def test_registry_with_auth_reads_the_same(
    auth: str,
    real_image: RealImage,
    pushed: str,
    registry_htpasswd: Registry,
    registry_token: Registry,
    reference: tuple,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,
) -> None:
    registry = registry_htpasswd if auth == "htpasswd" else registry_token
    source = registry.push(real_image.tag, "sources/layers:v1", source=pushed)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))  # no credentials anywhere
    monkeypatch.delenv("DOCKWISE_REGISTRY_USERNAME", raising=False)
    monkeypatch.delenv("DOCKWISE_REGISTRY_PASSWORD", raising=False)
    with pytest.raises(ImageError):
        open_image(source, insecure=True)
    monkeypatch.setenv("DOCKWISE_REGISTRY_PASSWORD", "wrong")
    monkeypatch.setenv("DOCKWISE_REGISTRY_USERNAME", USER)
    with pytest.raises(ImageError):
        open_image(source, insecure=True)
    monkeypatch.delenv("DOCKWISE_REGISTRY_USERNAME")
    monkeypatch.delenv("DOCKWISE_REGISTRY_PASSWORD")
    auth_value = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (tmp_path / "config.json").write_text(
        json.dumps({"auths": {registry.host: {"auth": auth_value}}})
    )
    assert snapshot(source, insecure=True) == reference


def test_registry_by_digest(pushed: str) -> None:
    with open_image(pushed, insecure=True) as image:
        digest = image.manifest_digest
        config = image.config
    host = pushed.removeprefix("registry://").split("/")[0]
    with open_image(f"registry://{host}/sources/layers@{digest}", insecure=True) as image:
        assert image.manifest_digest == digest
        assert image.config == config
        assert image.reference == f"sources/layers@{digest}"
    with pytest.raises(ImageError, match="loopback"):
        open_image("registry://example.com/x:1", insecure=True)


def test_registry_index_picks_the_platform(registry_plain: Registry, tmp_path) -> None:
    """An OCI index of two platforms pushed with `skopeo copy --all`, read per platform."""
    from imagegen import File, LayerSpec, make_image

    images = {
        arch: make_image(
            [LayerSpec([File("arch", arch.encode())], compression="gzip")], architecture=arch
        )
        for arch in ("amd64", "arm64")
    }
    oci = images["amd64"].write_oci_dir(tmp_path / "oci")
    images["arm64"].write_oci_dir(oci)
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            img.manifest.descriptor(platform={"os": "linux", "architecture": arch})
            for arch, img in images.items()
        ],
    }
    inner = json.dumps(index).encode()  # skopeo wants one named entry: the index as a blob
    digest = "sha256:" + hashlib.sha256(inner).hexdigest()
    (oci / "blobs" / "sha256" / digest[7:]).write_bytes(inner)
    outer = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": index["mediaType"],
                "digest": digest,
                "size": len(inner),
                "annotations": {"org.opencontainers.image.ref.name": "v1"},
            }
        ],
    }
    (oci / "index.json").write_text(json.dumps(outer))
    dest = f"docker://{registry_plain.host}/sources/multi:v1"
    realimages._run(
        ["skopeo", "copy", "--quiet", "--all", "--dest-tls-verify=false", f"oci:{oci}:v1", dest]
    )
    source = f"registry://{registry_plain.host}/sources/multi:v1"
    for arch in ("amd64", "arm64"):
        with open_image(source, platform=f"linux/{arch}", insecure=True) as image:
            assert [read(10) for _, read in image.entries(image.layers[0])] == [arch.encode()]
            assert image.platform == f"linux/{arch}"
            assert image.manifest_digest == images[arch].manifest.digest
    with pytest.raises(ImageError, match="no manifest for platform linux/ppc64le"):
        open_image(source, platform="linux/ppc64le", insecure=True)
