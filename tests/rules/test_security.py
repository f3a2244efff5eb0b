"""Edge cases of the security rules (DW8xx): shipped stage, ARG-resolved FROM, exemptions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from ruletest import folder_hits

from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.findings import Rule
from dockwise.project import load_project, project_from_text
from dockwise.rules import security


def lines(rule: Rule, text: str, **settings: object) -> list[int | None]:
    config = Config(select=(rule.id,), **settings)  # type: ignore[arg-type]
    project = project_from_text(textwrap.dedent(text).lstrip("\n"), config)
    outcome = check_project(project, [rule])
    assert not outcome.problems, outcome.problems
    assert {f.rule for f in outcome.findings} <= {rule.id}
    return [f.line for f in outcome.findings]


# --- DW801 root ------------------------------------------------------------------------------


SERVE = 'CMD ["gunicorn", "app:app"]\n'


def findings(rule: Rule, text: str, **settings: object) -> list[tuple[int | None, str, str]]:
    config = Config(select=(rule.id,), **settings)  # type: ignore[arg-type]
    project = project_from_text(textwrap.dedent(text).lstrip("\n"), config)
    outcome = check_project(project, [rule])
    return [(f.line, f.severity.label, f.message) for f in outcome.findings]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM python:3.11-slim\nUSER root\n" + SERVE, [2]),
        ("FROM python:3.11-slim\nUSER 0:0\n" + SERVE, [2]),
        ("FROM python:3.11-slim\nUSER root\nRUN x\nUSER app\n" + SERVE, []),
        ("FROM python:3.11-slim\nARG UID=0\nUSER ${UID}\n" + SERVE, [3]),
        ("FROM python:3.11-slim\nARG UID=10001\nUSER ${UID}\n" + SERVE, []),
        ("FROM python:3.11-slim\nARG UID\nUSER ${UID}\n" + SERVE, []),
        ("FROM python:3.11-slim\n" + SERVE, [1]),
        ("FROM gcr.io/distroless/python3-debian12:nonroot\n" + SERVE, []),
        ("FROM gcr.io/distroless/static-debian12:debug-nonroot\n" + SERVE, []),
        ("FROM gcr.io/distroless/static-debian12\n" + SERVE, [1]),
        ("FROM cgr.dev/chainguard/python:latest\n" + SERVE, []),
        ("FROM nginxinc/nginx-unprivileged:1.27-alpine\nCOPY site /usr/share/nginx/html\n", []),
        ("FROM bitnami/redis:7.2\n" + SERVE, []),
        ("FROM quay.io/jupyter/scipy-notebook:2024-05-27\nCOPY nb /home/jovyan\n", []),
        ('FROM public.ecr.aws/lambda/python:3.12\nCMD ["app.handler"]\n', []),
        ("FROM mcr.microsoft.com/windows/servercore:ltsc2022\n" + SERVE, []),
        # the official image's entrypoint starts the server as its own user...
        ("FROM postgres:16\nCOPY init.sql /docker-entrypoint-initdb.d/\n", []),
        ('FROM redis:7.2\nCMD ["redis-server", "--appendonly", "yes"]\n', []),
        # ...unless the Dockerfile replaces that entrypoint
        ('FROM mongo:7\nENTRYPOINT ["mongod"]\n', [1]),
        ('FROM scratch\nCOPY app /app\nENTRYPOINT ["/app"]\n', [1]),
        # not services: no command on an OS image, an artifact-only scratch stage
        ("FROM scratch\nCOPY app /app\n", []),
        ("FROM debian:bookworm-slim\nRUN apt-get update\n", []),
        ("ARG BASE\nFROM ${BASE}\n" + SERVE, [2]),
    ],
)
def test_dw801_effective_user(text: str, expected: list[int]) -> None:
    assert lines(security.runs_as_root, text) == expected


def test_dw801_unknown_base_is_info_and_says_why() -> None:
    (found,) = findings(security.runs_as_root, "FROM acme/runtime:1.4\n" + SERVE)
    assert found[:2] == (1, "info")
    assert "acme/runtime:1.4" in found[2] and "does not know" in found[2]
    (dev,) = findings(security.runs_as_root, "FROM cgr.dev/chainguard/python:latest-dev\n" + SERVE)
    assert dev[1] == "info"


def test_dw801_known_root_base_is_a_warning() -> None:
    assert findings(security.runs_as_root, "FROM node:20-slim\n" + SERVE)[0][1] == "warning"


def test_dw801_server_with_unprivileged_workers_is_info() -> None:
    text = 'FROM nginx:1.27\nCOPY site /usr/share/nginx/html\nCMD ["nginx", "-g", "daemon off;"]\n'
    ((line, severity, message),) = findings(security.runs_as_root, text)
    assert (line, severity) == (1, "info") and "workers" in message


def test_dw801_own_entrypoint_that_drops_privileges(tmp_path: Path) -> None:
    text = """
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y --no-install-recommends gosu
        COPY docker-entrypoint.sh /usr/local/bin/
        ENTRYPOINT ["docker-entrypoint.sh"]
        CMD ["postgres"]
    """
    assert lines(security.runs_as_root, text) == []
    script = '#!/bin/sh\nexec setpriv --reuid=redis --regid=redis --clear-groups -- "$@"\n'
    found = folder_hits(
        "DW801",
        {
            "Dockerfile": "FROM debian:bookworm-slim\nCOPY entrypoint.sh /entrypoint.sh\n"
            'ENTRYPOINT ["/entrypoint.sh"]\nCMD ["redis-server"]\n',
            "entrypoint.sh": script,
        },
        tmp_path,
    )
    assert found == []


def test_dw801_parent_built_by_the_project(tmp_path: Path) -> None:
    """jupyter-style chains: the parent is another Dockerfile of the repository."""
    files = {
        "images/base-notebook/Dockerfile": """
            FROM ubuntu:24.04
            RUN useradd --uid 1000 jovyan
            USER 1000
            CMD ["start-notebook.sh"]
        """,
        "images/scipy-notebook/Dockerfile": """
            FROM quay.io/acme/base-notebook:latest
            RUN pip install scipy
        """,
        "images/root-app/Dockerfile": """
            FROM acme/root-base
            CMD ["serve"]
        """,
        "images/root-base/Dockerfile": """
            FROM ubuntu:24.04
            USER root
            CMD ["serve"]
        """,
    }
    found = folder_hits("DW801", files, tmp_path)
    assert found == [("images/root-app/Dockerfile", 2), ("images/root-base/Dockerfile", 3)]


def test_dw801_parent_named_by_compose_image_and_build(tmp_path: Path) -> None:
    files = {
        "compose.yaml": """
            services:
              base:
                image: registry.example.com/shop/runtime:1
                build: ./runtime
              web:
                build: ./web
        """,
        "runtime/Dockerfile": "FROM python:3.12-slim\nRUN useradd -u 10001 app\nUSER 10001\n",
        "web/Dockerfile": "FROM registry.example.com/shop/runtime:1\n" + SERVE,
    }
    assert folder_hits("DW801", files, tmp_path) == []


def test_dw801_parent_named_by_docker_build_in_a_makefile(tmp_path: Path) -> None:
    files = {
        "Makefile": "base:\n\tdocker build -t acme/pybase:latest -f docker/base.Dockerfile .\n",
        "docker/base.Dockerfile": "FROM python:3.12-slim\nUSER 10001\n",
        "Dockerfile": "FROM acme/pybase:latest\n" + SERVE,
    }
    assert folder_hits("DW801", files, tmp_path) == []


def test_dw801_skips_test_ci_and_devcontainer_images(tmp_path: Path) -> None:
    files = {
        name: "FROM python:3.12-slim\n" + SERVE
        for name in (
            ".devcontainer/Dockerfile",
            "tests/docker/Dockerfile",
            "ci/Dockerfile",
            "Dockerfile.test",
            "Dockerfile.dev",
            "app/Dockerfile",
        )
    }
    assert folder_hits("DW801", files, tmp_path) == [("app/Dockerfile", 1)]


def test_dw801_builder_root_is_fine_and_user_is_inherited_from_parent_stage() -> None:
    text = """
        FROM python:3.11-slim AS base
        RUN useradd --uid 10001 app
        USER 10001
        FROM python:3.11-slim AS build
        USER root
        FROM base
        CMD ["python"]
    """
    assert lines(security.runs_as_root, text) == []


# --- DW802 sudo ------------------------------------------------------------------------------


def test_dw802_sudo_anywhere_and_installed_in_shipped_stage() -> None:
    text = """
        FROM debian:bookworm-slim AS build
        RUN sudo make
        RUN apt-get install -y sudo
        FROM debian:bookworm-slim
        RUN apt-get install -y --no-install-recommends sudo=1.9.13p3-1
        RUN ["sudo", "ls"]
    """
    assert lines(security.sudo_used, text) == [2, 5, 6]
    severities = [
        (f.line, f.severity.label)
        for f in check_project(
            project_from_text(textwrap.dedent(text).lstrip("\n"), Config()), [security.sudo_used]
        ).findings
    ]
    # debian runs RUN as root: sudo there is redundant (info); installed with no user to
    # elevate, it is dead weight (info)
    assert severities == [(2, "info"), (5, "info"), (6, "info")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # after USER of a non-root user: sudo is what the rule is about
        ("FROM debian:bookworm-slim\nUSER app\nRUN sudo make\n", "error"),
        # back to root: redundant
        ("FROM debian:bookworm-slim\nUSER app\nUSER root\nRUN sudo make\n", "info"),
        # the user set in a parent stage carries over
        ("FROM debian:bookworm-slim AS a\nUSER 1000\nFROM a\nRUN sudo make\n", "error"),
        # a base that builds as non-root (jupyter runs as jovyan)
        ("FROM quay.io/jupyter/base-notebook:2024-05-27\nRUN sudo apt-get update\n", "error"),
        # a base dockwise does not know, and a USER from a variable: not known
        ("FROM example.com/team/base:1.2\nRUN sudo make\n", "warning"),
        ("FROM debian:bookworm-slim\nARG U\nUSER $U\nRUN sudo make\n", "warning"),
        # root images of the official library, and their `drops` entrypoints, build as root
        ("FROM postgres:16\nRUN sudo ls\n", "info"),
    ],
)
def test_dw802_sudo_severity_follows_the_user_of_the_run(text: str, expected: str) -> None:
    assert [severity for _line, severity, _m in findings(security.sudo_used, text)] == [expected]


def test_dw802_sudo_installed_for_a_non_root_user_is_a_warning() -> None:
    text = """
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y --no-install-recommends sudo=1.9.13p3-1
        USER app
    """
    assert [(line, sev) for line, sev, _m in findings(security.sudo_used, text)] == [(2, "warning")]


# --- DW803 / DW811 chmod ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "flagged"),
    [
        ("chmod 777 /app", True),
        ("chmod -R 0777 /app", True),
        ("chmod a+rwx /app", True),
        ("chmod o+w /app", True),
        ("chmod u+rwx,o+w /app", True),
        ("chmod 1777 /tmp/shared", False),
        ("chmod -R 1777 /app", True),
        ("chmod 755 /app", False),
        ("chmod +x /app/run.sh", False),
        ("chmod g+w /app", False),
        ("chmod o-w /app", False),
    ],
)
def test_dw803_modes(command: str, flagged: bool) -> None:
    text = f"FROM debian:bookworm-slim\nRUN {command}\n"
    assert lines(security.world_writable, text) == ([2] if flagged else [])


def test_dw803_copy_chmod_and_unused_builder() -> None:
    copy = "FROM debian:bookworm-slim\nCOPY --chmod=777 run.sh /run.sh\n"
    assert lines(security.world_writable, copy) == [2]
    unused = "FROM debian:bookworm-slim AS tests\nRUN chmod 777 /x\nFROM debian:bookworm-slim\n"
    assert lines(security.world_writable, unused) == []
    feeding = (
        "FROM debian:bookworm-slim AS b\nRUN chmod 777 /x\n"
        "FROM debian:bookworm-slim\nCOPY --from=b /x /x\n"
    )
    assert lines(security.world_writable, feeding) == [2]


@pytest.mark.parametrize(
    ("script", "flagged"),
    [
        # the docker-library idiom: a mktemp dir opened to _apt, removed by the same RUN
        (
            'tempDir="$(mktemp -d)" && chmod 777 "$tempDir" && ls "$tempDir" && rm -rf "$tempDir"',
            False,
        ),
        ('d=$(mktemp -d) && chmod 777 "${d}" && rm -fr "$d"', False),
        ("chmod -R 777 /tmp/build/out && rm -r /tmp/build", False),
        ("chmod 777 /tmp/a /tmp/b && rm -rf /tmp/a", True),  # /tmp/b ships
        ("chmod 777 /data && rm -rf /data/*", True),  # the folder itself stays
        ('rm -rf "$d" && chmod 777 "$d"', True),  # removed before, not after
        ("chmod 777 /data && rm /data/lock", True),  # not a recursive removal of it
    ],
)
def test_dw803_judges_what_remains_after_the_run(script: str, flagged: bool) -> None:
    text = f"FROM debian:bookworm-slim\nRUN {script}\n"
    assert lines(security.world_writable, text) == ([2] if flagged else [])


def test_dw811_setuid_setgid() -> None:
    assert lines(security.setuid_bits, "FROM alpine:3.19\nRUN chmod u+s /bin/x\n") == [2]
    assert lines(security.setuid_bits, "FROM alpine:3.19\nRUN chmod 2755 /srv\n") == [2]
    assert lines(security.setuid_bits, "FROM alpine:3.19\nRUN chmod 0755 /bin/x\n") == []


# --- DW804 TLS -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "RUN curl --insecure -o x https://e.com/x",
        "RUN wget --no-check-certificate https://e.com/x",
        "RUN pip install --trusted-host pypi.internal x==1",
        "RUN python -m pip install --trusted-host=pypi.internal x==1",
        "ENV PIP_TRUSTED_HOST=pypi.internal",
        "ENV PYTHONHTTPSVERIFY=0",
        "ARG NODE_TLS_REJECT_UNAUTHORIZED=0",
        "ENV npm_config_strict_ssl=false",
        "RUN npm config set strict-ssl false",
        "RUN yarn config set strict-ssl false",
        "ENV GIT_SSL_NO_VERIFY=true",
        "RUN git -c http.sslVerify=false clone https://e.com/r.git",
        "RUN git config --global http.sslverify false",
        "RUN apk add --allow-untrusted x.apk",
        "RUN apt-get install -y --allow-unauthenticated x",
        "RUN apt-get install -y --force-yes x",
        "RUN dnf install -y --nogpgcheck x",
        "RUN yum install -y --setopt=sslverify=false x",
        "RUN rpm -i --nosignature x.rpm",
        "RUN echo 'sslverify=0' >> /etc/yum.repos.d/x.repo",
        "RUN echo 'deb [trusted=yes] http://e.com/ stable main' > /etc/apt/sources.list",
        "RUN NODE_TLS_REJECT_UNAUTHORIZED=0 npm ci",
        "RUN export PYTHONHTTPSVERIFY=0 && python x.py",
    ],
)
def test_dw804_verification_off(line: str) -> None:
    assert lines(security.verification_off, f"FROM debian:bookworm-slim AS b\n{line}\n") == [2]


@pytest.mark.parametrize(
    "line",
    [
        "RUN curl -fsSL -o x https://e.com/x",
        "ENV PYTHONHTTPSVERIFY=1",
        "ENV NODE_TLS_REJECT_UNAUTHORIZED=1",
        "ARG GIT_SSL_NO_VERIFY",
        "RUN npm config set strict-ssl true",
        "RUN git config --global http.sslverify true",
        "ENV PIP_TRUSTED_HOST=",
    ],
)
def test_dw804_verification_on(line: str) -> None:
    assert lines(security.verification_off, f"FROM debian:bookworm-slim\n{line}\n") == []


def _graded(rule: Rule, text: str) -> list[tuple[int | None, str, str]]:
    """(line, severity, message) of one rule's findings on a Dockerfile text."""
    project = project_from_text(textwrap.dedent(text), Config(select=(rule.id,)))
    return [(f.line, f.severity.label, f.message) for f in check_project(project, [rule]).findings]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # the old tutorial's flag: pip downloads from pypi.org, never from this name
        ("RUN pip install --trusted-host pypi.python.org -r requirements.txt", "info"),
        ("RUN pip install --trusted-host=pypi.io flask==3.0.0", "info"),
        # an index option that names the old host: the flag is live
        (
            "RUN pip install -i http://pypi.python.org/simple --trusted-host pypi.python.org x==1",
            "error",
        ),
        # any other host may be a base image's pip.conf index: still an error
        ("RUN pip install --trusted-host pypi.org x==1", "error"),
        (
            "RUN pip install --trusted-host pypi.python.org --trusted-host mirror.local x==1",
            "error",
        ),
    ],
)
def test_dw804_dead_trusted_host_is_info(line: str, expected: str) -> None:
    text = f"FROM python:3.12-slim\n{line}\n"
    assert [sev for _l, sev, _m in findings(security.verification_off, text)] == [expected]


def test_dw804_trusted_old_pypi_name_with_an_index_from_env_is_an_error() -> None:
    text = (
        "FROM python:3.12-slim\nENV PIP_INDEX_URL=http://pypi.python.org/simple\n"
        "RUN pip install --trusted-host pypi.python.org x==1\n"
    )
    assert [sev for _l, sev, _m in findings(security.verification_off, text)] == ["error"]


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (
            "RUN sed -i 's/CipherString = DEFAULT@SECLEVEL=2/CipherString = DEFAULT@SECLEVEL=1/' "
            "/etc/ssl/openssl.cnf",
            "SECLEVEL=1",
        ),
        ("RUN echo 'CipherString = DEFAULT:@SECLEVEL=0' >> /etc/ssl/openssl.cnf", "SECLEVEL=0"),
        (
            "RUN sed -i 's/MinProtocol = TLSv1.2/MinProtocol = TLSv1.0/' /etc/ssl/openssl.cnf",
            "TLSv1.0",
        ),
        ("ENV NODE_OPTIONS=--tls-min-v1.0", "--tls-min-v1.0"),
    ],
)
def test_dw804_tls_downgrade_is_a_warning(line: str, shown: str) -> None:
    found = _graded(security.verification_off, f"FROM debian:bookworm-slim\n{line}\n")
    assert [(number, severity) for number, severity, _ in found] == [(2, "warning")]
    assert shown in found[0][2]


@pytest.mark.parametrize(
    "line",
    [
        "RUN sed -i 's/SECLEVEL=1/SECLEVEL=2/' /etc/ssl/openssl.cnf",
        "RUN sed -i 's/MinProtocol = TLSv1.0/MinProtocol = TLSv1.2/' /etc/ssl/openssl.cnf",
        "RUN echo 'MinProtocol = TLSv1.2' >> /etc/ssl/openssl.cnf",
        "ENV NODE_OPTIONS=--tls-min-v1.2",
    ],
)
def test_dw804_tls_raised_or_kept_passes(line: str) -> None:
    assert lines(security.verification_off, f"FROM debian:bookworm-slim\n{line}\n") == []


# --- DW805 / DW806 / DW807 / DW812 FROM ------------------------------------------------------


def test_dw805_tags_stages_scratch_args() -> None:
    text = """
        ARG BASE=python:3.11-slim
        ARG UNKNOWN
        FROM ${BASE} AS a
        FROM ${UNKNOWN} AS b
        FROM a AS c
        FROM scratch AS d
        FROM python@sha256:0b23cfb7425d065008b778022a17b1551c82f8b4866ee5a7a200084b7e2eafbf
        FROM localhost:5000/app
        FROM ${REGISTRY:-docker.io}/library/python
    """
    assert lines(security.untagged_base, text) == [4, 8, 9]


def test_dw805_base_from_an_arg_without_default_is_unknown_info() -> None:
    found = _graded(security.untagged_base, 'ARG FROM\nFROM ${FROM}\nCMD ["app"]\n')
    assert [(number, severity) for number, severity, _ in found] == [(2, "info")]
    assert "FROM has no value by default" in found[0][2] and "unknown" in found[0][2]
    assert lines(security.untagged_base, "ARG FROM=python:3.12-slim\nFROM ${FROM}\n") == []


@pytest.mark.parametrize(
    ("base", "floating"),
    [
        ("python:slim", True),
        ("python:slim-bookworm", True),
        ("node:lts-alpine", True),
        ("nginx:stable", True),
        ("debian:stable-slim", True),
        ("alpine:edge", True),
        ("docker.io/library/redis:alpine", True),
        ("python:3.12-slim", False),
        ("python:3-slim", False),
        ("debian:bookworm-slim", False),
        ("ubuntu:noble", False),
        ("gcr.io/distroless/static-debian12:nonroot", False),
        ("bitnami/redis:latest-alpine", False),
    ],
)
def test_dw806_floating_tags(base: str, floating: bool) -> None:
    assert lines(security.latest_base, f"FROM {base}\n") == ([1] if floating else [])


def test_dw806_latest_with_digest_passes_and_arg_resolved_latest_fails() -> None:
    pinned = (
        "FROM python:latest@sha256:"
        "0b23cfb7425d065008b778022a17b1551c82f8b4866ee5a7a200084b7e2eafbf\n"
    )
    assert lines(security.latest_base, pinned) == []
    assert lines(security.latest_base, "ARG TAG=latest\nFROM node:${TAG}\n") == [2]


def test_dw806_floating_default_of_a_whole_image_arg_is_info() -> None:
    text = (
        "ARG NGINX_FROM_IMAGE=nginx:mainline\nARG TAG=latest\n"
        "FROM ${NGINX_FROM_IMAGE} AS builder\nRUN true\nFROM ${NGINX_FROM_IMAGE}\n"
        "FROM node:${TAG}\n"
    )
    found = findings(security.latest_base, text)
    assert [(line, severity) for line, severity, _ in found] == [
        (3, "info"),
        (5, "info"),
        (6, "warning"),  # only the tag from an ARG: still a warning
    ]
    assert "--build-arg NGINX_FROM_IMAGE=" in found[0][2]


def test_dw807_trusted_registries() -> None:
    text = """
        FROM python:3.11-slim AS a
        FROM docker.io/library/node:20-slim AS b
        FROM eu.gcr.io/p/app:1 AS c
        FROM quay.io/x/y:1 AS d
        FROM a
    """
    trusted = ("docker.io", "*.gcr.io")
    assert lines(security.untrusted_registry, text, trusted_registries=trusted) == [4]
    assert lines(security.untrusted_registry, text) == []


def test_dw807_docker_hub_mirror_is_its_own_registry() -> None:
    text = """
        FROM public.ecr.aws/docker/library/python:3.11-slim AS a
        FROM mirror.gcr.io/library/node:20-slim
    """
    assert lines(security.untrusted_registry, text, trusted_registries=("docker.io",)) == [1, 2]
    trusted = ("public.ecr.aws", "mirror.gcr.io")
    assert lines(security.untrusted_registry, text, trusted_registries=trusted) == []


def test_dw812_digest_opt_in() -> None:
    text = "FROM python:3.11-slim\nFROM python:3.11-slim@sha256:" + "a" * 64 + "\n"
    assert lines(security.undigested_base, text) == [1]
    project = project_from_text(text, Config())
    assert check_project(project, [security.undigested_base]).findings == ()


# --- DW808-DW810, DW813, DW814 ---------------------------------------------------------------


def test_dw808_ssh_port_forms() -> None:
    assert lines(security.exposes_ssh, "FROM alpine:3.19\nEXPOSE 22/tcp\n") == [2]
    assert lines(security.exposes_ssh, "FROM alpine:3.19\nARG P=22\nEXPOSE ${P}\n") == [3]
    assert lines(security.exposes_ssh, "FROM alpine:3.19\nEXPOSE 2222 8022\n") == []


def test_dw809_user_name_vs_uid() -> None:
    assert lines(security.user_by_name, "FROM alpine:3.19\nUSER app:app\n") == [2]
    assert lines(security.user_by_name, "FROM alpine:3.19\nUSER 10001:10001\n") == []
    assert lines(security.user_by_name, "FROM alpine:3.19\nARG U=10001\nUSER $U\n") == []
    assert lines(security.user_by_name, "FROM alpine:3.19\nUSER root\n") == []
    builder = "FROM alpine:3.19 AS b\nUSER app\nFROM alpine:3.19\nUSER 10001\n"
    assert lines(security.user_by_name, builder) == []


def test_dw810_passwords() -> None:
    assert lines(security.password_set, "FROM alpine:3.19\nRUN passwd -d root\n") == [2]
    assert lines(security.password_set, "FROM alpine:3.19\nRUN passwd -l root\n") == []
    assert lines(security.password_set, "FROM alpine:3.19\nRUN usermod -p x app\n") == [2]


def test_dw810_message_never_contains_the_password() -> None:
    text = 'FROM alpine:3.19\nRUN echo "app:S3cretPassw0rd" | chpasswd\n'
    project = project_from_text(text, Config())
    findings = check_project(project, [security.password_set]).findings
    assert len(findings) == 1 and "S3cret" not in findings[0].message


def test_dw813_dw814_system_dirs() -> None:
    assert lines(security.system_volume, 'FROM alpine:3.19\nVOLUME ["/data", "/proc/x"]\n') == [2]
    assert lines(security.system_volume, "FROM alpine:3.19\nVOLUME /device\n") == []
    assert lines(security.system_workdir, "FROM alpine:3.19\nWORKDIR /boot\n") == [2]
    assert lines(security.system_workdir, "FROM alpine:3.19\nWORKDIR /devel\n") == []


def test_dw804_packages_the_build_made_itself_pass() -> None:
    local_repo = """
        FROM debian:bookworm-slim
        RUN echo "deb [ trusted=yes ] file://$tempDir ./" > /etc/apt/sources.list.d/temp.list
        RUN echo "deb [trusted=yes] http://repo.example.com/debian stable main" > /etc/apt/x.list
        RUN apk add --no-cache --allow-untrusted /tmp/packages/nginx-module-njs-1.27.1.apk
        RUN apk add --allow-untrusted nginx-module-njs
    """
    assert lines(security.verification_off, local_repo) == [3, 5]


def test_dw805_untagged_distroless_is_info() -> None:
    found = _graded(security.untagged_base, "FROM gcr.io/distroless/static-debian12\n")
    assert [(number, severity) for number, severity, _ in found] == [(1, "info")]


def test_dw801_entrypoint_switching_user_with_su(tmp_path: Path) -> None:
    files = {
        "Dockerfile": 'FROM debian:bookworm-slim\nCOPY run.sh /run.sh\nENTRYPOINT ["/run.sh"]\n',
        "run.sh": "#!/bin/bash\nexec su cassandra -c 'cassandra -f'\n",
    }
    assert folder_hits("DW801", files, tmp_path) == []
    files["run.sh"] = "#!/bin/bash\nexec cassandra -f\n"
    assert folder_hits("DW801", files, tmp_path) == [("Dockerfile", 1)]


def test_dw805_empty_arg_default_is_unknown_info() -> None:
    text = "ARG WINDOWS_VERSION=\nFROM mcr.microsoft.com/windows/servercore:${WINDOWS_VERSION}\n"
    found = _graded(security.untagged_base, text)
    assert [(number, severity) for number, severity, _ in found] == [(2, "info")]


def test_dw805_dw806_own_images_pass_and_test_images_are_info(tmp_path: Path) -> None:
    files = {
        "docker-compose.yml": "services:\n  base:\n    build: base\n    image: acme/base\n",
        "base/Dockerfile": 'FROM python:3.12-slim\nCMD ["python"]\n',
        "app/Dockerfile": 'FROM acme/base:latest\nCMD ["gunicorn", "app:app"]\n',
        "tests/docker/Dockerfile": 'FROM busybox\nCMD ["cat", "hello.txt"]\n',
    }
    assert folder_hits("DW806", files, tmp_path) == []
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    project = load_project(tmp_path, Config(select=("DW805",)))
    found = check_project(project, [security.untagged_base]).findings
    assert [(f.path, f.severity.label) for f in found] == [("tests/docker/Dockerfile", "info")]


def test_dw805_untagged_image_built_beside_it_is_info(tmp_path: Path) -> None:
    files = {
        "sql/Dockerfile.builder": "FROM mcr.microsoft.com/dotnet/sdk:8.0\nRUN dotnet --info\n",
        "sql/Dockerfile.v1": (
            "FROM dockersamples/assets-db-builder AS builder\nRUN build.cmd\n"
            "FROM acme/db-runtime\nCOPY --from=builder /out /out\n"
        ),
        "other/Dockerfile": "FROM dockersamples/assets-db-builder\nRUN build.cmd\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    project = load_project(tmp_path, Config(select=("DW805",)))
    found = check_project(project, [security.untagged_base]).findings
    graded = sorted((f.path, f.line, f.severity.label) for f in found)
    # beside Dockerfile.builder: the project's own builder image; elsewhere, and any other
    # untagged image, still a warning
    assert graded == [
        ("other/Dockerfile", 1, "warning"),
        ("sql/Dockerfile.v1", 1, "info"),
        ("sql/Dockerfile.v1", 3, "warning"),
    ]
