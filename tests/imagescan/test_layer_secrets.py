"""LayerSecretScanner: what it reads, what it skips, what it finds (never the value)."""

from __future__ import annotations

import pytest

from dockwise.imagescan.layer_secrets import MAX_TEXT_BYTES, LayerSecretScanner
from dockwise.sources.image.model import Entry, Layer

AWS_KEY = "AKIA" + "Z7Q4XR2MPLK9WV3N"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCY" + "Q4v8Nz2Lp9Rs"
GITHUB_TOKEN = "ghp_" + "Xy7Qw2Rt9Lk3Zp8Vb4Nm6Jh1Gf5Dc0Sa3Ee9"


def layer(index: int = 2) -> Layer:
    return Layer(
        index=index,
        digest=f"sha256:{index:064x}",
        diff_id=f"sha256:{index:064x}",
        media_type="application/vnd.docker.image.rootfs.diff.tar",
        compressed_bytes=1024,
        created_by="COPY . /app # buildkit",
        history_index=index,
    )


def entry(path: str, size: int, kind: str = "file") -> Entry:
    return Entry(path, kind, size, 0o644, 0, 0, 0, "")


def scan(files: dict[str, bytes], index: int = 2) -> LayerSecretScanner:
    """Feed files to the scanner as the analysis does: ask, read what it wants, inspect."""
    scanner = LayerSecretScanner()
    for path, data in files.items():
        item = entry(path, len(data))
        wanted = scanner.wants(layer(index), item)
        if wanted:
            scanner.inspect(layer(index), item, data[:wanted])
    return scanner


def test_secret_in_an_app_file_is_found_redacted() -> None:
    text = f"import os\nAWS_ACCESS_KEY_ID = '{AWS_KEY}'\n".encode()
    found = scan({"app/settings.py": text}).found
    assert [(s.path, s.layer, s.kind, s.line) for s in found] == [
        ("/app/settings.py", 2, "aws-access-key-id", 2)
    ]
    assert AWS_KEY not in repr(found) and AWS_KEY not in found[0].preview
    assert found[0].preview.startswith("AKIA"[: len(found[0].preview.split("…")[0])])


def test_dotenv_is_one_finding_for_the_file() -> None:
    text = f"DEBUG=0\nGITHUB_TOKEN={GITHUB_TOKEN}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n".encode()
    found = scan({"app/.env": text}).found
    assert [(s.path, s.kind, s.line) for s in found] == [("/app/.env", "dotenv", 2)]
    assert GITHUB_TOKEN not in found[0].preview


@pytest.mark.parametrize(
    ("path", "text", "kind"),
    [
        (
            "root/.ssh/id_ed25519",
            b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE\n"
            b"-----END OPENSSH PRIVATE KEY-----\n",
            "ssh-private-key",
        ),
        (
            "root/.aws/credentials",
            f"[default]\naws_access_key_id = {AWS_KEY}\n"
            f"aws_secret_access_key = {AWS_SECRET}\n".encode(),
            "aws-credentials",
        ),
        (
            "root/.docker/config.json",
            b'{"auths": {"ghcr.io": {"auth": "YWNtZTpzM2NyZXRQYXNzdzByZA=="}}}',
            "docker-config-auth",
        ),
        (
            "root/.npmrc",
            b"//registry.npmjs.org/:_authToken=npm_" + b"Q8vX2kLp9Rt4Zw7Yb3Nm6Jh1Gf5Dc0Sa8Ee2",
            "npmrc-auth",
        ),
        (
            "home/app/.pypirc",
            b"[pypi]\nusername = acme\npassword = Zq8#vLp2@Rt9xW\n",
            "pypirc-auth",
        ),
    ],
)
def test_credential_files_by_name(path: str, text: bytes, kind: str) -> None:
    assert [s.kind for s in scan({path: text}).found] == [kind]


def test_files_package_managers_install_are_not_read() -> None:
    scanner = LayerSecretScanner()
    key = b"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"
    for path in (
        "usr/lib/python3/dist-packages/tests/key.pem",
        "usr/local/lib/python3.11/site-packages/requests/tests/id_rsa",
        "app/node_modules/ssh2/test/fixtures/id_rsa",
        "etc/ssl/private/ssl-cert-snakeoil.key",
        "etc/ssh/ssh_host_ed25519_key",
        "usr/share/doc/openssl/demo.pem",
        "var/lib/dpkg/info/passwd.postinst",
    ):
        assert scanner.wants(layer(), entry(path, len(key))) == 0, path
    assert scanner.found == ()


def test_binaries_whiteouts_links_and_large_files_are_skipped() -> None:
    scanner = LayerSecretScanner()
    assert scanner.wants(layer(), entry("app/model.so", 100)) == 0
    assert scanner.wants(layer(), entry("app/.wh.secret.env", 0)) == 0
    assert scanner.wants(layer(), entry("app/.wh..wh..opq", 0)) == 0
    assert scanner.wants(layer(), entry("app/link", 0, kind="symlink")) == 0
    assert scanner.wants(layer(), entry("app/dump.sql", MAX_TEXT_BYTES + 1)) == 0
    assert scanner.wants(layer(), entry("app/main.py", 1000)) == 1000
    # a credential file is read whatever its size, but only its head
    assert 0 < scanner.wants(layer(), entry("app/.env", 10 * MAX_TEXT_BYTES)) < MAX_TEXT_BYTES


def test_binary_content_and_text_without_keywords_never_reach_the_detector() -> None:
    scanner = scan(
        {
            "app/blob": b"\x7fELF\x00\x00" + AWS_KEY.encode(),
            "app/README": b"Hello\nThis app serves pictures of cats.\n" * 50,
        }
    )
    assert scanner.found == ()
    assert scanner.files_read == 2 and scanner.files_scanned == 0


def test_placeholders_and_examples_are_not_secrets() -> None:
    found = scan(
        {
            "app/.env.example": b"SECRET_KEY=changeme\nDATABASE_URL=postgres://user:pass@db/app\n",
            "app/config.py": b"PASSWORD = os.environ['PASSWORD']\nTOKEN = None\n",
            "etc/passwd": b"root:x:0:0:root:/root:/bin/bash\n",
            "app/config.json": b'{"auths": {}}',
        }
    ).found
    assert found == ()


def test_each_layer_copy_is_its_own_finding() -> None:
    """The same file in layer 2 and again in layer 4 (deleted later or not): two copies,
    both extractable."""
    text = f"token = '{GITHUB_TOKEN}'\n".encode()
    scanner = LayerSecretScanner()
    for index in (2, 4):
        item = entry("srv/app.ini", len(text))
        scanner.inspect(layer(index), item, text[: scanner.wants(layer(index), item)])
    assert [(s.layer, s.kind) for s in scanner.found] == [(2, "github-token"), (4, "github-token")]
    assert scanner.found[0].fingerprint == scanner.found[1].fingerprint


def test_a_dotenv_without_credentials_is_no_finding() -> None:
    assert scan({"app/.env": b"DEBUG=0\nPORT=8000\nLOG_LEVEL=info\n"}).found == ()


def test_the_prefilter_never_hides_what_the_detector_finds() -> None:
    """On real code (this interpreter's standard library and packages), every file the
    detector finds a secret in passes the keyword prefilter."""
    import sysconfig
    from pathlib import Path

    from dockwise.imagescan.layer_secrets import _may_hold_secret
    from dockwise.secrets import scan_text

    roots = [Path(sysconfig.get_paths()[key]) for key in ("stdlib", "purelib")]
    files = sorted(p for root in roots for p in root.rglob("*.py") if p.stat().st_size < 100_000)
    checked = found = 0
    for path in files[::11][:150]:
        data = path.read_bytes()
        matches = [m for m in scan_text(data.decode("utf-8", "replace")) if m.confidence != "low"]
        checked += 1
        if matches:
            found += 1
            assert _may_hold_secret(data), path
    assert checked >= 100 and found > 0, (checked, found)


def test_every_token_prefix_passes_the_prefilter() -> None:
    """The grouped prefix patterns cover each listed prefix, and nothing else is lost."""
    from dockwise.imagescan.layer_secrets import (
        _PREFIX_GROUPS,
        _SINGLE_PREFIXES,
        _TOKEN_PREFIXES,
        _may_hold_secret,
    )

    assert len(_SINGLE_PREFIXES) < len(_TOKEN_PREFIXES)
    for prefix in _TOKEN_PREFIXES:
        assert _may_hold_secret(b"zzz " + prefix + b"Q9zz"), prefix
    assert not _may_hold_secret(b"zzz ghx_ AKIB xo zzz")
    assert all(g.search(b"zzz") is None for g in _PREFIX_GROUPS)


@pytest.mark.parametrize(
    "path",
    [
        "app/config.py",
        "srv/app/settings/prod.py",
        "root/deploy.sh",
        "home/app/notes.txt",
        "etc/myservice/app.conf",
        "opt/service/run.sh",
        "usr/local/bin/start.sh",
    ],
)
def test_a_secret_planted_where_users_put_their_own_files_is_found(path: str) -> None:
    """The skipped folders (package managers' files) never cover where secrets are put."""
    text = f"#!/bin/sh\nexport GITHUB_TOKEN={GITHUB_TOKEN}\n".encode()
    found = scan({path: text}).found
    assert [(s.path, s.kind) for s in found] == [("/" + path, "github-token")], found
