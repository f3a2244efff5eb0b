"""Real images for tests: built with buildah from tests/images/<name>/, exported with skopeo,
served by a local docker-registry (plain, htpasswd, bearer token from a token server here).

Use in a test module (the fixtures are session-scoped; tests using them are slow):

    from realimages import real_image, registry_plain  # noqa: F401 (fixtures)

    @pytest.mark.slow
    def test_x(real_image):
        real_image.docker_archive, real_image.oci_archive, real_image.oci_dir, real_image.tag

Or call `build_test_image("layers")` / `export(tag, "docker-archive", path)` directly.
Images are tagged `localhost/dockwise-test-sources-<name>:<hash of the folder>`, so a changed
Dockerfile builds anew and an unchanged one is reused between runs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from needs import require_root, require_tool

ROOT = Path(__file__).resolve().parent.parent
IMAGES = Path(__file__).resolve().parent / "images"
STORAGE = "containers-storage:[vfs@/var/lib/containers/storage+/run/containers/storage]"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# part of every test image's tag: change it when the build command changes
BUILD_RECIPE = "bud --layers --format docker v2"
USER, PASSWORD = "dockwise", "s3cret-test-only"


def _run(cmd: list[str], timeout: float = 600) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed:\n{done.stderr[-2000:]}")
    return done.stdout


def _folder_hash(folder: Path) -> str:
    h = hashlib.sha256(BUILD_RECIPE.encode())
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def build_base() -> None:
    require_root()
    for tool in ("buildah", "skopeo", "debootstrap"):
        require_tool(tool)
    _run(["bash", str(ROOT / "scripts" / "build-base")], timeout=900)


def build_test_image(name: str) -> str:
    """Build tests/images/<name>/ once (cached by the folder's content); return its tag."""
    build_base()
    folder = IMAGES / name
    tag = f"localhost/dockwise-test-sources-{name}:{_folder_hash(folder)}"
    buildah = ["buildah", "--storage-driver", "vfs"]
    if subprocess.run(
        [*buildah, "inspect", "--type", "image", tag], capture_output=True
    ).returncode:
        _run(
            [
                *buildah,
                "bud",
                "--isolation",
                "chroot",
                "--format",
                "docker",
                "--pull=never",
                "--quiet",
                "--layers",  # one layer per instruction, as docker build makes them
                "-v",
                f"{CA_BUNDLE}:{CA_BUNDLE}:ro",
                "-t",
                tag,
                str(folder),
            ]
        )
    return tag


def export(tag: str, kind: str, dest: Path, source: str = "", level: int = 0) -> Path:
    """skopeo copy to "docker-archive", "oci-archive" or "oci" (a folder). `source` (a skopeo
    transport, e.g. `oci:DIR`) reuses blobs compressed once instead of compressing again."""
    require_tool("skopeo")
    target = f"{kind}:{dest}:{tag}" if kind == "docker-archive" else f"{kind}:{dest}"
    extra = ["--dest-compress-level", str(level)] if level else []
    _run(["skopeo", "copy", "--quiet", *extra, source or f"{STORAGE}{tag}", target])
    return dest


@dataclass(frozen=True)
class RealImage:
    tag: str
    docker_archive: Path
    oci_archive: Path
    oci_dir: Path


@pytest.fixture(scope="session")
def real_image(tmp_path_factory: pytest.TempPathFactory) -> RealImage:
    """tests/images/layers built once and exported to every local format."""
    tag = build_test_image("layers")
    out = tmp_path_factory.mktemp("real-image")
    oci_dir = export(tag, "oci", out / "oci", level=1)
    return RealImage(
        tag=tag,
        docker_archive=export(tag, "docker-archive", out / "image.tar"),
        oci_archive=export(tag, "oci-archive", out / "image.oci.tar", source=f"oci:{oci_dir}"),
        oci_dir=oci_dir,
    )


# -- the local registry ------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    auth: str  # "none" | "htpasswd" | "token"
    process: subprocess.Popen[bytes]
    token_server: ThreadingHTTPServer | None = None

    def push(self, tag: str, repository: str, source: str = "") -> str:
        """Push a buildah image (or copy `source`, a `registry://` of another test registry,
        which reuses its compressed layers); returns `registry://HOST/REPOSITORY:TAG`."""
        dest = f"docker://{self.host}/{repository}"
        cmd = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--src-tls-verify=false"]
        if self.auth != "none":
            cmd += ["--dest-creds", f"{USER}:{PASSWORD}"]
        if not source:  # gzip level 1: the push compresses the whole image, level 6 is 3x slower
            cmd += ["--dest-compress-level", "1"]
        origin = "docker://" + source.removeprefix("registry://") if source else f"{STORAGE}{tag}"
        _run([*cmd, origin, dest])
        return f"registry://{self.host}/{repository}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.token_server is not None:
            self.token_server.shutdown()
            self.token_server.server_close()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class _TokenIssuer:
    """Signs registry tokens (RS256 JWT with an x5c chain) with openssl."""

    def __init__(self, folder: Path) -> None:
        self.key = folder / "token.key"
        self.cert = folder / "token.crt"
        _run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=dockwise-test-token", "-keyout", str(self.key), "-out", str(self.cert),
            ]
        )  # fmt: skip
        der = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
            capture_output=True,
            check=True,
        ).stdout
        self.x5c = base64.b64encode(der).decode()
        self.issued = 0

    def token(self, scope: str, service: str) -> str:
        access = []
        for item in scope.split():
            kind, _, rest = item.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {
            "iss": "dockwise-test-issuer",
            "sub": USER,
            "aud": service,
            "exp": now + 600,
            "nbf": now - 10,
            "iat": now,
            "jti": os.urandom(8).hex(),
            "access": access,
        }
        signing = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing.encode(),
            capture_output=True,
            check=True,
        ).stdout
        self.issued += 1
        return f"{signing}.{_b64url(signature)}"


def _token_server(issuer: _TokenIssuer) -> ThreadingHTTPServer:
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            query = parse_qs(urlparse(self.path).query)
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.end_headers()
                return
            token = issuer.token(" ".join(query.get("scope", [])), query.get("service", [""])[0])
            body = json.dumps({"token": token, "access_token": token, "expires_in": 600}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_registry(folder: Path, auth: str = "none") -> Registry:
    """docker-registry on 127.0.0.1, its storage under `folder`."""
    require_tool("docker-registry")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = [
        "version: 0.1",
        "log: {level: error, accesslog: {disabled: true}}",
        f"storage: {{filesystem: {{rootdirectory: {folder / 'data'}}}, delete: {{enabled: true}}}}",
        f"http: {{addr: 127.0.0.1:{port}, secret: dockwise-test}}",
    ]
    token_server = None
    if auth == "htpasswd":
        require_tool("htpasswd")
        line = _run(["htpasswd", "-Bbn", USER, PASSWORD]).strip()
        (folder / "htpasswd").write_text(line + "\n")
        config.append(f"auth: {{htpasswd: {{realm: dockwise-test, path: {folder / 'htpasswd'}}}}}")
    elif auth == "token":
        require_tool("openssl")
        issuer = _TokenIssuer(folder)
        token_server = _token_server(issuer)
        realm = f"http://127.0.0.1:{token_server.server_address[1]}/token"
        config.append(
            f"auth: {{token: {{realm: '{realm}', service: dockwise-test, "
            f"issuer: dockwise-test-issuer, rootcertbundle: {issuer.cert}}}}}"
        )
    (folder / "config.yml").write_text("\n".join(config) + "\n")
    log = open(folder / "registry.log", "wb")  # noqa: SIM115 (the process keeps it)
    process = subprocess.Popen(
        ["docker-registry", "serve", str(folder / "config.yml")], stdout=log, stderr=log
    )
    registry = Registry(f"127.0.0.1:{port}", auth, process, token_server)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            status = httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=1).status_code
            if status in (200, 401):
                return registry
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    registry.stop()
    raise RuntimeError(
        f"docker-registry did not start: {(folder / 'registry.log').read_text()[-1000:]}"
    )


def _registry_fixture(auth: str, factory: pytest.TempPathFactory) -> Iterator[Registry]:
    registry = start_registry(factory.mktemp(f"registry-{auth}"), auth)
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture(scope="session")
def registry_plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    yield from _registry_fixture("none", tmp_path_factory)


@pytest.fixture(scope="session")
def registry_htpasswd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    yield from _registry_fixture("htpasswd", tmp_path_factory)


@pytest.fixture(scope="session")
def registry_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    yield from _registry_fixture("token", tmp_path_factory)
