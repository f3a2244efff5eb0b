"""Edge cases of the debugging rules: traceability labels and the label schema (DW7xx)."""

from __future__ import annotations

from textwrap import dedent

import pytest
from msgspec.structs import replace

from dockwise.config import Config, config_from_table
from dockwise.engine import check_project
from dockwise.project import project_from_text
from dockwise.rules import all_rules
from dockwise.rules.debugging import (
    is_email,
    is_git_hash,
    is_rfc3339,
    is_semver,
    is_spdx_expression,
    is_url,
    label_key_problem,
)

RULES = {rule.id: rule for rule in all_rules() if rule.meta.lesson == "debugging"}
SCHEMA = {
    "org.opencontainers.image.source": "url",
    "org.opencontainers.image.revision": "hash",
    "org.opencontainers.image.version": "semver",
    "org.opencontainers.image.created": "rfc3339",
    "org.opencontainers.image.licenses": "spdx",
    "org.opencontainers.image.authors": "email",
    "org.opencontainers.image.title": "text",
}


def run(text: str, *rule_ids: str, config: Config | None = None) -> list[tuple[str, int | None]]:
    config = config or Config()
    config = replace(config, select=tuple(rule_ids))
    project = project_from_text(dedent(text).lstrip(), config)
    outcome = check_project(project, [RULES[i] for i in rule_ids])
    assert not outcome.problems, outcome.problems
    return [(f.rule, f.line) for f in outcome.findings]


def messages(text: str, rule_id: str, config: Config | None = None) -> list[str]:
    config = replace(config or Config(), select=(rule_id,))
    project = project_from_text(dedent(text).lstrip(), config)
    return [f.message for f in check_project(project, [RULES[rule_id]]).findings]


def schema_config(schema: dict[str, str] | None = None, strict: bool = False) -> Config:
    return config_from_table({"label-schema": schema or SCHEMA, "strict-labels": strict})


# ------------------------------------------------------------------------------- DW701


def test_traceability_missing_both_names_both() -> None:
    text = """
        FROM python:3.11-slim
        CMD ["python"]
    """
    assert run(text, "DW701") == [("DW701", 1)]
    (message,) = messages(text, "DW701")
    assert "org.opencontainers.image.source" in message
    assert "org.opencontainers.image.revision" in message


def test_traceability_missing_revision_only() -> None:
    text = """
        FROM python:3.11-slim
        LABEL org.opencontainers.image.source="https://github.com/acme/shop"
    """
    (message,) = messages(text, "DW701")
    assert "org.opencontainers.image.revision" in message
    assert "image.source" not in message


def test_traceability_values_from_build_args_count() -> None:
    text = """
        FROM python:3.11-slim
        ARG GIT_SHA
        ARG REPO_URL
        LABEL org.opencontainers.image.source=${REPO_URL} org.opencontainers.image.revision=$GIT_SHA
    """
    assert run(text, "DW701") == []


def test_traceability_inherited_from_base_stage_counts() -> None:
    text = """
        FROM python:3.11-slim AS base
        ARG GIT_SHA
        LABEL org.opencontainers.image.source="https://github.com/acme/shop" \\
              org.opencontainers.image.revision=$GIT_SHA
        FROM base
        CMD ["python"]
    """
    assert run(text, "DW701") == []


def test_traceability_labels_in_builder_stage_only_do_not_count() -> None:
    text = """
        FROM python:3.11 AS build
        LABEL org.opencontainers.image.source="https://github.com/acme/shop" \\
              org.opencontainers.image.revision="0123abc"
        FROM python:3.11-slim
        COPY --from=build /app /app
    """
    assert run(text, "DW701") == [("DW701", 4)]


def test_traceability_empty_label_counts_as_missing() -> None:
    text = """
        FROM python:3.11-slim
        LABEL org.opencontainers.image.source="https://github.com/acme/shop" \\
              org.opencontainers.image.revision=""
    """
    assert run(text, "DW701") == [("DW701", 1)]


def test_traceability_arg_resolved_from() -> None:
    text = """
        ARG BASE=python:3.11-slim
        FROM ${BASE}
        ARG GIT_SHA
        LABEL "org.opencontainers.image.source"="https://github.com/acme/shop" \\
              org.opencontainers.image.revision=$GIT_SHA
    """
    assert run(text, "DW701") == []


# ------------------------------------------------------------------------------- DW702/703


def test_schema_rules_silent_without_schema() -> None:
    text = """
        FROM python:3.11-slim
        LABEL org.opencontainers.image.version="v1" maintainer=""
    """
    assert run(text, *[i for i in RULES if i not in ("DW701", "DW711")]) == []


def test_missing_schema_label_only_judges_shipped_chain() -> None:
    config = schema_config({"com.acme.team": "text", "com.acme.tier": "text"})
    text = """
        FROM python:3.11 AS build
        RUN true
        FROM python:3.11-slim AS base
        LABEL com.acme.team="shop"
        FROM base
        CMD ["python"]
    """
    # hadolint reports DL3049 for every stage (lines 1, 3 and 5); the builder never ships
    assert run(text, "DW702", config=config) == [("DW702", 5)]
    (message,) = messages(text, "DW702", config)
    assert "com.acme.tier" in message


def test_missing_schema_label_respects_target() -> None:
    config = replace(schema_config({"com.acme.team": "text"}), target="dev")
    text = """
        FROM python:3.11-slim AS dev
        LABEL com.acme.team="shop"
        FROM python:3.11-slim AS prod
        CMD ["python"]
    """
    assert run(text, "DW702", config=config) == []


def test_strict_labels_reports_each_extra_label_at_its_line() -> None:
    config = schema_config({"com.acme.team": "text"}, strict=True)
    text = """
        FROM python:3.11-slim
        LABEL com.acme.team="shop"
        LABEL com.acme.taem="shop" \\
              version="1"
    """
    assert run(text, "DW703", config=config) == [("DW703", 3), ("DW703", 3)]
    assert sorted(m.split()[1] for m in messages(text, "DW703", config)) == [
        "com.acme.taem",
        "version",
    ]


def test_strict_labels_off_reports_nothing() -> None:
    config = schema_config({"com.acme.team": "text"}, strict=False)
    text = """
        FROM python:3.11-slim
        LABEL com.acme.other="x"
    """
    assert run(text, "DW703", config=config) == []


# ------------------------------------------------------------------------------- DW704-710


def test_empty_schema_label_reported_once_not_also_as_bad_type() -> None:
    config = schema_config()
    text = """
        FROM python:3.11-slim
        LABEL org.opencontainers.image.created="" org.opencontainers.image.title="  "
    """
    found = run(text, "DW704", "DW706", config=config)
    assert found == [("DW704", 2), ("DW704", 2)]


def test_typed_labels_from_variables_are_not_judged() -> None:
    # hadolint reports DL3052/DL3053/DL3055/DL3056 on each of these
    config = schema_config()
    text = """
        FROM python:3.11-slim
        ARG GIT_SHA BUILD_DATE VERSION REPO
        LABEL org.opencontainers.image.source=$REPO \\
              org.opencontainers.image.revision=${GIT_SHA} \\
              org.opencontainers.image.version=${VERSION:-0.0.0} \\
              org.opencontainers.image.created=$BUILD_DATE \\
              org.opencontainers.image.licenses=MIT \\
              org.opencontainers.image.authors=team@acme.example \\
              org.opencontainers.image.title=$VERSION
    """
    assert run(text, *RULES, config=config) == []


def test_each_bad_type_reported_at_its_label() -> None:
    config = schema_config()
    text = """
        FROM python:3.11-slim
        LABEL org.opencontainers.image.title="shop"
        LABEL org.opencontainers.image.source="git@github.com:acme/shop.git"
        LABEL org.opencontainers.image.revision="main"
        LABEL org.opencontainers.image.version="latest"
        LABEL org.opencontainers.image.created="2024-05-01"
        LABEL org.opencontainers.image.licenses="Apache 2"
        LABEL org.opencontainers.image.authors="Team <team@acme.example>"
    """
    ids = [i for i in RULES if i not in ("DW701", "DW702", "DW703", "DW711")]
    assert run(text, *ids, config=config) == [
        ("DW705", 3),
        ("DW708", 4),
        ("DW709", 5),
        ("DW706", 6),
        ("DW707", 7),
        ("DW710", 8),
    ]


def test_later_definition_wins_over_base_stage_value() -> None:
    config = schema_config({"org.opencontainers.image.version": "semver"})
    text = """
        FROM python:3.11-slim AS base
        LABEL org.opencontainers.image.version="dev"
        FROM base
        LABEL org.opencontainers.image.version="1.2.3"
    """
    assert run(text, "DW709", config=config) == []


def test_builder_stage_labels_are_not_typed_checked() -> None:
    config = schema_config({"org.opencontainers.image.version": "semver"})
    text = """
        FROM python:3.11 AS build
        LABEL org.opencontainers.image.version="dev"
        FROM python:3.11-slim
        LABEL org.opencontainers.image.version="1.2.3"
    """
    assert run(text, "DW709", config=config) == []


@pytest.mark.parametrize(
    ("check", "value", "valid"),
    [
        (is_semver, "1.2.3", True),
        (is_semver, "1.2.3-rc.1+build.5", True),
        (is_semver, "v1.2.3", False),
        (is_semver, "1.2", False),
        (is_semver, "01.2.3", False),
        (is_git_hash, "abc1234", True),
        (is_git_hash, "abcdef12", True),  # hadolint rejects 8 characters
        (is_git_hash, "0123456789abcdef0123456789abcdef01234567", True),
        (is_git_hash, "0" * 64, True),
        (is_git_hash, "abc123", False),
        (is_git_hash, "ABC1234", False),
        (is_git_hash, "0" * 41, False),
        (is_rfc3339, "2024-01-02T03:04:05Z", True),
        (is_rfc3339, "2024-01-02T03:04:05.123+01:00", True),
        (is_rfc3339, "2016-12-31T23:59:60Z", True),
        (is_rfc3339, "2024-01-02 03:04:05Z", False),
        (is_rfc3339, "2024-01-02", False),
        (is_rfc3339, "2024-13-02T03:04:05Z", False),
        (is_rfc3339, "2024-02-30T03:04:05Z", False),
        (is_spdx_expression, "MIT", True),
        (is_spdx_expression, "mit", True),
        (is_spdx_expression, "MIT OR Apache-2.0", True),
        (is_spdx_expression, "(MIT AND BSD-3-Clause) OR GPL-2.0-or-later", True),
        (is_spdx_expression, "GPL-2.0-only WITH Classpath-exception-2.0", True),
        (is_spdx_expression, "GPL-2.0+", True),
        (is_spdx_expression, "LicenseRef-Acme-Proprietary", True),
        (is_spdx_expression, "Proprietary", False),
        (is_spdx_expression, "Apache 2.0", False),
        (is_spdx_expression, "MIT OR", False),
        (is_spdx_expression, "(MIT", False),
        (is_spdx_expression, "MIT WITH Apache-2.0", False),
        (is_url, "https://github.com/acme/shop", True),
        (is_url, "mailto:team@acme.example", True),
        (is_url, "github.com/acme/shop", False),
        (is_url, "git@github.com:acme/shop.git", False),
        (is_url, "https://", False),
        (is_url, "https://exa mple.com", False),
        (is_email, "team@acme.example", True),
        (is_email, "a@b", True),
        (is_email, "Team <team@acme.example>", False),
        (is_email, "a b@c.d", False),
        (is_email, "team", False),
    ],
)
def test_value_checks(check: object, value: str, valid: bool) -> None:
    assert check(value) is valid  # type: ignore[operator]


# ------------------------------------------------------------------------------- DW711


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("maintainer", True),
        ("org.opencontainers.image.source", True),
        ("com.example.my-key", True),
        ("foo_bar", True),
        ("com.example.v2", True),
        ("com.docker.x", False),
        ("io.docker.y", False),
        ("org.dockerproject.z", False),
        ("Foo", False),
        ("foo.Bar", False),
        (".foo", False),
        ("foo.", False),
        ("foo-", False),
        ("1foo", False),
        ("foo..bar", False),
        ("foo--bar", False),
    ],
)
def test_label_key_syntax(key: str, valid: bool) -> None:
    assert (label_key_problem(key) is None) is valid


def test_invalid_label_keys_all_stages_quoted_and_variable_keys() -> None:
    text = """
        FROM python:3.11 AS build
        LABEL Build.Stage="1"
        FROM python:3.11-slim
        ARG KEY=com.acme.x
        LABEL "com.acme.team"="shop" ${KEY}="y" com.docker.thing="z"
    """
    assert run(text, "DW711") == [("DW711", 2), ("DW711", 5)]
    assert any("reserved" in m for m in messages(text, "DW711"))
