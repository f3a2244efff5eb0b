"""`dockwise image SOURCE`: what is really inside a built image, without a Docker daemon.

SOURCE is a `docker save` archive, an oci-archive, an OCI layout folder or
`registry://host[:port]/name:tag`. The image is read in one streaming pass (analysis.py),
its findings come from the same rules and reporters as `dockwise check`, and the exit
status follows the same contract. Text adds a layer table; JSON adds the `image` object.

`configure` runs on every `dockwise` start: it only declares options.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dockwise.config import Config
    from dockwise.imagescan.facts import ImageFacts
    from dockwise.imagescan.gates import Gates

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
DIVE_CI = ".dive-ci"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source",
        metavar="SOURCE",
        help="docker save archive, oci-archive, OCI layout folder or registry://host/name:tag",
    )
    parser.add_argument(
        "--platform", default="linux/amd64", help="from a multi-platform image (linux/amd64)"
    )
    parser.add_argument(
        "--insecure", action="store_true", help="plain HTTP to a registry on loopback"
    )
    parser.add_argument("--format", "-f", choices=("text", "json", "sarif"), default="text")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE")
    parser.add_argument(
        "--fail-on",
        choices=("error", "warning", "info", "never"),
        help="lowest severity that fails (default warning)",
    )
    parser.add_argument("--config", metavar="FILE", help="configuration file (default: found)")
    parser.add_argument("--select", metavar="IDS", help="comma-separated rule ids or lessons")
    parser.add_argument("--ignore", metavar="IDS", help="comma-separated rule ids or lessons")
    gates = parser.add_argument_group("size gates (DW138; dive's CI rules)")
    gates.add_argument("--max-size", metavar="SIZE", help="size budget, e.g. 200MB")
    gates.add_argument("--lowest-efficiency", metavar="RATIO", help="e.g. 0.9 or 90%%")
    gates.add_argument("--highest-wasted-bytes", metavar="SIZE", help="e.g. 20MB")
    gates.add_argument(
        "--highest-user-wasted-percent",
        metavar="RATIO",
        help="wasted bytes over the bytes above the base layer, e.g. 0.1 or 10%%",
    )
    gates.add_argument(
        "--ci-config",
        metavar="FILE",
        help=f"dive's CI rules file (default: {DIVE_CI} in the current folder, if any)",
    )
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="do not hash the layers against their digests, as dive does not (an archive you "
        "trust, such as one `docker save` just wrote; manifests and config are still checked)",
    )
    parser.add_argument(
        "--no-secrets",
        action="store_true",
        help="do not read file contents for secrets (sizes, config and history only)",
    )
    parser.add_argument("--no-color", action="store_true", help="never colour the text output")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.add_argument("--debug", action="store_true", help="show internal tracebacks")


class _Usage(Exception):
    pass


def run(args: argparse.Namespace, debug: bool = False) -> int:
    from dockwise.cli import UsageError

    try:
        return _run(args, debug)
    except (_Usage, UsageError) as error:
        _say(f"dockwise: error: {error}")
        return EXIT_USAGE


def _say(line: str) -> None:
    from dockwise.report import printable

    print(printable(line), file=sys.stderr)


def _run(args: argparse.Namespace, debug: bool) -> int:
    from dockwise.cli import emit, exit_status
    from dockwise.engine import check_project
    from dockwise.imagescan.analysis import analyse, start_secret_scan
    from dockwise.imagescan.join import image_part, image_project
    from dockwise.report import MACHINE_FORMATS, Report, render
    from dockwise.report.progress import progress
    from dockwise.rules import all_rule_ids, image_rules
    from dockwise.sources.image import ImageError, open_image

    config = _config(args, all_rule_ids())
    fail_on = args.fail_on or config.fail_on or "warning"
    try:
        with open_image(
            args.source,
            platform=args.platform,
            insecure=args.insecure,
            verify=not args.no_verify,
        ) as image:
            total = sum(layer.compressed_bytes for layer in image.layers) or None
            # the secret scan forks before the progress bar starts its thread
            side = None if args.no_secrets else start_secret_scan(image)
            try:
                with progress(total, "reading layers", quiet=args.quiet) as advance:
                    facts = analyse(image, secrets=not args.no_secrets, on_bytes=advance, side=side)
            except BaseException:
                if side is not None:
                    side.cancel()
                raise
    except ImageError as error:
        raise _Usage(str(error)) from None
    except OSError as error:
        raise _Usage(f"{args.source}: cannot read: {error.strerror or error}") from None
    project = image_project(image_part(facts), config)
    rules = image_rules()
    outcome = check_project(project, rules, debug=debug)
    findings = sorted(outcome.findings, key=lambda f: f.sort_key())
    # entries the analysis tolerated (a hard link to nothing, an unsafe name): said, not judged
    notes = [*outcome.notes, *(f"{args.source}: {problem}" for problem in facts.problems)]
    report = Report(
        findings=findings,
        rules={r.id: r.meta for r in rules},
        problems=outcome.problems,
        files_checked=1,
        color=_use_color(args),
        notes=notes,
        inputs=[args.source],
        image=image_json(facts),
    )
    for problem in outcome.problems:
        _say(f"dockwise: error: {problem}")
    for note in notes:
        _say(f"dockwise: note: {note}")
    text = render(report, args.format)
    if args.format == "text":
        text = layer_table(facts) + "\n" + text
    emit(text, args.output, binary=args.format in MACHINE_FORMATS)
    if outcome.problems:
        return EXIT_USAGE
    return exit_status(findings, fail_on)


def _config(args: argparse.Namespace, rule_ids: Sequence[str]) -> Config:
    from pathlib import Path

    from msgspec.structs import replace

    from dockwise.config import ConfigError, check_rule_ids, find_config, load_config

    try:
        if args.config:
            path: Path | None = Path(args.config)
            if not Path(args.config).is_file():
                raise _Usage(f"{args.config}: no such configuration file")
        else:
            path = find_config(Path.cwd())
        config = load_config(path)
        check_rule_ids(config, rule_ids)
    except ConfigError as error:
        raise _Usage(str(error)) from None
    if args.select is not None:
        config = replace(config, select=_selectors("--select", args.select, rule_ids))
    if args.ignore is not None:
        ignored = _selectors("--ignore", args.ignore, rule_ids)
        config = replace(config, ignore=config.ignore + ignored)
    return replace(config, image_gates=config.image_gates.merged(_gates(args)))


def _selectors(option: str, text: str, rule_ids: Sequence[str]) -> tuple[str, ...]:
    from dockwise.config import normalize_selector, unknown_selector

    items = tuple(normalize_selector(item) for item in text.split(",") if item.strip())
    if not items:
        raise _Usage(f"{option}: no rule id, prefix or lesson given")
    for item in items:
        if unknown_selector(item, rule_ids):
            raise _Usage(f"{option}: unknown rule or lesson '{item}' (see `dockwise rules`)")
    return items


def _gates(args: argparse.Namespace) -> Gates:
    """`.dive-ci` (given, or in the current folder), then the options, later ones winning."""
    from pathlib import Path

    from dockwise.imagescan.gates import GateError, Gates, gates_from_dive_ci, parse_ratio
    from dockwise.imagescan.gates import parse_size as size

    gates = Gates()
    ci = Path(args.ci_config) if args.ci_config else Path(DIVE_CI)
    if args.ci_config or ci.is_file():
        try:
            text = ci.read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            raise _Usage(f"{ci}: cannot read: {error.strerror or error}") from None
        try:
            gates = gates_from_dive_ci(text, str(ci))
        except GateError as error:
            raise _Usage(str(error)) from None
    options = (
        ("max_size", "--max-size", args.max_size, size),
        ("lowest_efficiency", "--lowest-efficiency", args.lowest_efficiency, parse_ratio),
        ("highest_wasted_bytes", "--highest-wasted-bytes", args.highest_wasted_bytes, size),
        (
            "highest_user_wasted_percent",
            "--highest-user-wasted-percent",
            args.highest_user_wasted_percent,
            parse_ratio,
        ),
    )
    values: dict[str, Any] = {}
    for name, option, value, parse in options:
        if value is None:
            continue
        try:
            values[name] = parse(value)
        except GateError as error:
            raise _Usage(f"{option}: must be {error}") from None
    return gates.merged(Gates(**values))


def _use_color(args: argparse.Namespace) -> bool:
    import os

    if args.no_color or args.output or args.format != "text":
        return False
    return not os.environ.get("NO_COLOR") and sys.stdout.isatty()


# -- the image object and the layer table ----------------------------------------------------


def image_json(facts: ImageFacts) -> Mapping[str, Any]:
    """The `image` object of the JSON contract (issue 7), plus the detail behind it."""
    dive = facts.dive
    return {
        "source": facts.source,
        "reference": facts.reference or None,
        "platform": facts.platform,
        "config_digest": facts.config_digest,
        "manifest_digest": facts.manifest_digest or None,
        "size_bytes": facts.size_bytes,
        "visible_bytes": facts.visible_bytes,
        "wasted_bytes": facts.wasted_bytes,
        "efficiency": round(facts.efficiency, 6),
        "user_wasted_percent": round(facts.user_wasted_percent, 6),
        "dive": {
            "efficiency": round(dive.efficiency, 6),
            "wasted_bytes": dive.wasted_bytes,
            "user_wasted_percent": round(dive.user_wasted_percent, 6),
            "size_bytes": dive.size_bytes,
        },
        "layers": [
            {
                "index": layer.index,
                "digest": layer.digest,
                "diff_id": layer.diff_id,
                "size_bytes": layer.size_bytes,
                "compressed_bytes": layer.compressed_bytes,
                "created_by": layer.created_by,
                "wasted_bytes": layer.wasted_bytes,
                "hides_bytes": layer.hides_bytes,
                "efficiency": round(layer.efficiency, 6),
                "added": layer.added,
                "changed": layer.changed,
                "removed": layer.removed,
                "largest_files": [
                    {"path": "/" + item.path, "size_bytes": item.size} for item in layer.largest
                ],
            }
            for layer in facts.layers
        ],
        "largest_files": [
            {"path": "/" + item.path, "size_bytes": item.size, "layer": item.layer}
            for item in facts.largest_files[:10]
        ],
        "largest_dirs": [
            {"path": "/" + item.path, "size_bytes": item.size} for item in facts.largest_dirs[:10]
        ],
        "hidden_files": [
            {
                "path": "/" + hidden.path,
                "size_bytes": hidden.size,
                "stored_in": hidden.stored_in,
                "hidden_by": hidden.hidden_by,
                "how": hidden.how,
            }
            for hidden in sorted(facts.hidden, key=lambda h: (-h.size, h.path))[:50]
        ],
        "hidden_files_total": len(facts.hidden),
        "waste": [
            {
                "kind": item.kind,
                "path": "/" + item.path,
                "size_bytes": item.size,
                "files": item.files,
                "layer": item.layer,
            }
            for item in facts.waste[:30]
        ],
        "secrets_scanned": facts.secrets_scanned,
        "layers_verified": facts.layers_verified,
    }


def _command(created_by: str, width: int) -> str:
    command = " ".join(created_by.split())
    for prefix in ("/bin/sh -c #(nop) ", "/bin/sh -c "):
        if command.startswith(prefix):
            command = command[len(prefix) :]
    if command.endswith("# buildkit"):
        command = command[: -len("# buildkit")].rstrip()
    return command if len(command) <= width else command[: width - 3] + "..."


def layer_table(facts: ImageFacts) -> str:
    """The image summary and one line per layer: size, compressed size, wasted bytes,
    efficiency, the command that made it and its largest file."""
    from dockwise.imagescan.facts import human_bytes as _size
    from dockwise.secrets import redact_source_line

    name = facts.reference or facts.source
    unverified = "" if facts.layers_verified else ", not verified: --no-verify"
    lines = [
        f"image {name} ({facts.platform}, {len(facts.layers)} layers{unverified})",
        f"  size {_size(facts.size_bytes)}, visible {_size(facts.visible_bytes)}, "
        f"wasted {_size(facts.wasted_bytes)}, efficiency {facts.efficiency:.1%}",
        f"  dive would say: efficiency {facts.dive.efficiency:.1%}, "
        f"wasted {_size(facts.dive.wasted_bytes)}, "
        f"user wasted {facts.dive.user_wasted_percent:.1%}",
        "",
        f"  {'#':>3} {'size':>9} {'packed':>9} {'wasted':>9} {'eff':>6}  command / largest file",
    ]
    for layer in facts.layers:
        lines.append(
            f"  {layer.index:>3} {_size(layer.size_bytes):>9} {_size(layer.compressed_bytes):>9} "
            f"{_size(layer.wasted_bytes):>9} {layer.efficiency:>6.0%}  "
            f"{_command(redact_source_line(layer.created_by), 70)}"
        )
        if layer.largest:
            top = layer.largest[0]
            lines.append(f"  {'':>47}  largest: /{top.path} ({_size(top.size)})")
    if facts.largest_files:
        lines.append("")
        lines.append("  largest files:")
        for item in facts.largest_files[:5]:
            lines.append(f"    {_size(item.size):>9}  /{item.path} (layer {item.layer})")
    if facts.hidden:
        lines.append("")
        lines.append("  largest files the final filesystem does not show:")
        for hidden in sorted(facts.hidden, key=lambda h: (-h.size, h.path))[:5]:
            lines.append(
                f"    {_size(hidden.size):>9}  /{hidden.path} (layer {hidden.stored_in}, "
                f"{hidden.how} by layer {hidden.hidden_by})"
            )
    return "\n".join(lines) + "\n"
