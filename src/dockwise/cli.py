"""The `dockwise` command: check, rules, explain, image, limits."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec.structs import replace

from dockwise import __version__

if TYPE_CHECKING:
    from dockwise.config import Config
    from dockwise.findings import Finding, RuleMeta
    from dockwise.model.service import ImagePart
    from dockwise.project import InputProblem, Project

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
# `check --format` (dockwise.report.FORMATS, listed here so that parsing imports no reporter)
REPORT_FORMATS = (
    "text",
    "json",
    "sarif",
    "html",
    "markdown",
    "junit",
    "github",
    "gitlab",
    "checkstyle",
)
FAIL_ON = ("error", "warning", "info", "never")


DEBUG_ENV = "DOCKWISE_DEBUG"


class UsageError(Exception):
    pass


class InternalError(Exception):
    """An unexpected exception while dockwise worked on one input: a bug, never a finding."""

    def __init__(self, where: str, error: BaseException) -> None:
        super().__init__(where, error)
        self.where = where
        self.error = error


def main(argv: Sequence[str] | None = None) -> int:
    import gc

    # a short run that allocates much and frees little: fewer collections (start-up time)
    gc.set_threshold(20_000, 50, 50)
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = _parser(_command_named(arguments))
    args = parser.parse_args(arguments)
    debug = bool(getattr(args, "debug", False)) or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    try:
        if args.command == "rules":
            return _rules(args)
        if args.command == "explain":
            return _explain(args)
        if args.command == "check":
            return _check(args, debug)
        if args.command in SUBCOMMANDS:
            return _subcommand(args.command).run(args, debug)
        parser.print_help()
        return EXIT_USAGE
    except UsageError as error:
        _error(f"dockwise: error: {error}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except InternalError as internal:
        return _internal_error(internal.where, internal.error, debug)
    except Exception as error:  # a bug outside any one input (configuration, reporting)
        return _internal_error(None, error, debug)


def _internal_error(where: str | None, error: BaseException, debug: bool) -> int:
    """One line naming the input and the exception type, exit 2; --debug adds the traceback.
    The exception's text is not printed: it may quote the input, secrets included."""
    if debug:
        import traceback

        traceback.print_exception(error, file=sys.stderr)
    about = f"{_printable(where)}: " if where else ""
    hint = "" if debug else " (rerun with --debug for the traceback)"
    _error(f"dockwise: {about}internal error: {type(error).__name__}{hint}")
    return EXIT_USAGE


def _error(line: str) -> None:
    """One line on stderr, printable whatever bytes a file name holds."""
    print(_printable(line), file=sys.stderr)


def _printable(text: str | None) -> str:
    from dockwise.report import printable

    return printable(text or "")


def _terminal_columns() -> int:
    """What shutil.get_terminal_size() says of the width, without importing shutil (it loads
    the bz2, lzma and zlib modules: a tenth of a clean check's start-up went there)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return columns or 80


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's own, measuring the terminal with `_terminal_columns` (argparse makes one
    for every option it declares)."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2  # as HelpFormatter does
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    """The commands' parsers, with `_HelpFormatter`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def _command_named(arguments: Sequence[str]) -> str | None:
    """The command the arguments name (their first word that is not an option)."""
    return next((word for word in arguments if not word.startswith("-")), None)


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line; with `command`, the options of the other package commands
    (SUBCOMMANDS) are left out, so that their modules are not imported (start-up time)."""
    parser = argparse.ArgumentParser(
        formatter_class=_HelpFormatter,
        prog="dockwise",
        description="Is your container project ready for production?",
    )
    parser.add_argument("--version", action="version", version=f"dockwise {__version__}")
    sub = parser.add_subparsers(dest="command", prog="dockwise", parser_class=_Parser)

    check = sub.add_parser("check", help="check project folders, Dockerfiles or stdin (-)")
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    check.add_argument(
        "--format",
        "-f",
        choices=REPORT_FORMATS,
        help="report format (default text; github when GITHUB_ACTIONS=true)",
    )
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
    check.add_argument(
        "--stdin-filename",
        default="-",
        metavar="NAME",
        help="name to report for stdin; compose files that build it give its target",
    )
    check.add_argument("--baseline", metavar="FILE", help="hide the findings recorded in FILE")
    check.add_argument("--write-baseline", metavar="FILE", help="record today's findings in FILE")
    check.add_argument(
        "--explain-model",
        action="store_true",
        help="print which files make which service, and why, instead of checking",
    )
    check.add_argument(
        "--image",
        action="append",
        metavar="SOURCE",
        help="the built image (archive, OCI folder, registry://...) joined to the service it "
        "was built from; repeat for several",
    )
    check.add_argument(
        "--insecure", action="store_true", help="plain HTTP for a --image registry on loopback"
    )
    check.add_argument(
        "--no-verify",
        action="store_true",
        help="do not hash --image layers against their digests (an archive you trust)",
    )
    check.add_argument(
        "--usage",
        metavar="FILE",
        help="usage measured by `dockwise limits --format json`: limits far from it are findings",
    )
    check.add_argument("--no-color", action="store_true", help="never colour the text output")
    check.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text output (auto: on a terminal, unless NO_COLOR is set)",
    )
    check.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="findings only: one line each, no snippet, fix, summary, note or progress bar",
    )
    check.add_argument(
        "--debug",
        action="store_true",
        help=f"show the traceback of an internal error (or set {DEBUG_ENV}=1)",
    )

    rules = sub.add_parser("rules", help="list every rule")
    rules.add_argument("--format", "-f", choices=("text", "json", "markdown"), default="text")
    rules.add_argument("--lesson", help="only the rules of this lesson")

    explain = sub.add_parser("explain", help="explain one rule (DW201, or a hadolint code)")
    explain.add_argument("rule", metavar="ID")
    for name, (_, help_text) in SUBCOMMANDS.items():
        subparser = sub.add_parser(name, help=help_text)
        if command is None or command == name:
            _subcommand(name).configure(subparser)
    return parser


# Commands that live in their own package: each module has `configure(parser)` (argparse
# only, imported at start-up, so it imports nothing heavy) and `run(args, debug) -> int`.
SUBCOMMANDS = {
    "image": (
        "dockwise.imagescan.command",
        "analyse a built image (archive, OCI folder, registry)",
    ),
    "limits": ("dockwise.limits.command", "recommend memory and CPU limits from observed usage"),
    "schema": ("dockwise.report.schema_command", "print the JSON Schema of `check --format json`"),
    "completion": ("dockwise.report.completion", "print a shell completion script"),
}


def _subcommand(name: str):  # type: ignore[no-untyped-def]
    import importlib

    return importlib.import_module(SUBCOMMANDS[name][0])


def _check(args: argparse.Namespace, debug: bool = False) -> int:
    import warnings

    from dockwise.config import ConfigError
    from dockwise.engine import check_project
    from dockwise.forked import while_forked
    from dockwise.report import MACHINE_FORMATS, Report, render
    from dockwise.rules import all_rule_ids, load_dockerfile_rules, rules_for

    # a large batch is parsed by two processes: the rules load here meanwhile
    while_forked(load_dockerfile_rules)
    args.format = _report_format(args)
    rule_ids = list(all_rule_ids())  # every rule's id; a project imports only the rules it needs
    metas: dict[str, RuleMeta] = {}  # of the rules that ran
    try:
        config = _config(args, rule_ids)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    fail_on = args.fail_on or config.fail_on or "warning"
    usage_path, usage_document = _usage(args)

    findings: list[Finding] = []
    problems: list[InputProblem] = []
    notes: list[str] = []
    source_lines: dict[str, list[str]] = {}
    roots: list[tuple[str, Path]] = []
    files_checked = 0
    images = _read_images(args)  # once, whatever the number of inputs
    image_document: dict[str, Any] | None = None  # the JSON "image" object of the first
    with warnings.catch_warnings():
        # libraries warn about what they tolerate (ruamel.yaml: a duplicate anchor, `1e999`);
        # a loader that cares turns them into findings, and none reach stderr raw
        if not debug:
            warnings.simplefilter("ignore")
        for name, load, only in _inputs(args, config):
            try:
                project, prefix = load()
                if usage_path is not None:
                    project = replace(project, usage_file=usage_path)
                if images:
                    from dockwise.imagescan.join import attach

                    project = attach(project, images)
                    image_document = image_document or _image_document(project, prefix)
                if args.explain_model:
                    emit(explain_model(project, prefix), args.output)
                    continue
                rules = rules_for(project)
                metas.update((r.id, r.meta) for r in rules)
                outcome = check_project(project, rules, debug=debug)
            except (UsageError, KeyboardInterrupt, BrokenPipeError):
                raise
            except OSError as error:  # the file system refused: an input problem, not a bug
                if debug:
                    raise InternalError(name, error) from error
                problems.append(_os_problem(name, error))
                continue
            except Exception as error:  # a bug: never a finding, and the report still prints
                if debug:
                    raise InternalError(name, error) from error
                problems.append(_internal_problem(name, error))
                continue
            if only is not None:  # compose files or manifests given by name: theirs only
                outcome = replace(
                    outcome,
                    findings=tuple(f for f in outcome.findings if f.path in only),
                    problems=tuple(p for p in outcome.problems if p.path in only),
                )
            files_checked += files_read(project) if only is None else len(only)
            roots.append((prefix, project.root))
            for dockerfile in project.dockerfiles:
                source_lines[prefix + dockerfile.relpath] = list(dockerfile.lines)
            findings.extend(_prefixed(f, prefix) for f in outcome.findings)
            problems.extend(
                replace(p, path=_prefixed_path(p.path, prefix)) for p in outcome.problems
            )
            notes.extend(note for note in outcome.notes if note not in notes)
    if args.explain_model:
        for problem in problems:
            print(f"dockwise: {problem}", file=sys.stderr)
        return 2 if problems else 0
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
        rules=metas,
        problems=problems,
        source_lines=lines_of,
        files_checked=files_checked,
        color=_use_color(args),
        quiet=args.quiet,
        path_prefix=_path_prefix(args.paths),
        notes=notes,
        inputs=[_shown_input(given, args) for given in args.paths],
        usage=usage_document,
        image=image_document,
    )
    # each input problem and note once, on stderr, before the report: a human reads them
    # there; json and sarif also carry them inside the document, for tools
    for problem in problems:
        _error(f"dockwise: error: {problem}")
    for note in () if args.quiet else notes:
        _error(f"dockwise: note: {note}")
    emit(render(report, args.format), args.output, binary=args.format in MACHINE_FORMATS)
    if problems:
        return EXIT_USAGE
    return exit_status(findings, fail_on)


def _usage(args: argparse.Namespace) -> tuple[Path | None, dict[str, object] | None]:
    """`--usage FILE`: where it is, and the document for the reporters; a file that cannot
    be used is a usage error, before anything is checked."""
    if not getattr(args, "usage", None):
        return None, None
    from dockwise.limits.errors import LimitsError
    from dockwise.limits.usagefile import load_usage

    path = Path(args.usage).resolve()
    try:
        usage = load_usage(path, args.usage)
    except LimitsError as error:
        raise UsageError(str(error)) from None
    return path, usage.raw


def _internal_problem(name: str, error: Exception) -> InputProblem:
    from dockwise.project import InputProblem

    hint = "rerun with --debug for the traceback"
    return InputProblem(name, None, f"internal error: {type(error).__name__} ({hint})")


def _os_problem(name: str, error: OSError) -> InputProblem:
    from dockwise.project import InputProblem

    what = f" {error.filename}" if error.filename and str(error.filename) != name else ""
    return InputProblem(name, None, f"cannot read{what}: {error.strerror or error}")


def files_read(project: Project) -> int:
    """Every file dockwise read for this project: Dockerfiles, compose files and Kubernetes
    manifests (once the project model has them)."""
    manifests = getattr(project, "manifests", ())  # Project.manifests (the Kubernetes files)
    return len(project.dockerfiles) + len(project.discovery.compose_files) + len(manifests)


def _shown_input(given: str, args: argparse.Namespace) -> str:
    return args.stdin_filename if given == "-" else given


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


def _config(args: argparse.Namespace, rule_ids: Sequence[str]) -> Config:
    from dockwise.config import check_rule_ids, find_config, load_config

    config_path: Path | None
    if args.config:
        config_path = Path(args.config)
        if not config_path.is_file():
            raise UsageError(f"{args.config}: no such configuration file")
    else:
        first = args.paths[0] if args.paths and args.paths[0] != "-" else "."
        config_path = find_config(Path(first))
    config = load_config(config_path)
    check_rule_ids(config, rule_ids)  # the file's own values, before the options add theirs
    if args.select is not None:
        config = replace(config, select=_selectors("--select", args.select, rule_ids))
    if args.extend_select is not None:
        added = _selectors("--extend-select", args.extend_select, rule_ids)
        config = replace(config, extend_select=config.extend_select + added)
    if args.ignore is not None:
        ignored = _selectors("--ignore", args.ignore, rule_ids)
        config = replace(config, ignore=config.ignore + ignored)
    if args.target is not None:
        if not args.target.strip():
            raise UsageError("--target: a stage name is needed")
        config = replace(config, target=args.target)
    return config


def _selectors(option: str, text: str, rule_ids: Sequence[str]) -> tuple[str, ...]:
    """Comma-separated ids, id prefixes or lessons; ids are case-insensitive."""
    from dockwise.config import normalize_selector, unknown_selector
    from dockwise.findings import LESSONS

    items = tuple(normalize_selector(item) for item in text.split(",") if item.strip())
    if not items:
        raise UsageError(f"{option}: no rule id, prefix or lesson given")
    for item in items:
        if unknown_selector(item, rule_ids):
            raise UsageError(
                f"{option}: unknown rule or lesson '{item}' "
                f"(lessons: {', '.join(LESSONS)}; rules: `dockwise rules`)"
            )
    return items


Input = tuple[str, Callable[[], tuple["Project", str]], frozenset[str] | None]


def _inputs(args: argparse.Namespace, config: Config) -> list[Input]:
    """The inputs to check, each named for messages, with how to load it as a project, the
    prefix its paths get in the report, and the files whose findings are reported (None:
    all). Loading is deferred so that an internal error names the input it happened on.

    Several Dockerfiles given one by one make one project, so that project-wide work
    (rule selection, ShellCheck batches) happens once, not once per file. Compose files and
    Kubernetes manifests given by name (pre-commit passes them so) are checked with the
    folder they are in, so that they are joined to the Dockerfiles they build and run, and
    only their own findings are reported.
    """
    from dockwise.project import load_files, load_project

    several = len(args.paths) > 1
    inputs: list[Input] = []
    files: list[Path] = []
    yamls: dict[Path, list[Path]] = {}
    for given in args.paths:
        if given == "-":
            inputs.append((args.stdin_filename, lambda: (_stdin_project(args, config), ""), None))
            continue
        path = Path(given)
        try:
            exists, is_dir, is_file = path.exists(), path.is_dir(), path.is_file()
        except OSError as error:
            raise UsageError(f"{given}: cannot read: {error.strerror or error}") from None
        if not exists:
            raise UsageError(f"{given}: no such file or folder")
        if is_dir:
            prefix = (
                path.as_posix().rstrip("/") + "/" if several and given not in (".", "./") else ""
            )
            inputs.append((given, functools.partial(_folder, path, config, args, prefix), None))
        elif is_file and path.name.lower().endswith((".yaml", ".yml")):
            yamls.setdefault(path.parent, []).append(path)
        elif is_file:
            files.append(path)
        else:
            raise UsageError(f"{given}: not a regular file or folder")
    for folder, named in yamls.items():
        shown = folder.as_posix()
        prefix = shown.rstrip("/") + "/" if several and shown not in (".", "./") else ""
        load = functools.partial(_folder, folder, config, args, prefix)
        only = frozenset(path.name for path in named)
        inputs.append((", ".join(str(path) for path in named), load, only))
    if len(files) == 1 and not several:
        one = files[0]
        inputs.append((str(one), lambda: (load_project(one, config, args.target), ""), None))
    elif files:

        def load_several() -> tuple[Project, str]:
            project = load_files(files, config, args.target)
            prefix = os.path.relpath(project.root, Path.cwd()).replace(os.sep, "/")
            return project, "" if prefix == "." else prefix + "/"

        inputs.append((", ".join(str(f) for f in files), load_several, None))
    return inputs


def _folder(
    path: Path, config: Config, args: argparse.Namespace, prefix: str
) -> tuple[Project, str]:
    from dockwise.project import load_project

    return load_project(path, config, args.target), prefix


def _stdin_project(args: argparse.Namespace, config: Config) -> Project:
    """The Dockerfile, or the Kubernetes manifests (`helm template . | dockwise check -`), on
    stdin, reported under --stdin-filename (which also names a Dockerfile for the compose
    files that build it). Unusable input is an input problem, as for a file, so that json
    and sarif still print a document."""
    from dockwise.project import (
        Discovery,
        InputProblem,
        Project,
        manifests_from_text,
        project_from_text,
    )
    from dockwise.sources.dockerfile import DockerfileError, decode_dockerfile

    name = args.stdin_filename
    data = sys.stdin.buffer.read(8 * 1024 * 1024 + 1)
    try:
        text = decode_dockerfile(data, name)
    except DockerfileError as error:
        problem = InputProblem(error.path, error.line, error.message)
        return Project(Path.cwd(), config, (), Discovery(), (problem,), single_file=True)
    return manifests_from_text(text, config, name) or project_from_text(text, config, name)


def explain_model(project: Project, prefix: str = "") -> str:
    """The services dockwise sees and the files that make each one, with the reasons."""
    from dockwise.report import printable

    lines = []
    for service in project.services:
        lines.append(f"service {printable(service.name)}")
        for join in service.joins:
            where = prefix + join.path + (f":{join.line}" if join.line else "")
            lines.append(f"  {join.kind:<10} {printable(where)}  {join.what}  ({join.because})")
    if not lines:
        lines.append("no services: no Dockerfile, compose file or Kubernetes manifest found")
    return "\n".join(lines) + "\n"


def _prefixed(finding: Finding, prefix: str) -> Finding:
    if not prefix:
        return finding
    related = tuple(replace(r, path=prefix + r.path) for r in finding.related)
    return replace(finding, path=prefix + finding.path, related=related)


def _prefixed_path(path: str, prefix: str) -> str:
    if path == "." and prefix:
        return prefix.rstrip("/")
    return prefix + path


def _read_lines(path: Path) -> list[str] | None:
    try:
        if not path.is_file() or path.stat().st_size > 4 * 1024 * 1024:  # never a FIFO
            return None
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None


def _image_document(project: Project, prefix: str) -> dict[str, Any] | None:
    """The "image" object of the report for the first image given with --image, each layer
    with the Dockerfile line that made it when the image joined a service."""
    from dockwise.imagescan.command import image_json
    from dockwise.imagescan.join import origins

    if not project.images:
        return None
    part = project.images[0]
    document = dict(image_json(part.facts))
    service = next((s for s in project.services if s.image is part), None)
    made_by = origins(project, service) if service is not None else {}
    layers = []
    for layer, facts in zip(document["layers"], part.facts.layers, strict=True):
        instruction = made_by.get(facts.history_index) if facts.history_index is not None else None
        if instruction is not None and instruction.cmd in ("RUN", "COPY", "ADD"):
            assert service is not None and service.dockerfile is not None
            layer = {
                **layer,
                "path": prefix + service.dockerfile.relpath,
                "line": instruction.start_line,
            }
        layers.append(layer)
    document["layers"] = layers
    return document


def _read_images(args: argparse.Namespace) -> list[ImagePart]:
    """The images given with --image, read and analysed (an unreadable one: usage error)."""
    if not args.image:
        return []
    from dockwise.imagescan.join import read_image
    from dockwise.sources.image import ImageError

    parts = []
    for source in args.image:
        try:
            parts.append(read_image(source, insecure=args.insecure, verify=not args.no_verify))
        except ImageError as error:
            raise UsageError(str(error)) from None
        except OSError as error:
            raise UsageError(f"{source}: cannot read: {error.strerror or error}") from None
    return parts


def _use_color(args: argparse.Namespace) -> bool:
    if args.no_color or args.color == "never" or args.output or args.format != "text":
        return False
    if args.color == "always":
        return True
    return not os.environ.get("NO_COLOR") and sys.stdout.isatty()


def _path_prefix(paths: Sequence[str]) -> str:
    """The one checked folder (or a file's folder) seen from the working directory, for the
    CI formats; "" when it is the working directory, outside it, or several inputs (their
    paths are prefixed already)."""
    if len(paths) != 1 or paths[0] == "-":
        return ""
    try:
        given = Path(paths[0])
        folder = (given if given.is_dir() else given.parent).resolve()
        relative = os.path.relpath(folder, Path.cwd().resolve())
    except (OSError, ValueError):
        return ""
    if relative == "." or relative.startswith(".."):
        return ""
    return relative.replace(os.sep, "/") + "/"


def _report_format(args: argparse.Namespace) -> str:
    """--format, else GitHub workflow commands inside GitHub Actions (annotations on the pull
    request) when the report goes to the log, else text."""
    if args.format:
        return str(args.format)
    if os.environ.get("GITHUB_ACTIONS") == "true" and not args.output:
        return "github"
    return "text"


def emit(text: str, output: str | None, binary: bool = False) -> None:
    """Write the report. Machine formats are always UTF-8 bytes, whatever the locale; text
    goes through the terminal's encoding, with backslash escapes for what it cannot show."""
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8", errors="backslashreplace")
        except OSError as error:
            raise UsageError(f"{output}: cannot write: {error.strerror}") from None
        return
    encoding = "utf-8" if binary else (sys.stdout.encoding or "utf-8")
    data = text.encode(encoding, errors="backslashreplace")
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a replaced stdout (tests capturing text)
        sys.stdout.write(data.decode(encoding))
    else:
        sys.stdout.flush()
        buffer.write(data)
        buffer.flush()


def exit_status(findings: Sequence[object], fail_on: str) -> int:
    if fail_on == "never":
        return EXIT_OK
    from dockwise.findings import Severity

    threshold = Severity.parse(fail_on)
    failing = any(f.severity >= threshold for f in findings)  # type: ignore[attr-defined]
    return EXIT_FINDINGS if failing else EXIT_OK


def _rules(args: argparse.Namespace) -> int:
    from dockwise.findings import LESSONS
    from dockwise.rules import all_rules

    if args.lesson is not None and args.lesson.strip().lower() not in LESSONS:
        raise UsageError(
            f"--lesson: unknown lesson '{args.lesson}' (lessons: {', '.join(LESSONS)})"
        )
    if args.lesson is not None:
        args.lesson = args.lesson.strip().lower()
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
