"""Edge cases of the size rules (DW1xx): shipped-stage awareness, ARGs, heredocs, exemptions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.findings import Rule
from dockwise.project import load_project, project_from_text
from dockwise.rules import size


def lines(rule: Rule, text: str, target: str | None = None) -> list[int | None]:
    """Lines the rule reports on the Dockerfile text (asserting it reports only its own id)."""
    config = Config(select=(rule.id,), target=target)
    project = project_from_text(textwrap.dedent(text).lstrip("\n"), config)
    outcome = check_project(project, [rule])
    assert not outcome.problems, outcome.problems
    assert {f.rule for f in outcome.findings} <= {rule.id}
    return [f.line for f in outcome.findings]


def messages(rule: Rule, text: str) -> list[str]:
    project = project_from_text(textwrap.dedent(text).lstrip("\n"), Config(select=(rule.id,)))
    return [f.message for f in check_project(project, [rule]).findings]


# --- DW101 full base image -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "variant"),
    [
        ("python:3.11", "python:3.11-slim"),
        ("python:3", "python:3-slim"),
        ("python:3.11-bookworm", "python:3.11-slim-bookworm"),
        ("docker.io/library/python:3.12", "python:3.12-slim"),
        ("node:20", "node:20-slim"),
        ("ruby:3.3", "ruby:3.3-slim"),
        ("debian:bookworm", "debian:bookworm-slim"),
        ("eclipse-temurin:21-jdk", "eclipse-temurin:21-jre"),
        ("openjdk:17", "eclipse-temurin:17-jre"),
    ],
)
def test_dw101_full_bases_name_the_slim_variant(base: str, variant: str) -> None:
    found = messages(size.full_base_image, f'FROM {base}\nCMD ["x"]\n')
    assert len(found) == 1
    assert variant in found[0]


@pytest.mark.parametrize(
    "base",
    [
        "python:3.11-slim",
        "python:3.11-alpine",
        "python:3.11-slim-bookworm",
        "node:20-bookworm-slim",
        "debian:bookworm-slim",
        "eclipse-temurin:21-jre",
        "ubuntu:24.04",
        "myregistry.example.com/python:3.11",
        "bitnami/python:3.11",
    ],
)
def test_dw101_lean_or_unknown_bases_pass(base: str) -> None:
    assert lines(size.full_base_image, f"FROM {base}\n") == []


def test_dw101_full_builder_stage_is_fine_and_shipped_base_is_judged() -> None:
    text = """
        FROM golang:1.22 AS build
        RUN go build -o /app ./cmd/app
        FROM gcr.io/distroless/static-debian12:nonroot
        COPY --from=build /app /app
    """
    assert lines(size.full_base_image, text) == []


def test_dw101_golang_shipped_is_reported_as_toolchain() -> None:
    found = messages(size.full_base_image, "FROM golang:1.22-alpine\nRUN go build ./...\n")
    assert len(found) == 1 and "toolchain" in found[0]


def graded(rule: Rule, text: str) -> list[tuple[int | None, str]]:
    project = project_from_text(textwrap.dedent(text).lstrip("\n"), Config(select=(rule.id,)))
    return [(f.line, f.severity.label) for f in check_project(project, [rule]).findings]


@pytest.mark.parametrize(
    "text",
    [
        # a Windows builder tool image: no slim tag, no distroless for a .exe
        'FROM golang:windowsservercore\nSHELL ["powershell", "-Command"]\nCMD go build\n',
        "FROM golang:1.22-nanoserver-ltsc2022\nCMD go build\n",
        # a Windows SHELL on a tag that does not say so
        'FROM python:3.11\nSHELL ["powershell.exe", "-Command"]\nCMD python app.py\n',
        'FROM python:3.11 AS base\nSHELL ["cmd", "/S", "/C"]\nFROM base\nCMD python app.py\n',
    ],
)
def test_dw101_skips_windows_images(text: str) -> None:
    assert lines(size.full_base_image, text) == []


def test_dw101_onbuild_build_base_is_info() -> None:
    text = """
        FROM node:20
        ONBUILD COPY . /app
        ONBUILD RUN npm ci
    """
    assert graded(size.full_base_image, text) == [(1, "info")]
    assert graded(size.full_base_image, 'FROM node:20\nCMD ["node"]\n') == [(1, "warning")]


def test_dw101_resolves_arg_in_from() -> None:
    assert lines(size.full_base_image, "ARG PY=3.11\nFROM python:${PY}\n") == [2]
    assert lines(size.full_base_image, "ARG BASE=python:3.11-slim\nFROM ${BASE}\n") == []
    assert lines(size.full_base_image, "ARG BASE\nFROM ${BASE}\n") == []


def test_dw101_shipped_stage_built_from_a_full_stage() -> None:
    text = """
        FROM python:3.11 AS base
        RUN echo base
        FROM base AS app
        CMD ["python"]
    """
    assert lines(size.full_base_image, text) == [1]


def test_dw101_target_selects_the_shipped_stage() -> None:
    text = """
        FROM python:3.11 AS dev
        FROM python:3.11-slim AS prod
    """
    assert lines(size.full_base_image, text, target="prod") == []
    assert lines(size.full_base_image, text, target="dev") == [1]


# --- DW102 build tools -----------------------------------------------------------------------


def test_dw102_build_tools_listed_in_message() -> None:
    text = """
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends \\
            gcc=4:12.2.0-3 libpq-dev git curl && rm -rf /var/lib/apt/lists/*
    """
    found = messages(size.build_tools_shipped, text)
    assert len(found) == 1
    assert "gcc, libpq-dev, git" in found[0]
    assert "curl" not in found[0]


def test_dw102_builder_stage_is_fine() -> None:
    text = """
        FROM python:3.11-slim AS build
        RUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*
        FROM python:3.11-slim
        COPY --from=build /wheels /wheels
    """
    assert lines(size.build_tools_shipped, text) == []


def test_dw102_virtual_package_removed_in_same_run_passes() -> None:
    text = """
        FROM python:3.11-alpine
        RUN apk add --no-cache --virtual .build-deps gcc musl-dev \\
            && pip install --no-cache-dir psycopg2==2.9.9 \\
            && apk del .build-deps
    """
    assert lines(size.build_tools_shipped, text) == []


def test_dw102_purge_in_same_run_passes_but_later_run_does_not() -> None:
    same = """
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y gcc \\
            && pip install --no-cache-dir x==1 \\
            && apt-get purge -y --auto-remove gcc && rm -rf /var/lib/apt/lists/*
    """
    later = """
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*
        RUN apt-get purge -y --auto-remove gcc
    """
    assert lines(size.build_tools_shipped, same) == []
    assert lines(size.build_tools_shipped, later) == [2]


def test_dw102_apt_mark_auto_pattern_of_official_images_passes() -> None:
    text = """
        FROM debian:bookworm-slim
        RUN savedAptMark="$(apt-mark showmanual)"; \\
            apt-get update; apt-get install -y --no-install-recommends gcc make; \\
            make install; \\
            apt-mark auto '.*' > /dev/null; apt-mark manual $savedAptMark; \\
            apt-get purge -y --auto-remove -o APT::AutoRemove::RecommendsImportant=false; \\
            rm -rf /var/lib/apt/lists/*
    """
    assert lines(size.build_tools_shipped, text) == []


def test_dw102_heredoc_and_env_variable_packages() -> None:
    text = """
        FROM debian:bookworm-slim
        ENV BUILD_DEPS="build-essential cmake"
        RUN <<EOF
        apt-get update
        apt-get install -y --no-install-recommends $BUILD_DEPS
        EOF
    """
    found = messages(size.build_tools_shipped, text)
    assert len(found) == 1 and "build-essential, cmake" in found[0]


def test_dw102_script_variable_packages() -> None:
    kept = """
        FROM debian:bookworm-slim
        RUN buildDeps='gcc make'; \\
            apt-get update && apt-get install -y --no-install-recommends $buildDeps \\
            && rm -rf /var/lib/apt/lists/*
    """
    purged = """
        FROM debian:bookworm-slim
        RUN buildDeps='gcc make'; \\
            apt-get update && apt-get install -y --no-install-recommends $buildDeps \\
            && make -C /src install \\
            && apt-get purge -y --auto-remove $buildDeps && rm -rf /var/lib/apt/lists/*
    """
    assert lines(size.build_tools_shipped, kept) == [2]
    assert "gcc, make" in messages(size.build_tools_shipped, kept)[0]
    assert lines(size.build_tools_shipped, purged) == []


def test_dw102_script_variable_in_compound_script() -> None:
    text = """
        FROM debian:bookworm-slim
        RUN set -eux; buildDeps="gcc libpq-dev"; \\
            if [ -n "$buildDeps" ]; then apt-get update; fi; \\
            apt-get install -y --no-install-recommends ${buildDeps}; rm -rf /var/lib/apt/lists/*
    """
    assert "gcc, libpq-dev" in messages(size.build_tools_shipped, text)[0]


# --- DW103 COPY . . before install -----------------------------------------------------------


@pytest.mark.parametrize(
    "install",
    [
        "pip install --no-cache-dir -r requirements.txt",
        "python -m pip install --no-cache-dir -r requirements.txt",
        "poetry install --no-root",
        "uv sync --frozen",
        "npm ci",
        "yarn install --frozen-lockfile",
        "go mod download",
    ],
)
def test_dw103_whole_copy_before_dependency_install(install: str) -> None:
    text = f"FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN {install}\n"
    assert lines(size.copy_before_install, text) == [3]


def test_dw103_manifest_first_then_project_install_passes() -> None:
    text = """
        FROM python:3.11-slim
        COPY pyproject.toml poetry.lock ./
        RUN poetry install --no-root
        COPY . .
        RUN poetry install --only-root
    """
    assert lines(size.copy_before_install, text) == []


def test_dw103_installing_the_project_itself_is_not_a_dependency_install() -> None:
    text = "FROM python:3.11-slim\nCOPY . /src\nRUN pip install --no-cache-dir /src\n"
    assert lines(size.copy_before_install, text) == []


def test_dw103_copy_from_stage_and_npm_install_of_a_package_pass() -> None:
    text = """
        FROM node:20-slim
        COPY --from=build . .
        RUN npm install -g pm2@5.3.1
    """
    assert lines(size.copy_before_install, text) == []


# --- DW104 pip cache -------------------------------------------------------------------------


def test_dw104_python_m_pip_and_exec_form() -> None:
    assert lines(size.pip_cache, "FROM python:3.11-slim\nRUN python3 -m pip install x==1\n") == [2]
    exec_form = 'FROM python:3.11-slim\nRUN ["pip", "install", "x==1"]\n'
    assert lines(size.pip_cache, exec_form) == [2]


@pytest.mark.parametrize("value", ["1", "true", "on", "0", "false", "off"])
def test_dw104_pip_no_cache_dir_any_boolean_disables_cache(value: str) -> None:
    # pip treats 0/false like 1/true here; hadolint DL3042 reports 0/false (a false positive)
    text = f"FROM python:3.11-slim\nENV PIP_NO_CACHE_DIR={value}\nRUN pip install x==1\n"
    assert lines(size.pip_cache, text) == []


def test_dw104_invalid_pip_no_cache_dir_value_does_not_count() -> None:
    text = "FROM python:3.11-slim\nENV PIP_NO_CACHE_DIR=please\nRUN pip install x==1\n"
    assert lines(size.pip_cache, text) == [3]


def test_dw104_exemptions() -> None:
    mount = "FROM python:3.11-slim\nRUN --mount=type=cache,target=/root/.cache pip install x==1\n"
    inline = "FROM python:3.11-slim\nRUN PIP_NO_CACHE_DIR=1 pip install x==1\n"
    uv = "FROM python:3.11-slim\nRUN uv pip install --system x==1\n"
    config = (
        "FROM python:3.11-slim\nRUN pip config set global.no-cache-dir false\n"
        "RUN pip install x==1\n"
    )
    for text in (mount, inline, uv, config):
        assert lines(size.pip_cache, text) == [], text


def test_dw104_other_cache_mount_does_not_exempt() -> None:
    text = "FROM python:3.11-slim\nRUN --mount=type=cache,target=/var/cache/apt pip install x==1\n"
    assert lines(size.pip_cache, text) == [2]


def test_dw104_builder_stage_is_skipped() -> None:
    text = """
        FROM python:3.11-slim AS build
        RUN pip wheel -w /w x==1 && pip install x==1
        FROM python:3.11-slim
        COPY --from=build /w /w
    """
    assert lines(size.pip_cache, text) == []


# --- DW105-DW111 caches ----------------------------------------------------------------------


def test_dw105_apt_lists() -> None:
    keep = "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n"
    later = keep + "RUN rm -rf /var/lib/apt/lists/*\n"
    mount = (
        "FROM debian:bookworm-slim\n"
        "RUN --mount=type=cache,target=/var/lib/apt apt-get update && apt-get install -y curl\n"
    )
    builder = keep.replace("bookworm-slim", "bookworm-slim AS b") + "FROM debian:bookworm-slim\n"
    assert lines(size.apt_lists_left, keep) == [2]
    assert lines(size.apt_lists_left, later) == [2]
    assert lines(size.apt_lists_left, mount) == []
    assert lines(size.apt_lists_left, builder) == []


def test_dw106_apk() -> None:
    assert lines(size.apk_cache, "FROM alpine:3.19\nRUN apk --no-cache add curl\n") == []
    removed = "FROM alpine:3.19\nRUN apk add curl && rm -rf /var/cache/apk/*\n"
    assert lines(size.apk_cache, removed) == []
    mount = "FROM alpine:3.19\nRUN --mount=type=cache,target=/var/cache/apk apk add curl\n"
    assert lines(size.apk_cache, mount) == []
    assert lines(size.apk_cache, "FROM alpine:3.19\nRUN apk add curl\n") == [2]


def test_dw107_dw108_dw109_clean_commands() -> None:
    assert (
        lines(size.yum_cache, "FROM centos:7\nRUN yum -y install x && rm -rf /var/cache/yum\n")
        == []
    )
    assert lines(size.yum_cache, "FROM centos:7\nRUN yum -y install x\nRUN yum clean all\n") == [2]
    micro = "FROM ubi9-minimal:9.4\nRUN microdnf install -y x && microdnf clean all\n"
    assert lines(size.dnf_cache, micro) == []
    assert lines(size.dnf_cache, "FROM ubi9-minimal:9.4\nRUN microdnf install -y x\n") == [2]
    assert lines(size.zypper_cache, "FROM leap:15\nRUN zypper -n in x && zypper cc -a\n") == []
    assert lines(size.zypper_cache, "FROM leap:15\nRUN zypper --non-interactive in x\n") == [2]


def test_dw110_yarn() -> None:
    assert lines(size.yarn_cache, "FROM node:20-slim\nRUN yarn\n") == [2]
    assert lines(size.yarn_cache, "FROM node:20-slim\nRUN yarn add left-pad@1.3.0\n") == []
    mount = "FROM node:20-slim\nRUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn\n"
    assert lines(size.yarn_cache, mount) == []


def test_dw111_recommends_settings() -> None:
    option = (
        "FROM debian:bookworm-slim\nRUN apt-get install -y -o APT::Install-Recommends=false x\n"
    )
    assert lines(size.apt_recommends, option) == []
    conf = (
        "FROM debian:bookworm-slim\n"
        "RUN echo 'APT::Install-Recommends \"false\";' > /etc/apt/apt.conf.d/99norecommends\n"
        "RUN apt-get install -y x\n"
    )
    assert lines(size.apt_recommends, conf) == []
    copied = (
        "FROM debian:bookworm-slim\nCOPY 99apt /etc/apt/apt.conf.d/99apt\n"
        "RUN apt-get install -y x\n"
    )
    assert lines(size.apt_recommends, copied) == []
    assert lines(size.apt_recommends, "FROM debian:bookworm-slim\nRUN apt-get install -y x\n") == [
        2
    ]


# --- DW112 update alone ----------------------------------------------------------------------


def test_dw112_update_alone() -> None:
    assert lines(size.lonely_update, "FROM alpine:3.19\nRUN apk update\nRUN apk add x\n") == [2]
    assert lines(size.lonely_update, "FROM fedora:40\nRUN dnf makecache\n") == [2]
    together = "FROM debian:bookworm-slim\nRUN apt-get update && apt-get upgrade -y\n"
    assert lines(size.lonely_update, together) == []
    heredoc = "FROM debian:bookworm-slim\nRUN <<EOF\napt-get update\napt-get install -y x\nEOF\n"
    assert lines(size.lonely_update, heredoc) == []


# --- DW113 mergeable RUNs --------------------------------------------------------------------


def test_dw113_only_simple_runs_with_same_flags() -> None:
    text = """
        FROM debian:bookworm-slim
        RUN echo a
        RUN echo b && echo c
        RUN echo d
        RUN --mount=type=cache,target=/x echo e
        RUN echo f
        RUN <<EOF
        echo g
        EOF
        RUN echo h
        RUN echo i
    """
    assert lines(size.mergeable_runs, text) == [11]


def test_dw113_builder_stage_is_skipped() -> None:
    text = "FROM alpine:3.19 AS b\nRUN echo a\nRUN echo b\nFROM alpine:3.19\n"
    assert lines(size.mergeable_runs, text) == []


# --- DW114-DW117 -----------------------------------------------------------------------------


def test_dw114_whole_filesystem_from_named_context_or_stage() -> None:
    text = "FROM alpine:3.19 AS a\nFROM scratch\nCOPY --from=a / /\n"
    assert lines(size.whole_filesystem_copy, text) == [3]
    part = "FROM alpine:3.19 AS a\nFROM scratch\nCOPY --from=a /etc/ssl /etc/ssl\n"
    assert lines(size.whole_filesystem_copy, part) == []


def test_dw115_archive_copied_into_a_directory_and_extracted() -> None:
    text = """
        FROM debian:bookworm-slim
        WORKDIR /opt
        COPY dist/app.tar.gz ./
        RUN tar xzf app.tar.gz
    """
    assert lines(size.archive_extracted, text) == [3]
    unrelated = "FROM debian:bookworm-slim\nCOPY a.tar.gz /tmp/\nRUN tar xzf /tmp/b.tar.gz\n"
    assert lines(size.archive_extracted, unrelated) == []


def test_dw116_deleted_later_is_reported_at_the_copy() -> None:
    text = """
        FROM debian:bookworm-slim
        WORKDIR /build
        COPY . .
        COPY pkg.deb /tmp/
        RUN dpkg -i /tmp/pkg.deb && rm /tmp/pkg.deb
        RUN make install && rm -rf /build
    """
    assert lines(size.deleted_in_later_layer, text) == [3, 4]


def test_dw116_small_files_and_bind_mounts_pass() -> None:
    text = """
        FROM python:3.11-slim
        COPY requirements.txt /tmp/
        RUN pip install --no-cache-dir -r /tmp/requirements.txt && rm /tmp/requirements.txt
        RUN --mount=type=bind,source=x.tar.gz,target=/tmp/x.tar.gz tar xzf /tmp/x.tar.gz
    """
    assert lines(size.deleted_in_later_layer, text) == []


def test_dw116_grades_by_the_size_of_what_the_copy_hid(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12\nCOPY src/ /tmp/src\nCOPY big.tar.gz /tmp/\n"
        "RUN pip install /tmp/src && tar -xzf /tmp/big.tar.gz -C /opt\n"
        "RUN rm -r /tmp/src /tmp/big.tar.gz\n"
    )
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print('hi')\n")
    with (tmp_path / "big.tar.gz").open("wb") as big:
        big.truncate(12 * 1024 * 1024)  # sparse: 12 MB as Docker sends it
    config = Config(select=("DW116",))
    outcome = check_project(load_project(tmp_path, config), [size.deleted_in_later_layer])
    graded = [(f.line, f.severity.label) for f in outcome.findings]
    assert graded == [(2, "info"), (3, "warning")]  # the source tree is tiny; the archive is not
    assert "(12.0 MB)" in outcome.findings[1].message


def test_dw103_requirements_that_install_the_copied_project_come_after_the_copy(
    tmp_path: Path,
) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12-slim\nCOPY . /code\nWORKDIR /code/tests/app/idp\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
    )
    idp = tmp_path / "tests" / "app" / "idp"
    idp.mkdir(parents=True)
    requirements = idp / "requirements.txt"
    config = Config(select=("DW103",))

    def reported() -> list[int | None]:
        project = load_project(tmp_path, config)
        return [f.line for f in check_project(project, [size.copy_before_install]).findings]

    requirements.write_text("Django>=4.2,<=5.2  # web\ngunicorn\n-e ../../../\n")
    assert reported() == []  # the last line installs the copied tree itself
    requirements.write_text("Django>=4.2,<=5.2\ngunicorn\n")
    assert reported() == [2]


def test_dw117_uid_threshold_and_arg() -> None:
    assert lines(size.useradd_lastlog, "FROM debian:bookworm-slim\nRUN useradd -u 65536 a\n") == [2]
    assert lines(size.useradd_lastlog, "FROM debian:bookworm-slim\nRUN useradd -u 65535 a\n") == []
    text = "FROM debian:bookworm-slim\nARG UID=1000000\nRUN useradd --uid=${UID} app\n"
    assert lines(size.useradd_lastlog, text) == [3]
    no_log = "FROM debian:bookworm-slim\nRUN useradd --no-log-init -u 1000000 a\n"
    assert lines(size.useradd_lastlog, no_log) == []


# --- command lines read as the tools read them (issue 11, class 6) ---------------------------


def severities(rule: Rule, text: str) -> list[str]:
    project = project_from_text(textwrap.dedent(text).lstrip("\n"), Config(select=(rule.id,)))
    return [f.severity.label for f in check_project(project, [rule]).findings]


@pytest.mark.parametrize("option", ["--no-cache-dir", "--no-cache", "--no-ca", "--no-cache-d"])
def test_dw104_pip_accepts_unambiguous_prefixes(option: str) -> None:
    text = f"FROM python:3.12-slim\nRUN pip install {option} flask==3.0.3\n"
    assert lines(size.pip_cache, text) == []


def test_dw104_an_ambiguous_prefix_is_no_cache_option() -> None:
    # `--no-c` could be --no-cache-dir, --no-clean, --no-compile, --no-color: pip refuses it
    text = "FROM python:3.12-slim\nRUN pip install --no-c flask==3.0.3\n"
    assert lines(size.pip_cache, text) == [2]


@pytest.mark.parametrize("value", ["false", "0", "no", "off"])
def test_dw104_pip_no_cache_dir_false_still_disables_the_cache(value: str) -> None:
    # pip turns the cache off for any valid boolean here (hadolint DL3042 differs)
    text = f"FROM python:3.12-slim\nENV PIP_NO_CACHE_DIR={value}\nRUN pip install flask==3.0.3\n"
    assert lines(size.pip_cache, text) == []


def test_dw105_cleanup_before_the_update_does_not_count() -> None:
    before = """
        FROM debian:bookworm-slim
        RUN rm -rf /var/lib/apt/lists/* && apt-get update && apt-get install -y curl
    """
    after = """
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y curl && rm --recursive --force /var/lib/apt/lists/*
    """
    assert lines(size.apt_lists_left, before) == [2]
    assert lines(size.apt_lists_left, after) == []


def test_dw106_cache_removed_before_the_add_does_not_count() -> None:
    text = "FROM alpine:3.20\nRUN rm -rf /var/cache/apk/* && apk add curl=8.9.1-r0\n"
    assert lines(size.apk_cache, text) == [2]


@pytest.mark.parametrize(
    "run",
    [
        "dnf in -y httpd-2.4.59",
        "dnf up -y",
        "dnf rei -y httpd-2.4.59",
        "dnf up-min -y",
        "dnf upgrade-minimal -y",
        "sudo dnf install -y httpd-2.4.59",
        "dnf clean all && dnf install -y httpd-2.4.59",
    ],
)
def test_dw108_dnf_abbreviations_and_order(run: str) -> None:
    assert lines(size.dnf_cache, f"FROM fedora:40\nRUN {run}\n") == [2]
    assert lines(size.dnf_cache, f"FROM fedora:40\nRUN {run} && dnf clean all\n") == []


def test_dw107_yum_clean_before_install_does_not_count() -> None:
    text = "FROM centos:7\nRUN yum clean all && yum install -y httpd-2.4.6\n"
    assert lines(size.yum_cache, text) == [2]


def test_dw102_purge_before_the_install_does_not_count() -> None:
    text = """
        FROM python:3.12-slim
        RUN apt-get purge -y gcc && apt-get update && apt-get install -y gcc \\
            && rm -rf /var/lib/apt/lists/*
    """
    assert lines(size.build_tools_shipped, text) == [2]


def test_dw102_purged_through_a_variable() -> None:
    from_arg = """
        FROM python:3.12-slim
        ARG BUILD_PACKAGES="gcc libpq-dev"
        RUN apt-get update && apt-get install -y $BUILD_PACKAGES \\
            && pip install --no-cache-dir psycopg2==2.9.9 \\
            && apt-get purge -y ${BUILD_PACKAGES} && rm -rf /var/lib/apt/lists/*
    """
    same_run = """
        FROM python:3.12-slim
        RUN deps='gcc make' && apt-get update && apt-get install -y $deps \\
            && make && apt-get purge -y --auto-remove $deps && rm -rf /var/lib/apt/lists/*
    """
    assert lines(size.build_tools_shipped, from_arg) == []
    assert lines(size.build_tools_shipped, same_run) == []


def test_dw102_apt_mark_auto_through_xargs() -> None:
    # the official images' pattern: mark everything auto, keep the saved list, purge the rest
    text = """
        FROM debian:bookworm-slim
        RUN savedAptMark="$(apt-mark showmanual)"; \\
            apt-get update; apt-get install -y --no-install-recommends gcc dpkg-dev; \\
            make; \\
            apt-mark showmanual | xargs apt-mark auto > /dev/null; \\
            apt-mark manual $savedAptMark; \\
            apt-get purge -y --auto-remove; rm -rf /var/lib/apt/lists/*
    """
    assert lines(size.build_tools_shipped, text) == []


def test_dw102_git_or_headers_alone_are_advice() -> None:
    minor = """
        FROM python:3.12-slim
        RUN apt-get update && apt-get install -y --no-install-recommends git libpq-dev \\
            && rm -rf /var/lib/apt/lists/*
    """
    compiler = """
        FROM python:3.12-slim
        RUN apt-get update && apt-get install -y --no-install-recommends git gcc \\
            && rm -rf /var/lib/apt/lists/*
    """
    assert severities(size.build_tools_shipped, minor) == ["info"]
    assert severities(size.build_tools_shipped, compiler) == ["warning"]


@pytest.mark.parametrize(
    "install",
    [
        "pip install --no-cache-dir flask==3.0.3 gunicorn==22.0.0",
        "pip install --no-cache-dir -r requirements.txt",
        "uv pip install --system -r requirements.txt",
        "uv pip install --system --index-strategy unsafe-best-match flask==3.0.3",
    ],
)
def test_dw103_named_packages_after_copy_everything(install: str) -> None:
    text = f"FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN {install}\n"
    assert lines(size.copy_before_install, text) == [3]


def test_dw103_installing_the_project_itself_passes() -> None:
    text = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir .\n"
    assert lines(size.copy_before_install, text) == []


# --- DW118 Poetry, DW119 wheels, DW123 database server -----------------------------------------


def test_dw118_poetry_cache_kept_unless_dropped() -> None:
    kept = """
        FROM python:3.12-slim
        COPY pyproject.toml poetry.lock ./
        RUN pip install --no-cache-dir poetry==1.8.3
        RUN poetry install --only main
    """
    assert lines(size.poetry_shipped, kept) == [4]
    assert "and Poetry itself" in messages(size.poetry_shipped, kept)[0]
    for run in (
        "poetry install --only main --no-cache",
        "poetry install --only main && rm -rf /root/.cache/pypoetry",
        "poetry install --only main && rm -rf $POETRY_CACHE_DIR",
        "--mount=type=cache,target=/root/.cache/pypoetry poetry install --only main",
    ):
        text = f"FROM python:3.12-slim\nENV POETRY_CACHE_DIR=/tmp/pc\nRUN {run}\n"
        assert lines(size.poetry_shipped, text) == [], run


def test_dw118_poetry_cleaned_before_install_does_not_count() -> None:
    text = "FROM python:3.12-slim\nRUN rm -rf /root/.cache/pypoetry && poetry install\n"
    assert lines(size.poetry_shipped, text) == [2]


def test_dw118_poetry_tool_alone_is_info_and_builder_stage_passes() -> None:
    tool = """
        FROM python:3.12-slim
        RUN curl -sSL https://install.python-poetry.org | python3 -
        RUN poetry export -f requirements.txt -o requirements.txt
    """
    assert severities(size.poetry_shipped, tool) == ["info"]
    builder = """
        FROM python:3.12-slim AS build
        RUN pip install --no-cache-dir poetry==1.8.3 && poetry install
        FROM python:3.12-slim
        COPY --from=build /app/.venv /app/.venv
    """
    assert lines(size.poetry_shipped, builder) == []


@pytest.mark.parametrize(
    ("copy", "install"),
    [
        ("COPY --from=build /wheels /wheels", "pip install --no-cache-dir /wheels/*.whl"),
        ("COPY --from=build /wheels /wheels", "pip install --no-index --find-links=/wheels app"),
        ("COPY --from=build /wheels/ /tmp/wheels/", "pip install -f /tmp/wheels app==1.0"),
        ("COPY dist/app-1.0-py3-none-any.whl /tmp/", "pip install /tmp/app-1.0-py3-none-any.whl"),
        ("COPY --from=build /wheels /wheels", "uv pip install --system /wheels/*"),
    ],
)
def test_dw119_wheels_copied_to_be_installed(copy: str, install: str) -> None:
    text = f"FROM python:3.12-slim\n{copy}\nRUN {install} && rm -rf /wheels /tmp/wheels\n"
    assert lines(size.wheels_shipped, text) == [2]


def test_dw119_bind_mount_and_other_copies_pass() -> None:
    text = """
        FROM python:3.12-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY . .
        RUN pip install --no-cache-dir .
        RUN --mount=type=bind,from=build,source=/wheels,target=/wheels pip install /wheels/*.whl
    """
    assert lines(size.wheels_shipped, text) == []


def test_dw123_database_server_next_to_the_app() -> None:
    app = """
        FROM python:3.12-slim
        RUN apt-get update && apt-get install -y --no-install-recommends postgresql redis-server \\
            && rm -rf /var/lib/apt/lists/*
        CMD ["gunicorn", "app:app"]
    """
    found = messages(size.database_server_installed, app)
    assert len(found) == 1 and "postgresql, redis-server" in found[0]
    assert severities(size.database_server_installed, app) == ["warning"]
    script = app.replace('CMD ["gunicorn", "app:app"]', 'CMD ["/start.sh"]')
    assert severities(size.database_server_installed, script) == ["info"]


@pytest.mark.parametrize(
    "text",
    [
        "FROM python:3.12-slim\nRUN apt-get install -y libpq5 postgresql-client redis-tools\n"
        'CMD ["python", "app.py"]\n',
        "FROM alpine:3.20\nRUN apk add --no-cache postgresql-client mariadb-connector-c\n"
        'CMD ["python3", "app.py"]\n',
        'FROM alpine:3.20\nRUN apk add --no-cache redis\nCMD ["redis-server"]\n',
        "FROM debian:bookworm-slim\nRUN apt-get install -y postgresql supervisor\n"
        'CMD ["supervisord", "-n"]\n',
    ],
)
def test_dw123_clients_and_database_images_pass(text: str) -> None:
    assert lines(size.database_server_installed, text) == []


# --- demoted or exempted after reading the real corpus -----------------------------------------


def test_dw104_local_source_tree_only_is_info() -> None:
    text = """
        FROM python:3.12-slim
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY . /src
        RUN pip install /src
    """
    assert severities(size.pip_cache, text) == ["info"]


@pytest.mark.parametrize(
    "text",
    [
        # a CUDA image: the toolchain is a small share, and triton may compile at run time
        """
        FROM nvidia/cuda:12.9.1-runtime-ubuntu22.04
        RUN apt-get update && apt-get install -y --no-install-recommends gcc python3-dev
        """,
        # a plain base that installs torch: a multi-GB GPU framework image
        """
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends gcc g++
        RUN pip install --no-cache-dir torch==2.3.0
        """,
        # an interactive MPI environment: compilers are what users log in for
        """
        FROM rockylinux:8.9
        RUN yum -y install openmpi cmake gcc && yum clean all
        ENTRYPOINT ["/bin/bash", "--rcfile", "/etc/profile", "-l"]
        """,
    ],
)
def test_dw102_toolchain_on_purpose_is_info(text: str) -> None:
    assert severities(size.build_tools_shipped, text) == ["info"]


def test_dw102_a_shell_command_without_hpc_is_still_a_warning() -> None:
    text = """
        FROM rockylinux:8.9
        RUN yum -y install cmake gcc && yum clean all
        CMD ["bash"]
    """
    assert severities(size.build_tools_shipped, text) == ["warning"]


def test_dw106_add_after_a_separate_apk_update_is_left_to_dw112() -> None:
    text = """
        FROM alpine:3.19
        RUN apk update
        RUN apk add build-base
        RUN apk add -U curl
        RUN apk update && apk add git
    """
    assert lines(size.apk_cache, text) == [4, 5]
    assert lines(size.lonely_update, text) == [2]


def test_dw106_no_network_add_caches_nothing() -> None:
    text = "FROM alpine:3.20\nRUN apk add --no-network --virtual .rundeps $runDeps\n"
    assert lines(size.apk_cache, text) == []


def test_dw121_small_clean_context_is_info(tmp_path: Path) -> None:
    files = {"Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n", "app.py": "print(1)\n"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    project = load_project(tmp_path, Config(select=("DW121",)))
    found = check_project(project, [size.whole_context_without_ignore]).findings
    assert [f.severity.label for f in found] == ["info"]
    # a megabyte or two of source and tests: still small beside any base image
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "data.py").write_text("x = 1\n" * 300_000)
    project = load_project(tmp_path, Config(select=("DW121",)))
    found = check_project(project, [size.whole_context_without_ignore]).findings
    assert [f.severity.label for f in found] == ["info"]
    (tmp_path / "tests" / "big.py").write_text("x = 1\n" * 1_000_000)
    project = load_project(tmp_path, Config(select=("DW121",)))
    found = check_project(project, [size.whole_context_without_ignore]).findings
    assert [f.severity.label for f in found] == ["warning"]
    (tmp_path / "tests" / "big.py").unlink()
    (tmp_path / ".env").write_text("DEBUG=1\n")
    project = load_project(tmp_path, Config(select=("DW121",)))
    found = check_project(project, [size.whole_context_without_ignore]).findings
    assert [f.severity.label for f in found] == ["warning"]


def test_size_findings_on_test_ci_and_devcontainer_images_are_info(tmp_path: Path) -> None:
    dockerfile = 'FROM python:3.12\nRUN pip install -r requirements.txt\nCMD ["gunicorn"]\n'
    for folder in ("tests/docker", ".devcontainer", "app"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "Dockerfile").write_text(dockerfile)
    project = load_project(tmp_path, Config(select=("DW101", "DW104")))
    found = check_project(project, [size.full_base_image, size.pip_cache]).findings
    graded = sorted((f.path.split("/")[0], f.rule, f.severity.label) for f in found)
    assert graded == [
        (".devcontainer", "DW101", "info"),
        (".devcontainer", "DW104", "info"),
        ("app", "DW101", "warning"),
        ("app", "DW104", "warning"),
        ("tests", "DW101", "info"),
        ("tests", "DW104", "info"),
    ]


def test_dw121_node_project_without_ignore_is_a_warning(tmp_path: Path) -> None:
    files = {
        "Dockerfile": 'FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "s.js"]\n',
        "package.json": '{"name": "s"}\n',
        "s.js": "console.log(1)\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    project = load_project(tmp_path, Config(select=("DW121",)))
    found = check_project(project, [size.whole_context_without_ignore]).findings
    assert [f.severity.label for f in found] == ["warning"]
