"""Images in a registry over the HTTP API v2: anonymous, basic and bearer-token auth.

`registry://host[:port]/name:tag` or `registry://host[:port]/name@sha256:...`. Credentials
come from DOCKWISE_REGISTRY_USERNAME/PASSWORD or ~/.docker/config.json `auths` (credential
helpers are not run). Plain HTTP is only allowed with `insecure=True` and only on loopback.
Every request has timeouts; bodies of manifests and configs are capped.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dockwise.sources.image import manifest as mf
from dockwise.sources.image.image import CHUNK, BlobRef, Image, read_verified, short
from dockwise.sources.image.model import ImageError, Layer

CONNECT_TIMEOUT = 10.0
_HUB = {"docker.io", "index.docker.io", "registry-1.docker.io"}
_ACCEPT = ", ".join([mf.OCI_INDEX, mf.DOCKER_LIST, mf.OCI_MANIFEST, mf.DOCKER_MANIFEST])
_NAME = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")


def parse_source(source: str) -> tuple[str, str, str]:
    """(host[:port], repository, tag or digest) of `registry://...`."""
    rest = source.removeprefix("registry://")
    host, slash, path = rest.partition("/")
    if not slash or not host or not path:
        raise ImageError(f"{source}: expected registry://host[:port]/name[:tag|@sha256:...]")
    if "@" in path:
        name, _, ref = path.partition("@")
        mf.check_digest(ref, source)
    else:
        name, colon, ref = path.rpartition(":")
        if not colon or "/" in ref:
            name, ref = path, "latest"
        if not _TAG.match(ref):
            raise ImageError(f"{source}: invalid tag {ref[:80]!r}")
    if not _NAME.match(name):
        raise ImageError(f"{source}: invalid repository name {name[:80]!r}")
    if host in _HUB:
        host = "registry-1.docker.io"
        if "/" not in name:
            name = "library/" + name
    return host, name, ref


def is_loopback(host: str) -> bool:
    """host or host:port or [v6]:port names this machine."""
    if host.startswith("["):
        hostname = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        hostname = host.split(":", 1)[0]
    else:
        hostname = host
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def credentials(host: str) -> tuple[str, str] | None:
    user = os.environ.get("DOCKWISE_REGISTRY_USERNAME")
    password = os.environ.get("DOCKWISE_REGISTRY_PASSWORD")
    if user and password is not None:
        return user, password
    config_dir = os.environ.get("DOCKER_CONFIG") or str(Path.home() / ".docker")
    try:
        data = (Path(config_dir) / "config.json").read_bytes()
        auths = json.loads(data).get("auths") or {}
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(auths, dict):
        return None
    keys = [host, f"https://{host}", f"http://{host}", f"https://{host}/v1/", f"https://{host}/v2/"]
    if host == "registry-1.docker.io":
        keys += ["https://index.docker.io/v1/", "index.docker.io", "docker.io"]
    for key in keys:
        entry = auths.get(key)
        if not isinstance(entry, dict):
            continue
        if entry.get("auth"):
            try:
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                continue
            return user, password
        if entry.get("username") and entry.get("password") is not None:
            return str(entry["username"]), str(entry["password"])
    return None


_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


class RegistryStore:
    def __init__(self, source: str, host: str, name: str, insecure: bool, timeout: float) -> None:
        import httpx

        self.where = source
        self.host, self.name = host, name
        if insecure and not is_loopback(host):
            raise ImageError(f"{source}: --insecure allows plain HTTP only on loopback")
        self.base = f"{'http' if insecure else 'https'}://{host}/v2/{name}"
        self.timeout = timeout
        self._httpx = httpx
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
            follow_redirects=True,
            headers={"User-Agent": "dockwise"},
            trust_env=False,
        )
        self._auth: dict[str, str] = {}
        self._creds = credentials(host)

    # -- auth ----------------------------------------------------------------------------
    def _authenticate(self, challenge: str) -> None:
        scheme, _, params = challenge.partition(" ")
        fields = dict(_CHALLENGE.findall(params))
        if scheme.lower() == "basic":
            if not self._creds:
                raise ImageError(
                    f"{self.where}: the registry needs credentials (DOCKWISE_REGISTRY_USERNAME/PASSWORD or docker login)"
                )
            basic = base64.b64encode(f"{self._creds[0]}:{self._creds[1]}".encode()).decode()
            self._auth = {"Authorization": f"Basic {basic}"}
            return
        if scheme.lower() != "bearer" or not fields.get("realm"):
            raise ImageError(f"{self.where}: unsupported auth challenge {scheme[:20]!r}")
        realm = fields["realm"]
        realm_host = self._httpx.URL(realm).host
        if not realm.startswith("https://") and not (
            realm.startswith("http://") and is_loopback(realm_host)
        ):
            raise ImageError(f"{self.where}: token realm {realm[:80]} is not HTTPS")
        params_out = {"scope": fields.get("scope") or f"repository:{self.name}:pull"}
        if fields.get("service"):
            params_out["service"] = fields["service"]
        auth = self._creds if self._creds else None
        body = b""
        try:
            with self.client.stream("GET", realm, params=params_out, auth=auth) as response:
                status = response.status_code
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > mf.MAX_JSON_BYTES:
                        raise ImageError(f"{self.where}: token server answer too large")
        except self._httpx.HTTPError as exc:
            raise ImageError(f"{self.where}: token server: {exc.__class__.__name__}") from None
        if status in (401, 403):
            raise ImageError(f"{self.where}: token server refused the credentials ({status})")
        if status != 200:
            raise ImageError(f"{self.where}: token server answered {status}")
        token: Any = None
        try:
            doc = json.loads(body)
            token = doc.get("token") or doc.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise ImageError(f"{self.where}: token server returned no token")
        self._auth = {"Authorization": f"Bearer {token}"}

    def _send(self, path: str, headers: dict[str, str], stream: bool = False) -> Any:
        url = f"{self.base}/{path}"
        for attempt in range(2):
            try:
                request = self.client.build_request("GET", url, headers={**headers, **self._auth})
                response = self.client.send(request, stream=stream)
            except self._httpx.TimeoutException:
                raise ImageError(
                    f"{self.where}: {path.split('/')[0]} {path[-71:]}: timed out"
                ) from None
            except self._httpx.HTTPError as exc:
                raise ImageError(
                    f"{self.where}: {exc.__class__.__name__}: {str(exc)[:100]}"
                ) from None
            if response.status_code == 401 and attempt == 0:
                challenge = response.headers.get("WWW-Authenticate", "")
                response.close()
                self._authenticate(challenge)
                continue
            if response.status_code != 200:
                response.close()
                what = "manifest" if path.startswith("manifests/") else "blob"
                label = path.split("/", 1)[1]
                if response.status_code == 404:
                    raise ImageError(
                        f"{self.where}: {what} {short(label) if label.startswith('sha256:') else label} not found"
                    )
                if response.status_code in (401, 403):
                    raise ImageError(f"{self.where}: access denied ({response.status_code})")
                raise ImageError(f"{self.where}: {what} {label[:40]}: HTTP {response.status_code}")
            return response
        raise ImageError(f"{self.where}: unauthorized")  # pragma: no cover

    def _capped(self, path: str, headers: dict[str, str], limit: int) -> tuple[bytes, Any]:
        response = self._send(path, headers, stream=True)
        # a server trickling bytes never trips the read timeout: small documents get a deadline
        deadline = time.monotonic() + 4 * self.timeout
        try:
            parts, total = [], 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > limit:
                    raise ImageError(f"{self.where}: {path[:80]} is larger than {limit} bytes")
                if time.monotonic() > deadline:
                    raise ImageError(f"{self.where}: {path[:80]}: timed out (too slow)")
                parts.append(chunk)
            return b"".join(parts), response
        except self._httpx.TimeoutException:
            raise ImageError(f"{self.where}: {path[:80]}: timed out") from None
        except self._httpx.HTTPError as exc:
            raise ImageError(
                f"{self.where}: {exc.__class__.__name__} reading {path[:80]}"
            ) from None
        finally:
            response.close()

    # -- the store -----------------------------------------------------------------------
    def manifest(self, ref: str) -> tuple[bytes, str, str]:
        data, response = self._capped(f"manifests/{ref}", {"Accept": _ACCEPT}, mf.MAX_JSON_BYTES)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if ref.startswith("sha256:") and digest != ref:
            raise ImageError(f"{self.where}: manifest {short(ref)} does not match its digest")
        header = response.headers.get("Docker-Content-Digest", "")
        if header.startswith("sha256:") and header != digest:
            raise ImageError(f"{self.where}: manifest does not match Docker-Content-Digest")
        media = response.headers.get("Content-Type", "").split(";")[0].strip()
        return data, digest, media

    def read_small(self, ref: BlobRef, limit: int) -> bytes:
        data, _ = self._capped(f"blobs/{ref.digest}", {}, limit)
        return data

    def region(self, ref: BlobRef) -> tuple[int, int, int] | None:
        return None

    def chunks(self, ref: BlobRef) -> Iterator[bytes]:
        response = self._send(f"blobs/{ref.digest}", {}, stream=True)
        try:
            yield from response.iter_bytes(CHUNK)
        except self._httpx.TimeoutException:
            raise ImageError(f"{self.where}: blob {short(ref.digest)}: timed out") from None
        except self._httpx.HTTPError as exc:
            raise ImageError(
                f"{self.where}: blob {short(ref.digest)}: {exc.__class__.__name__}"
            ) from None
        finally:
            response.close()

    def close(self) -> None:
        self.client.close()


def _compression_of_media(media_type: str) -> str:
    if media_type.endswith(("gzip", "+gzip")):
        return "gzip"
    if media_type.endswith(("zstd", "+zstd")):
        return "zstd"
    if media_type.endswith((".tar", "+tar", "tar")) or not media_type:
        return ""
    if "foreign" in media_type or "nondistributable" in media_type:
        return "gzip"
    return ""


def open_registry(source: str, *, platform: str, insecure: bool, timeout: float = 30.0) -> Image:
    host, name, ref = parse_source(source)
    store = RegistryStore(source, host, name, insecure, timeout)
    try:
        return _open(store, source, name, ref, platform)
    except BaseException:
        store.close()
        raise


def _open(store: RegistryStore, source: str, name: str, ref: str, platform: str) -> Image:
    seen: set[str] = set()
    current = ref
    for _depth in range(mf.MAX_INDEX_DEPTH + 1):
        data, digest, media = store.manifest(current)
        if digest in seen:
            raise ImageError(f"{source}: manifest loop at {short(digest)}")
        seen.add(digest)
        doc = mf.load_json(data, f"{source}: manifest {short(digest)}")
        if not isinstance(doc, dict):
            raise ImageError(f"{source}: manifest {short(digest)} is not an object")
        if mf.is_index(doc, media):
            entries = mf.index_entries(doc, f"{source}: index {short(digest)}")
            current = mf.choose(entries, platform, "", f"{source}: index {short(digest)}").digest
            continue
        break
    else:
        raise ImageError(f"{source}: indexes nested deeper than {mf.MAX_INDEX_DEPTH}")
    image_manifest = mf.image_manifest(doc, f"{source}: manifest {short(digest)}")
    cfg = image_manifest.config
    config = mf.config_doc(
        read_verified(store, BlobRef(cfg.digest, cfg.digest, cfg.size), "config"),
        f"{source}: config {short(cfg.digest)}",
    )
    diff_ids = mf.diff_ids(config)
    if len(diff_ids) != len(image_manifest.layers):
        raise ImageError(
            f"{source}: the manifest lists {len(image_manifest.layers)} layers, the config {len(diff_ids)}"
        )
    history = mf.history_for_layers(config, len(diff_ids))
    refs = [BlobRef(d.digest, d.digest, d.size) for d in image_manifest.layers]
    layers = tuple(
        Layer(
            index=i,
            digest=d.digest,
            diff_id=diff_ids[i],
            media_type=d.media_type,
            compressed_bytes=d.size,
            created_by=history[i][0],
            history_index=history[i][1],
            compression=_compression_of_media(d.media_type),
        )
        for i, d in enumerate(image_manifest.layers)
    )
    return Image(
        store=store,
        source=source,
        reference=f"{name}@{ref}" if ref.startswith("sha256:") else f"{name}:{ref}",
        config=config,
        config_digest=cfg.digest,
        manifest_digest=digest,
        layers=layers,
        blobs=tuple(refs),
    )
