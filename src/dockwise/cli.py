"""The `dockwise` command: check, rules, explain."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from dockwise import __version__

if TYPE_CHECKING:
    from dockwise.config import Config
    from dockwise.findings import Finding
    from dockwise.project import InputProblem, Project

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
FAIL_ON = ("error", "warning", "info", "never")


class UsageError(Exception):
    pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "rules":
            return _rules(args)
        if args.command == "explain":
            return _explain(args)
        if args.command == "check":
            return _check(args)
        parser.print_help()
        return EXIT_USAGE
    except UsageError as error:
        print(f"dockwise: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dockwise",
        description="Is your container project ready for production?",
    )
    parser.add_argument("--version", action="version", version=f"dockwise {__version__}")
    sub = parser.add_subparsers(dest="command")

    check = sub.add_parser("check", help="check project folders, Dockerfiles or stdin (-)")
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    check.add_argument("--format", "-f", choices=("text", "json", "sarif"), default="text")
    check.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE")
    check.add_argument(
        "--fail-on", choices=FAIL_ON, help="lowest severity that fails (default warning)"
    )
    check.add_argument(
        "--select", metavar="IDS", help="comma-separated rule ids, prefixes or lessons"
    )
    check.add_argument(
        "--extend-select",
        metavar="IDS",
        help="add rules to the selection (opt-in rules such as DW940 ShellCheck)",
    )
    check.add_argument(
        "--ignore", metavar="IDS", help="comma-separated rule ids, prefixes or lessons"
    )
    check.add_argument("--target", help="the build stage that ships (docker build --target)")
    check.add_argument(
        "--config", metavar="FILE", help="configuration file (default: found upward)"
    )
    check.add_argument("--stdin-filename", default="-", help="name to report for stdin")
    check.add_argument("--baseline", metavar="FILE", help="hide the findings recorded in FILE")
    check.add_argument("--write-baseline", metavar="FILE", help="record today's findings in FILE")
    check.add_argument("--no-color", action="store_true", help="never colour the text output")

    rules = sub.add_parser("rules", help="list every rule")
    rules.add_argument("--format", "-f", choices=("text", "json", "markdown"), default="text")
    rules.add_argument("--lesson", help="only the rules of this lesson")

    explain = sub.add_parser("explain", help="explain one rule (DW201, or a hadolint code)")
    explain.add_argument("rule", metavar="ID")
    return parser


def _check(args: argparse.Namespace) -> int:
    from dockwise.config import ConfigError
    from dockwise.engine import check_project
    from dockwise.report import Report, render
    from dockwise.rules import all_rules

    rules = all_rules()
    try:
        config = _config(args)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    fail_on = args.fail_on or config.fail_on or "warning"
    _validate_ids(config.select + config.extend_select + config.ignore, rules)

    findings: list[Finding] = []
    problems: list[InputProblem] = []
    source_lines: dict[str, list[str]] = {}
    roots: list[tuple[str, Path]] = []
    files_checked = 0
    for project, prefix in _projects(args, config):
        outcome = check_project(project, rules)
        files_checked += len(project.dockerfiles)
        roots.append((prefix, project.root))
        for dockerfile in project.dockerfiles:
            source_lines[prefix + dockerfile.relpath] = list(dockerfile.lines)
        findings.extend(_prefixed(f, prefix) for f in outcome.findings)
        problems.extend(replace(p, path=prefix + p.path) for p in outcome.problems)
    if args.baseline or args.write_baseline:
        findings = _baseline(args, findings)

    def lines_of(path: str) -> list[str] | None:
        if path in source_lines:
            return source_lines[path]
        for prefix, root in roots:
            if path.startswith(prefix):
                return _read_lines(root / path[len(prefix) :])
        return None

    report = Report(
        findings=findings,
        rules={r.id: r.meta for r in rules},
        problems=problems,
        source_lines=lines_of,
        files_checked=files_checked,
        color=_use_color(args),
    )
    _emit(render(report, args.format), args.output)
    if problems:
        for problem in problems:
            print(f"dockwise: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    return _exit_status(findings, fail_on)


def _baseline(args: argparse.Namespace, findings: list[Finding]) -> list[Finding]:
    from dockwise.baseline import BaselineError, apply_baseline, write_baseline

    try:
        if args.write_baseline:
            write_baseline(Path(args.write_baseline), findings)
        if args.baseline:
            return apply_baseline(Path(args.baseline), findings)
    except BaselineError as error:
        raise UsageError(str(error)) from None
    return findings


def _config(args: argparse.Namespace) -> Config:
    from dockwise.config import find_config, load_config

    config_path: Path | None
    if args.config:
        config_path = Path(args.config)
        if not config_path.is_file():
            raise UsageError(f"{args.config}: no such configuration file")
    else:
        first = args.paths[0] if args.paths and args.paths[0] != "-" else "."
        config_path = find_config(Path(first))
    config = load_config(config_path)
    if args.select:
        config = replace(config, select=_selectors(args.select))
    if args.extend_select:
        config = replace(
            config, extend_select=config.extend_select + _selectors(args.extend_select)
        )
    if args.ignore:
        config = replace(config, ignore=config.ignore + _selectors(args.ignore))
    if args.target:
        config = replace(config, target=args.target)
    return config


def _selectors(text: str) -> tuple[str, ...]:
    """Comma-separated ids, id prefixes or lessons; ids are case-insensitive."""
    items = (item.strip() for item in text.split(","))
    return tuple(_selector(item) for item in items if item)


def _selector(item: str) -> str:
    upper = item.upper()
    return upper if upper.startswith("DW") or upper == "ALL" else item


def _validate_ids(selectors: Sequence[str], rules: Sequence[object]) -> None:
    from dockwise.findings import LESSONS

    ids = {r.id for r in rules}  # type: ignore[attr-defined]
    for selector in selectors:
        if selector in LESSONS or selector == "ALL":
            continue
        if not any(rule_id.startswith(selector) for rule_id in ids):
            raise UsageError(f"unknown rule or lesson '{selector}' (see `dockwise rules`)")


def _projects(args: argparse.Namespace, config: Config) -> list[tuple[Project, str]]:
    """The projects to check, each with the prefix its paths get in the report.

    Several Dockerfiles given one by one make one project, so that project-wide work
    (rule selection, ShellCheck batches) happens once, not once per file.
    """
    from dockwise.project import load_files, load_project

    several = len(args.paths) > 1
    projects: list[tuple[Project, str]] = []
    files: list[Path] = []
    for given in args.paths:
        if given == "-":
            projects.append((_stdin_project(args, config), ""))
            continue
        path = Path(given)
        if not path.exists():
            raise UsageError(f"{given}: no such file or folder")
        if path.is_dir():
            prefix = (
                path.as_posix().rstrip("/") + "/" if several and given not in (".", "./") else ""
            )
            projects.append((load_project(path, config, args.target), prefix))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{given}: not a regular file or folder")
    if len(files) == 1 and not several:
        projects.append((load_project(files[0], config, args.target), ""))
    elif files:
        project = load_files(files, config, args.target)
        prefix = os.path.relpath(project.root, Path.cwd()).replace(os.sep, "/")
        projects.append((project, "" if prefix == "." else prefix + "/"))
    return projects


def _stdin_project(args: argparse.Namespace, config: Config) -> Project:
    from dockwise.project import project_from_text
    from dockwise.sources.dockerfile import DockerfileError, decode_dockerfile

    data = sys.stdin.buffer.read(8 * 1024 * 1024 + 1)
    try:
        text = decode_dockerfile(data, args.stdin_filename)
    except DockerfileError as error:
        raise UsageError(str(error)) from None
    return project_from_text(text, config, args.stdin_filename)


def _prefixed(finding: Finding, prefix: str) -> Finding:
    if not prefix:
        return finding
    related = tuple(replace(r, path=prefix + r.path) for r in finding.related)
    return replace(finding, path=prefix + finding.path, related=related)


def _read_lines(path: Path) -> list[str] | None:
    try:
        if path.stat().st_size > 4 * 1024 * 1024:
            return None
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None


def _use_color(args: argparse.Namespace) -> bool:
    if args.no_color or os.environ.get("NO_COLOR") or args.output or args.format != "text":
        return False
    return sys.stdout.isatty()


def _emit(text: str, output: str | None) -> None:
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"{output}: cannot write: {error.strerror}") from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def _exit_status(findings: Sequence[object], fail_on: str) -> int:
    if fail_on == "never":
        return EXIT_OK
    from dockwise.findings import Severity

    threshold = Severity.parse(fail_on)
    failing = any(f.severity >= threshold for f in findings)  # type: ignore[attr-defined]
    return EXIT_FINDINGS if failing else EXIT_OK


def _rules(args: argparse.Namespace) -> int:
    from dockwise.rules import all_rules

    metas = [r.meta for r in all_rules() if not args.lesson or r.meta.lesson == args.lesson]
    if args.format == "json":
        import json

        rows = [
            {
                "id": m.id,
                "lesson": m.lesson,
                "severity": m.severity.label,
                "title": m.title,
                "also": list(m.also),
                "enabled": m.default_enabled,
            }
            for m in metas
        ]
        print(json.dumps(rows, indent=2))
    elif args.format == "markdown":
        from dockwise.report.markdown import rule_markdown, rules_index

        print(rules_index({m.id: m for m in metas}))
        for meta in metas:
            print(rule_markdown(meta))
    else:
        for m in metas:
            also = f"  ({', '.join(m.also)})" if m.also else ""
            off = "  [off by default]" if not m.default_enabled else ""
            print(f"{m.id}  {m.lesson:<9}  {m.severity.label:<7}  {m.title}{also}{off}")
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    from dockwise.report.markdown import rule_markdown
    from dockwise.rules import rule_by_id

    rule = rule_by_id(args.rule)
    if rule is None:
        raise UsageError(f"unknown rule '{args.rule}' (see `dockwise rules`)")
    print(rule_markdown(rule.meta))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
