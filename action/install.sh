#!/usr/bin/env bash
# The GitHub Action's install step: dockwise from the action's own checkout (the version the
# workflow pinned with `uses: dockwise/dockwise@<ref>`), in a venv of its own.
set -euo pipefail
: "${GITHUB_ACTION_PATH:?}" "${DOCKWISE_VENV:?}"
python3 -m venv "$DOCKWISE_VENV"
"$DOCKWISE_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$GITHUB_ACTION_PATH"
"$DOCKWISE_VENV/bin/dockwise" --version
