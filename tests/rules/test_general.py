"""Edge cases of the general (DW9xx) rules: hadolint's known false positives must not happen."""

from __future__ import annotations

import shutil
import textwrap

import pytest
from msgspec.structs import replace

from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.project import project_from_text
from dockwise.rules import all_rules, rule_by_id
from dockwise.tools import find_tool

GENERAL = [r for r in all_rules() if r.meta.lesson == "general"]
needs_shellcheck = pytest.mark.skipif(
    find_tool("shellcheck") is None, reason="shellcheck binary not installed"
)


def hits(text: str, rule_id: str, config: Config | None = None) -> list[int | None]:
    """Lines at which one rule reports on a Dockerfile given as (indented) text."""
    rule = rule_by_id(rule_id)
    assert rule is not None and rule.id == rule_id
    config = replace(config or Config(), select=(rule_id,))
    project = project_from_text(textwrap.dedent(text).lstrip("\n"), config)
    outcome = check_project(project, [rule])
    assert not outcome.problems, outcome.problems
    return [f.line for f in outcome.findings if f.rule == rule_id]


def messages(text: str, rule_id: str) -> list[str]:
    rule = rule_by_id(rule_id)
    assert rule is not None
    project = project_from_text(textwrap.dedent(text).lstrip("\n"), Config(select=(rule_id,)))
    return [f.message for f in check_project(project, [rule]).findings]


# --- DW901 relative WORKDIR -------------------------------------------------------------------


def test_relative_workdir_flagged_absolute_and_variables_pass() -> None:
    text = """
        FROM python:3.11-slim
        ARG HOME_DIR=/srv
        ARG REL=app
        WORKDIR app
        WORKDIR /app
        WORKDIR $HOME_DIR
        WORKDIR ${UNKNOWN_VAR}/x
        WORKDIR $REL
        WORKDIR C:\\app
        ONBUILD WORKDIR sub
    """
    assert hits(text, "DW901") == [4, 8, 10]


# --- DW902 pointless tools --------------------------------------------------------------------


def test_pointless_tools() -> None:
    text = """
        FROM debian:12-slim
        RUN apt-get install -y procps && ps aux
        RUN apt-get install -y vim-tiny
        RUN service nginx start
    """
    assert hits(text, "DW902") == [2, 4]


# --- DW903 cd -----------------------------------------------------------------------------------


def test_cd_only_reported_when_it_could_be_workdir() -> None:
    text = """
        FROM debian:12-slim
        RUN cd /app && make
        RUN cd /tmp && curl -fsSLO https://x/t.tgz && tar xzf t.tgz && cd -
        RUN make && cd build && make install
        RUN cd /src && make && cd /
        RUN cd /app
        RUN ["sh", "-c", "cd /app && make"]
        ONBUILD RUN cd /onbuild && make
    """
    assert hits(text, "DW903") == [2, 8]


# --- DW904 / DW907 apt-get --------------------------------------------------------------------


def test_apt_get_pins() -> None:
    text = """
        FROM debian:12-slim
        ARG PINNED="curl=7.88.1 git=1:2.39.2"
        RUN apt-get install -y curl git=1:2.39.2
        RUN apt-get install -y $PINNED ./local.deb nginx/bookworm-backports
        RUN apt-get install -y $(cat /tmp/packages.txt)
        RUN apt-get install -y $NOT_DECLARED
        RUN apt-get -t bookworm-backports -o Dpkg::Options::=--force-confold install -y vim=2:9.0
        RUN apt-get update
    """
    assert hits(text, "DW904") == [3]
    assert messages(text, "DW904") == ["apt-get install curl without a version pin"]


def test_apt_get_pin_from_variable_without_equals_is_unpinned() -> None:
    text = """
        FROM debian:12-slim
        ARG PKGS="curl git"
        RUN apt-get install -y $PKGS
    """
    assert messages(text, "DW904") == ["apt-get install curl, git without version pins"]


def test_apt_get_yes_forms() -> None:
    text = """
        FROM debian:12-slim
        RUN apt-get install curl=1
        RUN apt-get -y install curl=1
        RUN apt-get install -qy curl=1
        RUN apt-get install -qq curl=1
        RUN apt-get install --assume-yes curl=1
        RUN DEBIAN_FRONTEND=noninteractive apt-get install -y curl=1
        RUN yes | apt-get install curl=1
        RUN apt-get -o APT::Get::Assume-Yes=true install curl=1
        RUN apt-get update && apt-get dist-upgrade
        ONBUILD RUN apt-get install curl=1
    """
    assert hits(text, "DW907") == [2, 10, 11]


def test_apt_and_upgrade() -> None:
    text = """
        FROM debian:12-slim
        RUN apt update && apt install -y curl
        RUN apt-get -y upgrade
        RUN apt-get install -y apt-utils
    """
    assert hits(text, "DW915") == [2]
    assert hits(text, "DW939") == [3]


# --- DW905 EXPOSE ------------------------------------------------------------------------------


def test_expose_ranges_protocols_and_variables() -> None:
    text = """
        FROM python:3.11-slim
        ARG PORT=8000
        ARG BAD_PORT=70000
        EXPOSE 80 443/tcp 8000-8010/udp $PORT ${UNSET}
        EXPOSE 65536
        EXPOSE 65530-65540
        EXPOSE $BAD_PORT
        EXPOSE 8080/http
        EXPOSE 65535
    """
    assert hits(text, "DW905") == [5, 6, 7, 8]


# --- DW906 pip -----------------------------------------------------------------------------------


def test_pip_pinned_forms_pass() -> None:
    text = """
        FROM python:3.11-slim
        ARG FLASK="flask==3.0.3"
        RUN pip install --no-cache-dir "flask>=3,<4" gunicorn~=22.0 'uvicorn[standard]==0.30.1'
        RUN pip install -r requirements.txt -c constraints.txt .
        RUN pip install -e . ./wheels/app-1.0-py3-none-any.whl /src/pkg.tar.gz
        RUN pip install "git+https://github.com/org/repo.git@v1.2.3" "pkg @ https://x/pkg.whl"
        RUN pip install --require-hashes -r requirements.lock
        RUN pip install $FLASK
        RUN pip install --upgrade pip setuptools wheel
        RUN python3 -m pip install --no-cache-dir flask==3.0.3
        RUN uv pip install --system flask==3.0.3
        RUN pip install -i https://pypi.example.com/simple --target /deps flask==3.0.3
        RUN pip install -c constraints.txt flask
        RUN pip3.11 install $(cat pkgs)
        RUN pip freeze > /requirements.txt
        RUN pip install mypkg @ https://example.com/mypkg-1.0.tar.gz
    """
    assert hits(text, "DW906") == []


def test_pip_unpinned_forms_flagged() -> None:
    text = """
        FROM python:3.11-slim
        RUN pip install flask
        RUN python -m pip install --user requests
        RUN pip3 install -r requirements.txt gunicorn
        RUN uv pip install --system httpx
        RUN pip install git+https://github.com/org/repo.git
        ONBUILD RUN pip install celery
    """
    assert hits(text, "DW906") == [2, 3, 4, 5, 6, 7]
    assert messages(text, "DW906")[2] == "pip install gunicorn without a version pin"


def test_pip_direct_reference_with_extras_and_variables_is_pinned() -> None:
    text = """
        FROM python:3-alpine
        ARG VERSION=v3.2.0
        ARG DEPENDENCIES=bcrypt
        RUN pip install --no-cache-dir "Radicale[${DEPENDENCIES}] @ https://github.com/Kozea/Radicale/archive/${VERSION}.tar.gz"
        RUN pip install --no-cache-dir "radicale[bcrypt] @ https://x/radicale-3.2.0.tar.gz" radicale[ldap]
        RUN pip install --no-cache-dir "flask[async]" ${DEPENDENCIES}
    """
    assert messages(text, "DW906") == ["pip install flask[async], bcrypt without version pins"]


def test_pip_package_pinned_earlier_in_the_stage_is_pinned() -> None:
    text = """
        FROM python:3.11-slim AS base
        RUN pip install --no-cache-dir -U \\
            "https://example.com/ray-3.0.0.dev0-cp312-cp312-manylinux2014_x86_64.whl" \\
         && pip install --no-cache-dir --no-deps "ray[llm]"
        RUN pip install Django==5.0.6
        FROM base
        RUN pip install django-environ django "Django[argon2]" httpx==0.27.0 "httpx[http2]"
    """
    # ray: the exact wheel before; django: pinned in the parent stage; httpx: same command
    assert messages(text, "DW906") == ["pip install django-environ without a version pin"]


def test_pip_upgrade_replaces_an_earlier_pin() -> None:
    text = """
        FROM python:3.11-slim
        RUN pip install ray==2.9.0
        RUN pip install -U ray && pip install --upgrade "ray[serve]"
        RUN uv pip install --system --reinstall ray
    """
    assert hits(text, "DW906") == [3, 3, 4]


def test_pip_pin_after_the_unpinned_install_does_not_count() -> None:
    text = """
        FROM python:3.11-slim
        RUN pip install ray && pip install ray==2.9.0
        FROM python:3.11-slim
        RUN pip install ray
    """
    assert hits(text, "DW906") == [2, 4]


def test_pip_publishing_helpers_in_a_builder_stage_pass() -> None:
    text = """
        FROM python:3.11-slim AS build
        RUN pip install --upgrade pip setuptools twine wheel && pip wheel -w /w . && twine check /w/*
        FROM python:3.11-slim
        COPY --from=build /w /w
        RUN pip install --no-cache-dir twine
    """
    assert hits(text, "DW906") == [5]  # twine in the shipped image is still reported


def test_pip_constraint_env_counts_as_pinned() -> None:
    text = """
        FROM python:3.11-slim
        ENV PIP_CONSTRAINT=/constraints.txt
        RUN pip install flask
    """
    assert hits(text, "DW906") == []


# --- DW908 npm, DW909 apk, DW916 gem, DW930 go -------------------------------------------------


def test_npm() -> None:
    text = """
        FROM node:20-slim
        RUN npm ci && npm install && npm install --omit=dev
        RUN npm install -g typescript@5.4.5 @nestjs/cli@10.3.2 ./local git+https://g/x.git#v1
        RUN npm install -g typescript
        RUN npm i --prefix /opt @scope/tool
        RUN npm install user/repo#v2.1.0 file:../lib pkg.tgz https://h/pkg-1.0.0.tgz
    """
    assert hits(text, "DW908") == [4, 5]


def test_npm_global_yarn_is_frozen_classic() -> None:
    text = """
        FROM node:20-slim
        RUN npm install -g yarn
        RUN npm install --global yarn pnpm
        RUN npm install yarn
    """
    # only the global install of `yarn` itself is exempt
    assert messages(text, "DW908") == [
        "npm install pnpm without a version pin",
        "npm install yarn without a version pin",
    ]


@pytest.mark.parametrize(
    "spec",
    [
        "git+https://example.org/team/tool.git",
        "git+ssh://git@example.org:team/tool.git",
        "git://example.org/team/tool.git",
        "github:team/tool",
        "team/tool",
    ],
)
def test_npm_git_urls_without_a_ref_follow_a_branch(spec: str) -> None:
    text = f"""
        FROM node:20-slim
        RUN npm install -g {spec}
        RUN npm install -g {spec}#4f2a9c1
    """
    assert hits(text, "DW908") == [2]


def test_apk() -> None:
    text = """
        FROM alpine:3.19
        RUN apk add --no-cache --virtual .build-deps gcc=13.2.1-r0 musl-dev~1.2
        RUN apk add --no-cache -t .deps curl
        RUN apk add --no-cache /tmp/local.apk
        RUN apk update && apk del curl
    """
    assert hits(text, "DW909") == [3]


def test_gem() -> None:
    text = """
        FROM ruby:3.3-slim
        RUN gem install bundler -v 2.5.6
        RUN gem install rails:7.1.3 ./local.gem
        RUN gem install --no-document rails
        RUN gem update --system
    """
    assert hits(text, "DW916") == [4]


def test_go() -> None:
    text = """
        FROM golang:1.22
        RUN go install github.com/go-delve/delve/cmd/dlv@v1.22.1
        RUN go install ./... && go build -o /app . && go run main.go --flag github.com/x/y
        RUN go run github.com/x/tool@v1.0.0 github.com/a/b
        RUN go get golang.org/x/tools/gopls
        RUN go install -ldflags "-s -w" github.com/x/cmd/tool
        RUN go mod download
    """
    assert hits(text, "DW930") == [5, 6]


# --- DW910 ADD, DW911 multi-source, DW927 relative COPY ----------------------------------------


def test_add_local_files() -> None:
    text = """
        FROM python:3.11-slim
        ARG URL=https://example.com/tool.bin
        ADD app/ /app/
        ADD https://example.com/x.bin /x.bin
        ADD rootfs.tar.xz /
        ADD $URL /tool.bin
        ADD git@github.com:org/repo.git /src
        ADD --from=builder /out /out
        ADD <<EOF /etc/app.conf
        key=value
        EOF
    """
    assert hits(text, "DW910") == [3, 9]


def test_multi_source_destination() -> None:
    text = """
        FROM python:3.11-slim
        ARG DEST=/app/
        COPY a.py b.py /app
        COPY a.py b.py /app/
        COPY a.py b.py .
        COPY a.py b.py $DEST
        COPY a.py /app
        COPY ["a.py", "b.py", "/srv"]
        COPY <<one <<two /etc/conf
        1
        one
        2
        two
    """
    assert hits(text, "DW911") == [3, 8, 9]


def test_copy_relative_destination_needs_workdir_in_stage_or_parent() -> None:
    text = """
        FROM python:3.11-slim AS base
        COPY a.py .
        WORKDIR /app
        COPY b.py .
        FROM base
        COPY c.py ./
        FROM python:3.11-slim
        COPY d.py /srv/
        COPY e.py srv/
    """
    assert hits(text, "DW927") == [2, 9]


# --- DW912 / DW913 / DW914 COPY --from and stages -----------------------------------------------


def test_copy_from_named_context_and_images_pass() -> None:
    text = """
        FROM golang:1.22 AS build
        RUN go build -o /out/app .
        FROM gcr.io/distroless/base-debian12
        COPY --from=build /out/app /app
        COPY --from=0 /out/app /app0
        COPY --from=deps /site-packages /site-packages
        COPY --from=nginx:1.25 /etc/nginx/mime.types /etc/
        COPY --from=docker.io/library/busybox:1.36 /bin/busybox /busybox
    """
    assert hits(text, "DW912") == []
    assert hits(text, "DW913") == []


def test_copy_from_forward_references() -> None:
    text = """
        FROM python:3.11-slim AS app
        COPY --from=builder /wheels /wheels
        COPY --from=2 /x /x
        COPY --from=app /y /y
        COPY --from=0 /z /z
        FROM python:3.11 AS builder
        ARG SRC=builder
        COPY --from=$SRC /w /w
    """
    assert hits(text, "DW912") == [2, 3]
    assert hits(text, "DW913") == [4, 5, 8]


def test_duplicate_and_reserved_stage_names() -> None:
    text = """
        FROM python:3.11 AS Build
        FROM node:20 AS build
        FROM alpine:3.19 AS context
        FROM alpine:3.19 AS scratch
    """
    assert hits(text, "DW914") == [2]
    assert hits(text, "DW931") == [3, 4]


# --- DW917 / DW932 platform ----------------------------------------------------------------------


def test_platform() -> None:
    text = """
        FROM --platform=$BUILDPLATFORM golang:1.22 AS build
        FROM --platform=${BUILDPLATFORM} golang:1.22 AS build2
        FROM --platform=linux/amd64 python:3.11-slim AS fixed
        FROM --platform=$TARGETPLATFORM python:3.11-slim AS redundant
        FROM --platform=${TARGETPLATFORM} python:3.11-slim
    """
    assert hits(text, "DW917") == [3]
    assert hits(text, "DW932") == [4, 5]


# --- DW918-DW924 yum, dnf, zypper ------------------------------------------------------------------


def test_yum_and_dnf() -> None:
    text = """
        FROM fedora:40
        RUN yum install httpd-2.4.6
        RUN yum install -y httpd python3-pip
        RUN yum -y install httpd-2.4.6 /tmp/x.rpm @development
        RUN dnf install httpd-2.4.59
        RUN microdnf install -y httpd
        RUN dnf --setopt=install_weak_deps=0 install -y httpd-2.4.59
        RUN dnf module install -y nodejs:20
        RUN dnf clean all && yum clean all
    """
    assert hits(text, "DW918") == [2]
    assert hits(text, "DW919") == [3]
    assert hits(text, "DW923") == [5]
    assert hits(text, "DW924") == [6]


def test_zypper() -> None:
    text = """
        FROM opensuse/leap:15.5
        RUN zypper install httpd=2.4.58
        RUN zypper -n install httpd
        RUN zypper in -y 'curl>=8' /tmp/x.rpm
        RUN zypper --non-interactive dup
        RUN zypper -n dist-upgrade
        RUN zypper clean
    """
    assert hits(text, "DW920") == [2]
    assert hits(text, "DW922") == [3]
    assert hits(text, "DW921") == [5, 6]


# --- DW925 ONBUILD, DW926 ENV, DW929 before FROM, DW937 unknown -----------------------------------


def test_onbuild_wrapping() -> None:
    text = """
        FROM python:3.11-slim
        ONBUILD ONBUILD RUN true
        ONBUILD FROM alpine:3.19
        ONBUILD MAINTAINER someone
        ONBUILD COPY . /app/
    """
    assert hits(text, "DW925") == [2, 3, 4]


def test_env_same_line_reference() -> None:
    text = """
        FROM python:3.11-slim
        ENV A=/app B=$A/bin
        ENV PATH=/app/bin:$PATH LANG=C.UTF-8
        ENV C=1 D=\\$C
        ENV E=x
        ENV F=$E G=${F}/y
        ENV H /legacy $H
    """
    assert hits(text, "DW926") == [2, 6]


def test_instruction_before_first_from() -> None:
    text = """
        ARG BASE=python:3.11-slim
        ENV X=1
        FROM ${BASE}
        ENV Y=2
    """
    assert hits(text, "DW929") == [2]


def test_unknown_instruction() -> None:
    text = """
        FROM python:3.11-slim
        RUN pip install flask==3.0.3
            gunicorn==22.0.0
        COPYY app.py /app/
    """
    assert hits(text, "DW937") == [3, 4]


# --- DW928 wget, DW934 wget+curl, DW935 ln -------------------------------------------------------


def test_wget_progress() -> None:
    text = """
        FROM debian:12-slim
        RUN wget https://x/a
        RUN wget -q https://x/a && wget -qO- https://x/b && wget -nv https://x/c
        RUN wget --progress=dot:giga https://x/a && wget -o /log https://x/b
    """
    assert hits(text, "DW928") == [2]


def test_wget_and_curl_per_stage() -> None:
    text = """
        FROM debian:12-slim AS a
        RUN wget -q https://x/a
        FROM debian:12-slim AS b
        RUN curl -fsSLO https://x/b
        RUN wget -q https://x/c
    """
    assert hits(text, "DW934") == [5]


def test_ln_bin_sh() -> None:
    text = """
        FROM debian:12-slim
        RUN ln -sf /bin/bash /bin/sh
        RUN ln -s /usr/bin/python3 /usr/local/bin/python
    """
    assert hits(text, "DW935") == [2]


# --- DW936 pipefail --------------------------------------------------------------------------------


def test_pipefail() -> None:
    text = """
        FROM debian:12-slim
        RUN curl -fsSL https://x | sh
        RUN set -o pipefail && curl -fsSL https://x | sh
        RUN false || true
        RUN ["sh", "-c", "curl https://x | sh"]
        RUN <<EOF
        set -euo pipefail
        curl -fsSL https://x | sh
        EOF
        RUN <<EOF
        curl -fsSL https://x | sh
        EOF
        RUN <<EOF
        #!/usr/bin/env python3
        print("a | b")
        EOF
        RUN echo 'a|b' > /x
        SHELL ["/bin/bash", "-euxo", "pipefail", "-c"]
        RUN curl -fsSL https://x | sh
    """
    assert hits(text, "DW936") == [2, 10]


def test_pipefail_skips_powershell() -> None:
    text = """
        FROM mcr.microsoft.com/powershell:7.4-debian-12
        SHELL ["pwsh", "-Command"]
        RUN Get-ChildItem | Select-Object Name
    """
    assert hits(text, "DW936") == []


def test_pipefail_set_after_the_pipe_does_not_count() -> None:
    text = """
        FROM debian:12-slim
        RUN curl -fsSL https://x | bash && set -o pipefail
    """
    assert hits(text, "DW936") == [2]


def test_pipefail_only_where_a_failing_producer_is_hidden() -> None:
    text = """
        FROM debian:12-slim
        RUN case "$TARGETPLATFORM" in linux/arm/v7|linux/arm/v8) A=arm ;; *) A=x64 ;; esac; echo $A
        RUN arch="$(dpkg --print-architecture | awk -F- '{ print $NF }')"; wget -O /x "https://x/$arch"
        RUN echo "$SHA256 *pg.tar.bz2" | sha256sum -c -
        RUN printf '%s\\n' a b | xargs -n1 echo
        RUN cat <<EOF | tee /etc/app.conf
        key=1
        EOF
        RUN if [ "$(uname -m | tr A-Z a-z)" = x86_64 ]; then echo amd64; fi
        RUN if curl -fs https://x | grep -q ok; then echo up; fi
        RUN curl -fsSL https://x | sh || true
        RUN locale -a | grep en_US.utf8
        RUN wget -qO- https://deb.nodesource.com/setup_22.x | bash -
        RUN uv export --frozen | uv pip install -r -
    """
    assert hits(text, "DW936") == [13, 14]


def test_pipefail_case_with_a_download_in_its_body() -> None:
    text = """
        FROM debian:12-slim
        RUN case "$(uname -m)" in x86_64|amd64) curl -fsSL https://x | python3 - ;; esac
    """
    assert hits(text, "DW936") == [2]


@pytest.mark.parametrize(
    ("pipe", "reported"),
    [
        # consumers that fail on an empty or truncated stream: the RUN fails anyway
        ("curl -fsSL https://x/a.tgz | tar -xz -C /opt", False),
        ("curl -fsSL https://x/a.tgz | tar xzf - -C /opt", False),
        ("wget -qO- https://x/a.tar | tar --extract --file=- -C /opt", False),
        ("curl -fsSL https://x/a.tar.xz | tar -xJ --strip-components=1", False),
        ("curl -fsSL https://x/a.gz | gunzip > /usr/local/bin/a", False),
        ("curl -fsSL https://x/a.gz | gzip -dc > /a", False),
        ("curl -fsSL https://x/a.bz2 | bzip2 -d > /a", False),
        ("curl -fsSL https://x/a.tgz | gunzip | tar -x", False),
        ("curl -fsSL https://x/key.asc | gpg --dearmor -o /etc/apt/keyrings/x.gpg", False),
        ("curl -fsSL https://x/key.asc | apt-key add -", False),
        ("curl -fsSL https://x/a.tgz | sudo tar -xz -C /opt", False),
        # consumers that succeed on nothing: pipefail is what catches the failure
        ("curl -fsSL https://x/install.sh | sh", True),
        ("curl -fsSL https://x/install.py | python3 -", True),
        ("curl -fsSL https://x/a | tee /usr/local/bin/a", True),
        ("curl -fsSL https://x/a | cat > /usr/local/bin/a", True),
        ("curl -fsSL https://x/a.xz | xz -d > /a", True),  # busybox xz -d accepts nothing
        ("curl -fsSL https://x/a.tgz | tar -xzf /tmp/other.tgz", True),  # not stdin
        ("curl -fsSL https://x/a.gz | zcat /tmp/other.gz", True),
        ("curl -fsSL https://x/a.tgz | tar -cf /a.tar /etc", True),  # creates, reads nothing
    ],
)
def test_pipefail_judges_the_consumer(pipe: str, reported: bool) -> None:
    text = f"FROM debian:12-slim\nRUN {pipe}\n"
    assert hits(text, "DW936") == ([2] if reported else [])


def test_pipefail_not_when_a_later_command_needs_what_the_pipe_installed() -> None:
    text = """
        FROM debian:12-slim
        RUN wget -qO- https://raw.githubusercontent.com/nvm-sh/nvm/v0.39.5/install.sh | bash && . $NVM_DIR/nvm.sh && nvm install 20
        RUN curl https://install.meteor.com/ | sh && meteor build ../app
        RUN curl https://pyenv.run | bash
        RUN pyenv install 3.13
        RUN wget -O- https://deb.nodesource.com/setup_22.x | bash - && apt-get install -y nodejs && npm install -g sass
        RUN /usr/share/bugzilla/checksetup.pl --check-modules 2>/dev/null | grep "dnf install" | xargs dnf -y install
        RUN /usr/share/bugzilla/checksetup.pl --check-modules
    """
    assert hits(text, "DW936") == []


def test_pipefail_still_reported_when_nothing_later_needs_it() -> None:
    text = """
        FROM debian:12-slim
        RUN curl -fsSL https://deb.nodesource.com/setup_22.x | bash - && apt-get install -y nodejs
        RUN curl -fsSL https://deb.nodesource.com/setup_22.x | bash - && apt-get install -y nodejs npm && npm i -g sass
        RUN curl https://pyenv.run | bash
        RUN uv export | uv pip install -r -
        RUN uv pip install ./dist/app.tar.gz
        RUN curl https://x/tool.sh | sh && curl https://x/other
        RUN curl https://x/list.txt | tee /etc/list && cat /etc/list
        FROM debian:12-slim
        RUN pyenv install 3.13
    """
    # line 4: the pyenv installed there is used only in another stage (a different image)
    assert hits(text, "DW936") == [2, 3, 4, 5, 7, 8]


# --- DW938 pragmas --------------------------------------------------------------------------------


def test_inline_pragma_off_by_default_and_reported_when_selected() -> None:
    rule = rule_by_id("DW938")
    assert rule is not None and not rule.meta.default_enabled
    text = """
        FROM debian:12-slim
        # hadolint ignore=DL3008
        RUN apt-get install -y curl
        # dockwise: ignore=DW904 reason
        RUN apt-get install -y git
        # just a comment about ignore=nothing
    """
    assert hits(text, "DW938") == [2, 4]
    project = project_from_text(textwrap.dedent(text).lstrip("\n"), Config())
    assert check_project(project, [rule]).findings == ()


# --- DW940 ShellCheck -----------------------------------------------------------------------------


@needs_shellcheck
def test_shellcheck_declares_args_and_maps_heredoc_lines() -> None:
    text = """
        FROM debian:12-slim
        ARG target_dir=/srv
        RUN mkdir -p "$target_dir" && cp $target_dir/a /tmp/
        RUN <<EOF
        set -e
        echo "ok"
        ls $undefined_var
        EOF
        RUN ["sh", "-c", "echo $nope"]
    """
    rule = rule_by_id("DW940")
    assert rule is not None
    config = Config(extend_select=("DW940",))
    project = project_from_text(textwrap.dedent(text).lstrip("\n"), config)
    found = [(f.line, f.message.split(":", 1)[0]) for f in check_project(project, [rule]).findings]
    assert (3, "SC2086") in found
    assert (7, "SC2086") in found and (7, "SC2154") in found
    assert all(code != "SC2154" or line == 7 for line, code in found)
    assert all(line != 9 for line, _ in found)


@needs_shellcheck
def test_shellcheck_is_opt_in() -> None:
    text = "FROM debian:12-slim\nRUN cp $FILES /etc/\n"
    rule = rule_by_id("DW940")
    assert rule is not None
    by_default = check_project(project_from_text(text, Config()), [rule])
    assert by_default.findings == ()
    opted_in = check_project(project_from_text(text, Config(extend_select=("DW940",))), [rule])
    assert [f.line for f in opted_in.findings] == [2]


def test_shellcheck_missing_is_said_once_not_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    rule = rule_by_id("DW940")
    assert rule is not None
    project = project_from_text(
        "FROM debian:12-slim\nRUN cp $FILES /etc/\n", Config(select=("DW940",))
    )
    outcome = check_project(project, [rule])
    assert outcome.findings == () and outcome.problems == ()
    assert len(outcome.notes) == 1 and "`shellcheck` was found neither" in outcome.notes[0]


# --- a careful Dockerfile is clean ------------------------------------------------------------------


CAREFUL = """
    # syntax=docker/dockerfile:1.7
    ARG PYTHON_IMAGE=python:3.11-slim
    FROM --platform=$BUILDPLATFORM golang:1.22 AS tools
    RUN go install github.com/go-delve/delve/cmd/dlv@v1.22.1

    FROM ${PYTHON_IMAGE} AS builder
    SHELL ["/bin/bash", "-o", "pipefail", "-c"]
    WORKDIR /build
    ARG APT_PKGS="build-essential=12.9 libpq-dev=15.6-0+deb12u1"
    RUN apt-get update \\
     && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $APT_PKGS \\
     && rm -rf /var/lib/apt/lists/*
    COPY requirements.txt constraints.txt ./
    RUN --mount=type=cache,target=/root/.cache/pip \\
        python -m pip install --upgrade pip setuptools wheel \\
     && python -m pip wheel --wheel-dir /wheels -r requirements.txt -c constraints.txt
    RUN <<EOF
    set -euo pipefail
    curl -fsSL https://example.com/tool.tgz | tar xz -C /usr/local/bin
    EOF

    FROM ${PYTHON_IMAGE}
    WORKDIR /app
    COPY --from=builder /wheels /wheels
    COPY --from=deps /vendor /vendor
    RUN python -m pip install --no-cache-dir --no-index --find-links /wheels /wheels/*.whl
    COPY app/ ./app/
    ENV PYTHONUNBUFFERED=1 PATH=/app/bin:$PATH
    EXPOSE 8000
    USER 10001
    CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
"""


def test_careful_dockerfile_has_no_general_warning_or_error() -> None:
    project = project_from_text(textwrap.dedent(CAREFUL).lstrip("\n"), Config())
    outcome = check_project(project, GENERAL)
    assert not outcome.problems
    serious = [(f.rule, f.line, f.message) for f in outcome.findings if f.severity.label != "info"]
    assert serious == []


# --- command lines read as the tools read them (issue 11, class 6) ---------------------------


@pytest.mark.parametrize(
    "run",
    [
        "pip install --no-cache-dir --prefix=/install --group docker",
        "pip install --no-cache-dir --prefix /install --group=docker -r requirements.txt",
        "uv pip install --system --index-strategy unsafe-best-match -r requirements.txt",
        "python -m pip install --no-cache --progress-bar off -r requirements.txt",
        "pip install -Ur requirements.txt",
    ],
)
def test_pip_option_values_are_not_packages(run: str) -> None:
    assert hits(f"FROM python:3.12-slim\nRUN {run}\n", "DW906") == []


def test_pip_unpinned_after_option_values() -> None:
    text = "FROM python:3.12-slim\nRUN uv pip install --index-strategy unsafe-best-match flask\n"
    assert messages(text, "DW906") == ["pip install flask without a version pin"]


def test_xargs_apt_get_install_is_seen() -> None:
    text = """
        FROM debian:12-slim
        RUN apt-get update && xargs -a packages.txt apt-get install
        RUN apt-get update && xargs -r apt-get install -y < packages.txt
    """
    assert hits(text, "DW907") == [2]


@pytest.mark.parametrize("verb", ["in", "install", "rei", "reinstall"])
def test_dnf_abbreviated_install(verb: str) -> None:
    assert hits(f"FROM fedora:40\nRUN dnf {verb} httpd-2.4.59\n", "DW923") == [2]
    assert hits(f"FROM fedora:40\nRUN dnf {verb} -y httpd && dnf clean all\n", "DW924") == [2]
    assert hits(f"FROM fedora:40\nRUN dnf {verb} -y httpd-2.4.59\n", "DW924") == []


def test_go_install_latest_is_not_a_pin() -> None:
    text = """
        FROM golang:1.22
        RUN go install github.com/go-delve/delve/cmd/dlv@latest
        RUN go run golang.org/x/tools/cmd/stringer@master -type=Kind
        RUN go install github.com/go-delve/delve/cmd/dlv@v1.22.1
        RUN go install golang.org/x/tools/cmd/stringer@4f2a9c1d0e
    """
    assert hits(text, "DW930") == [2, 3]


@pytest.mark.parametrize(
    ("run", "effect"),
    [
        ("pip install --no-cache-dir flask>=2.0", "writes a file named `=2.0`"),
        ("pip install --no-cache-dir 'gunicorn==22.0.0' flask>2", "writes a file named `2`"),
        ("python3 -m pip install requests<3", "build fails"),
        ("poetry add pydantic>=2.7", "writes a file named `=2.7`"),
    ],
)
def test_unquoted_version_specifier_is_a_redirect(run: str, effect: str) -> None:
    found = messages(f"FROM python:3.12-slim\nRUN {run}\n", "DW945")
    assert len(found) == 1 and effect in found[0]
    assert hits(f"FROM python:3.12-slim\nRUN {run}\n", "DW906") == []


@pytest.mark.parametrize(
    "run",
    [
        "pip install --no-cache-dir 'flask>=2.0' \"requests<3\"",
        "pip install --no-cache-dir -r requirements.txt > /tmp/pip.log 2>&1",
        "pip freeze > requirements.lock",
        "echo flask>=2.0",
    ],
)
def test_quoted_specifiers_and_real_redirects_pass(run: str) -> None:
    assert hits(f"FROM python:3.12-slim\nRUN {run}\n", "DW945") == []


def test_apt_get_simulation_asks_nothing() -> None:
    text = """
        FROM debian:12-slim
        RUN if apt-get install -s "postgresql-16-jit" > /dev/null 2>&1; then echo yes; fi
    """
    assert hits(text, "DW907") == []


def test_workdir_dot_is_info_and_relative_workdir_a_warning() -> None:
    text = "FROM debian:12-slim\nWORKDIR .\nWORKDIR app\n"
    project = project_from_text(text, Config(select=("DW901",)))
    found = check_project(project, [rule_by_id("DW901")]).findings  # type: ignore[list-item]
    assert [(f.line, f.severity.label) for f in found] == [(2, "info"), (3, "warning")]


def test_expose_numbers_int_cannot_read() -> None:
    # issue 6: EXPOSE with 5,000 digits raised ValueError (int-string limit), `²` passed isdigit()
    text = f"""
        FROM python:3.11-slim
        EXPOSE {"9" * 5000}
        EXPOSE ٨٠٨٠
        EXPOSE 80-{"9" * 30}
        EXPOSE 8000
    """
    assert hits(text, "DW905") == [2, 3, 4]
