"""Knowledge of base images and of what RUN steps install."""

from __future__ import annotations

import pytest

from dockwise.baseimages import base_tools, base_user, installs_tool, is_bare_base, package_name
from dockwise.sources.imageref import parse_image_ref
from dockwise.sources.shell import parse_script


@pytest.mark.parametrize(
    ("image", "tool", "expected"),
    [
        ("python:3.11-slim", "curl", False),
        ("python:3.11-slim", "wget", False),
        ("python:3.11-slim", "python", True),
        ("python:3.11-slim", "sh", True),
        ("python:3.11-slim", "pgrep", False),
        ("docker.io/library/python:3.12-slim-bookworm@sha256:" + "a" * 64, "curl", False),
        ("public.ecr.aws/docker/library/python:3.11-slim", "curl", False),
        ("python:3.11-alpine", "wget", True),  # busybox wget
        ("python:3.11-alpine", "curl", False),
        ("python:3.11-alpine", "bash", False),
        ("python:3.11", "curl", True),  # buildpack-deps
        ("python:3.11", "wget", True),
        ("python:3.11", "gcc", True),
        ("python", "curl", True),
        ("debian:bookworm-slim", "curl", False),
        ("debian:bookworm-slim", "python3", False),
        ("ubuntu:22.04", "curl", False),
        ("ubuntu:22.04", "wget", False),
        ("ubuntu:22.04", "pgrep", None),
        ("alpine:3.19", "wget", True),
        ("alpine:3.19", "nc", True),
        ("alpine:3.19", "curl", False),
        ("gcr.io/distroless/python3-debian12", "sh", False),
        ("gcr.io/distroless/python3-debian12", "curl", False),
        ("gcr.io/distroless/python3-debian12", "python3", True),
        ("gcr.io/distroless/python3-debian12:debug", "sh", True),
        ("gcr.io/distroless/static-debian12", "python3", False),
        ("cgr.dev/chainguard/python", "sh", False),
        ("cgr.dev/chainguard/python:latest-dev", "sh", True),
        ("cgr.dev/chainguard/python:latest-dev", "curl", None),
        ("scratch", "sh", False),
        ("scratch", "python", False),
        ("node:20-slim", "curl", False),
        ("node:20-slim", "wget", False),
        ("node:20-slim", "node", True),
        ("node:20-alpine", "wget", True),
        ("nginx", "curl", True),
        ("nginx:1.25-alpine", "curl", True),
        ("nginx:1.25-alpine-slim", "curl", None),
        ("redis:7", "redis-cli", True),
        ("postgres:16", "pg_isready", True),
    ],
)
def test_known_images(image: str, tool: str, expected: bool | None) -> None:
    assert base_tools(image).has(tool) is expected


@pytest.mark.parametrize(
    "image",
    [
        "mycompany/python-base:1.2",
        "registry.example.com/python:3.11-slim",  # a private copy may add anything
        "localhost:5000/python:3.11-slim",
        "${BASE}",
        "python:3.11-windowsservercore",
        "",
    ],
)
def test_unknown_images_never_claim_absence(image: str) -> None:
    tools = base_tools(image)
    assert not tools.known
    assert all(tools.has(t) is None for t in ("curl", "wget", "sh", "python"))


def test_has_accepts_paths() -> None:
    assert base_tools("python:3.11-slim").has("/usr/bin/curl") is False
    assert base_tools("python:3.11-slim").has("/usr/local/bin/python") is True


def test_unknown_tool_is_unknown() -> None:
    assert base_tools("python:3.11-slim").has("grpc_health_probe") is None
    assert base_tools("scratch").has("/app/server") is None


def test_image_ref_parsing() -> None:
    ref = parse_image_ref("docker.io/library/python:3.12-slim@sha256:abc")
    assert (ref.registry, ref.name, ref.tag) == ("docker.io", "python", "3.12-slim")
    ref = parse_image_ref("gcr.io/distroless/python3-debian12:nonroot")
    assert (ref.registry, ref.repository, ref.tag) == (
        "gcr.io",
        "distroless/python3-debian12",
        "nonroot",
    )
    ref = parse_image_ref("localhost:5000/app")
    assert (ref.registry, ref.repository, ref.tag) == ("localhost:5000", "app", None)


def test_label_drops_registry_noise() -> None:
    assert base_tools("docker.io/library/python:3.12-slim@sha256:abc").label == "python:3.12-slim"


def installed(script: str) -> set[str]:
    tools: set[str] = set()
    for command in parse_script(script).commands:
        tools |= installs_tool(command)
    return tools


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("apt-get update && apt-get install -y --no-install-recommends curl", {"curl"}),
        ("apt-get install -y curl=7.88.1-10+deb12u5", {"curl"}),
        ("apt install -y wget", {"wget"}),
        ("apk add --no-cache curl=8.5.0-r0", {"curl"}),
        ("yum install -y procps-ng", {"pgrep", "ps", "pkill", "pidof"}),
        ("dnf install -y nmap-ncat", {"nc", "ncat"}),
        ("microdnf install -y curl-7.76.1", {"curl"}),
        ("apt-get install -y netcat-openbsd", {"nc"}),
        ("apt-get install -y procps", {"pgrep", "ps", "pkill", "pidof"}),
        ("pip install --no-cache-dir httpie==3.2.2", {"http", "https"}),
        ("python -m pip install httpie", {"http", "https"}),
        ("pip install -r requirements.txt", set()),
        ("curl -fsSLo /usr/local/bin/x https://example.com/x", {"x"}),
        (
            "curl -fsSL -o /usr/local/bin/grpc_health_probe https://example.com/p",
            {"grpc_health_probe"},
        ),
        ("wget -qO /bin/probe https://example.com/p", {"probe"}),
        ("wget -q -O /bin/probe https://example.com/p", {"probe"}),
        ("busybox --install", {"sh", "ash", "wget", "nc", "pgrep", "ps", "busybox"}),
        ("apt-get update", set()),
        ("echo apt-get install curl", set()),
    ],
)
def test_installs_tool(script: str, expected: set[str]) -> None:
    assert installed(script) == expected


def test_installs_tool_in_exec_form_run() -> None:
    from dockwise.sources.shell import ShellCommand

    assert installs_tool(ShellCommand(("apt-get", "install", "-y", "curl"))) == {"curl"}


def test_package_name_strips_versions() -> None:
    assert package_name("curl=7.88.1-10") == "curl"
    assert package_name("curl:amd64") == "curl"
    assert package_name("netcat-openbsd") == "netcat-openbsd"


# --- which user a base image runs as -----------------------------------------------------


@pytest.mark.parametrize(
    ("image", "kind"),
    [
        ("nginxinc/nginx-unprivileged:1.27-alpine", "nonroot"),
        ("gcr.io/distroless/python3-debian12:nonroot", "nonroot"),
        ("gcr.io/distroless/static-debian12:debug-nonroot", "nonroot"),
        ("gcr.io/distroless/static-debian12", "root"),
        ("cgr.dev/chainguard/python:latest", "nonroot"),
        ("cgr.dev/chainguard/python:latest-dev", "unknown"),
        ("bitnami/postgresql:16", "nonroot"),
        ("quay.io/jupyter/base-notebook:2024-05-27", "nonroot"),
        ("jupyter/scipy-notebook", "nonroot"),
        ("jupyter/jupyterhub-onbuild", "unknown"),  # not a docker-stacks image
        ("public.ecr.aws/lambda/python:3.12", "nonroot"),
        ("postgres:16-alpine", "drops"),
        ("docker.io/library/mongo:7", "drops"),
        ("redis", "drops"),
        ("mariadb:11", "drops"),
        ("rabbitmq:3-management", "drops"),
        ("nginx:1.27", "workers"),
        ("php:8.3-apache", "workers"),
        ("php:8.3-cli", "root"),
        ("python:3.12-slim", "root"),
        ("scratch", "root"),
        ("mcr.microsoft.com/windows/servercore:ltsc2022", "windows"),
        ("microsoft/mssql-server-windows-express:2016-sp1", "windows"),
        ("mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2019", "windows"),
        ("acme/runtime:1.0", "unknown"),
        ("${BASE}", "unknown"),
    ],
)
def test_base_user(image: str, kind: str) -> None:
    assert base_user(image).kind == kind


@pytest.mark.parametrize(
    ("image", "bare"),
    [
        ("python:3.12-slim", True),
        ("debian:bookworm", True),
        ("gcr.io/distroless/static-debian12", True),
        ("postgres:16", False),  # starts a server
        ("nginx", False),
        ("acme/base", False),  # unknown: may well start something
    ],
)
def test_is_bare_base(image: str, bare: bool) -> None:
    assert is_bare_base(image) is bare
