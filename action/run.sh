#!/usr/bin/env bash
# The GitHub Action's check step: SARIF for code scanning, annotations on the pull request,
# a Markdown summary on the run's page. The exit status is handed to a later step, so that
# the SARIF upload happens before the job fails.
set -uo pipefail
: "${GITHUB_OUTPUT:?}" "${INPUT_SARIF_FILE:?}"
dockwise="${DOCKWISE_VENV:+$DOCKWISE_VENV/bin/}dockwise"
read -r -a paths <<< "${INPUT_PATHS:-.}"
read -r -a extra <<< "${INPUT_ARGS:-}"
fail_on="${INPUT_FAIL_ON:-warning}"

"$dockwise" check "${paths[@]}" "${extra[@]}" --fail-on "$fail_on" \
    --format sarif --output "$INPUT_SARIF_FILE"
status=$?
if [ "$status" -le 2 ] && [ -s "$INPUT_SARIF_FILE" ]; then
    echo "sarif-file=$INPUT_SARIF_FILE" >> "$GITHUB_OUTPUT"
fi
if [ "${INPUT_ANNOTATIONS:-true}" = "true" ]; then
    "$dockwise" check "${paths[@]}" "${extra[@]}" --fail-on never --format github 2>/dev/null
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    "$dockwise" check "${paths[@]}" "${extra[@]}" --fail-on never --format markdown \
        >> "$GITHUB_STEP_SUMMARY" 2>/dev/null
fi
echo "exit-code=$status" >> "$GITHUB_OUTPUT"
exit 0
