"""`dockwise limits`: recommend memory and CPU limits from observed usage.

    dockwise limits --docker-stats FILE
    dockwise limits --cgroup PATH [--duration 60s] [--interval 1s]
    dockwise limits --prometheus URL --namespace NS --workload NAME --container NAME [--window 7d]
    dockwise limits measure [--duration 60s] [--interval 1s] [--load CMD] -- CMD ARGS

`configure` only declares arguments (it runs at every start-up); `run` imports the rest.
Exit status: 0 recommendations made, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockwise.limits.series import UsageSeries
    from dockwise.limits.strategy import Options, Recommendation

EXIT_OK, EXIT_USAGE = 0, 2
UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(text: str) -> float:
    """`60s`, `5m`, `2h`, `7d`, `1w` or plain seconds."""
    value = text.strip().lower()
    unit = 1.0
    if value and value[-1] in UNITS:
        unit = UNITS[value[-1]]
        value = value[:-1]
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration (60s, 5m, 2h, 7d)") from None
    if not (number >= 0 and number * unit < 10 * 365 * 86400):
        raise argparse.ArgumentTypeError(f"'{text}' is not a sensible duration")
    return number * unit


def _headroom(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a headroom (0.5 or 50%)") from None
    if not (0 <= value <= 10):
        raise argparse.ArgumentTypeError(f"headroom {text} is out of range (0 to 10)")
    return value


def _common(parser: argparse.ArgumentParser, inner: bool) -> None:
    """Options both `dockwise limits` and `dockwise limits measure` take. On the inner
    parser they default to SUPPRESS, so that they never overwrite the outer ones."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if inner else value

    parser.add_argument(
        "--duration",
        type=parse_duration,
        default=default(60.0),
        help="how long to sample a cgroup or a command (default 60s)",
    )
    parser.add_argument(
        "--interval",
        type=parse_duration,
        default=default(None),
        help="time between samples (default 1s; for a capture without times, 10s)",
    )
    parser.add_argument(
        "--headroom",
        type=_headroom,
        default=default(0.5),
        help="the lesson's headroom over the peak, and the adaptive rule's ceiling (0.5)",
    )
    parser.add_argument(
        "--horizon",
        type=parse_duration,
        default=default(7 * 86400.0),
        help="how far ahead a leak is extrapolated (default 7d)",
    )
    parser.add_argument(
        "--strategy",
        choices=("auto", "lesson"),
        default=default("auto"),
        help="auto: adaptive once a day of data is there; lesson: always peak x (1+headroom)",
    )
    parser.add_argument(
        "--cpu-limit",
        action=argparse.BooleanOptionalAction,
        default=default(None),
        help="recommend a CPU limit (default: yes, except for Kubernetes)",
    )
    parser.add_argument(
        "--memory-request",
        choices=("limit", "p95"),
        default=default("limit"),
        help="memory request: equal to the limit (default) or the observed p95",
    )
    parser.add_argument("--format", "-f", choices=("text", "json"), default=default("text"))
    parser.add_argument("--output", "-o", metavar="FILE", default=default(None))
    parser.add_argument(
        "--apply",
        metavar="PATH",
        default=default(None),
        help="write the limits into this compose file or Kubernetes manifest (diff first)",
    )
    parser.add_argument(
        "--service",
        metavar="NAME",
        default=default(None),
        help="the compose service or Kubernetes container --apply writes (default: by name)",
    )
    parser.add_argument(
        "--chart", metavar="FILE.svg", default=default(None), help="draw usage and the limit"
    )
    parser.add_argument("--debug", action="store_true", default=default(False))


EXAMPLES = """\
examples:
  dockwise limits --docker-stats stats.jsonl --project shop
  dockwise limits --cgroup /sys/fs/cgroup/system.slice/app.service --duration 10m
  dockwise limits --prometheus http://prometheus:9090 --namespace shop --workload web
  dockwise limits measure --duration 60s --load "python load.py" -- gunicorn app:app
  dockwise limits --docker-stats stats.jsonl --apply compose.yaml --chart usage.svg

The lesson's rule (peak x (1 + headroom)) is always shown and is what a window under a day
gets; with a day or more, an adaptive rule reads the daily cycle, spikes, leaks and
restarts. `-f json -o dockwise-usage.json` writes the file `dockwise check --usage` reads.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EXAMPLES
    source = parser.add_argument_group("where the usage comes from (one of)")
    source.add_argument(
        "--docker-stats", metavar="FILE", help="a `docker stats` JSON-lines capture"
    )
    source.add_argument(
        "--project",
        metavar="NAME",
        help="the compose project of a capture: PROJECT-SERVICE-N containers become SERVICE",
    )
    source.add_argument("--cgroup", metavar="PATH", help="a cgroup folder, sampled live")
    source.add_argument("--prometheus", metavar="URL", help="a Prometheus server (cAdvisor)")
    source.add_argument("--namespace", help="Kubernetes namespace (with --prometheus)")
    source.add_argument("--workload", help="Kubernetes workload name (with --prometheus)")
    source.add_argument(
        "--container", help="container name (with --prometheus; default: every container)"
    )
    source.add_argument(
        "--window",
        type=parse_duration,
        default=7 * 86400.0,
        help="how far back to query Prometheus (default 7d)",
    )
    source.add_argument("--step", type=parse_duration, help="Prometheus query step")
    _common(parser, inner=False)
    actions = parser.add_subparsers(dest="limits_action", metavar="measure")
    measure = actions.add_parser(
        "measure", help="start a command, optionally load it, sample its processes"
    )
    measure.add_argument("--load", metavar="CMD", help="a load command run against the service")
    measure.add_argument(
        "--ready-url", metavar="URL", help="wait until this URL answers before loading"
    )
    _common(measure, inner=True)
    measure.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD ARGS")


def _error(message: str) -> int:
    from dockwise.report import printable

    print(printable(f"dockwise: error: {message}"), file=sys.stderr)
    return EXIT_USAGE


def run(args: argparse.Namespace, debug: bool = False) -> int:
    from dockwise.limits.errors import LimitsError

    try:
        return _run(args)
    except LimitsError as error:
        return _error(str(error))


def _sources(args: argparse.Namespace) -> list[str]:
    chosen = [
        name
        for name, value in (
            ("--docker-stats", args.docker_stats),
            ("--cgroup", args.cgroup),
            ("--prometheus", args.prometheus),
        )
        if value
    ]
    if getattr(args, "limits_action", None) == "measure":
        chosen.append("measure")
    return chosen


def collect(args: argparse.Namespace) -> list[UsageSeries]:
    """The usage series the arguments name."""
    from dockwise.limits.errors import LimitsError

    chosen = _sources(args)
    if not chosen:
        raise LimitsError(
            "give the usage: --docker-stats FILE, --cgroup PATH, --prometheus URL, "
            "or `measure -- CMD`"
        )
    if len(chosen) > 1:
        raise LimitsError(f"give one source of usage, not {' and '.join(chosen)}")
    if args.interval is not None and args.interval <= 0:
        raise LimitsError("--interval must be more than 0")
    interval = args.interval or 1.0
    source = chosen[0]
    if source == "--docker-stats":
        from dockwise.limits.dockerstats import read_docker_stats

        if args.interval is None:
            return read_docker_stats(args.docker_stats, project=args.project)
        return read_docker_stats(args.docker_stats, interval=args.interval, project=args.project)
    if source == "--cgroup":
        from dockwise.limits.cgroups import sample_cgroup

        return [sample_cgroup(args.cgroup, args.duration, interval)]
    if source == "measure":
        from dockwise.limits.process import measure

        argv = list(args.argv)
        if argv and argv[0] == "--":
            argv = argv[1:]
        return [measure(argv, args.duration, args.interval, args.load, ready_url=args.ready_url)]
    return _prometheus(args)


def _prometheus(args: argparse.Namespace) -> list[UsageSeries]:
    import time

    from dockwise.limits.errors import LimitsError

    missing = [
        option
        for option, value in (("--namespace", args.namespace), ("--workload", args.workload))
        if not value
    ]
    if missing:
        raise LimitsError(f"--prometheus needs {', '.join(missing)}")
    try:
        from dockwise.limits.prometheus import query_prometheus
    except ImportError:
        raise LimitsError("this dockwise cannot read Prometheus yet") from None
    end = time.time()
    start = end - args.window
    step = args.step or max(60.0, round(args.window / 10000))
    return query_prometheus(
        args.prometheus,
        namespace=args.namespace,
        workload=args.workload,
        container=args.container,
        start=start,
        end=end,
        step=step,
    )


def options_of(args: argparse.Namespace, kubernetes: bool) -> Options:
    from dockwise.limits.strategy import Options

    return Options(
        headroom=args.headroom,
        horizon_s=args.horizon,
        strategy=args.strategy,
        cpu_limit=args.cpu_limit,
        kubernetes=kubernetes,
        memory_request=args.memory_request,
    )


def _run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dockwise.limits.errors import LimitsError
    from dockwise.limits.output import to_json, to_text
    from dockwise.limits.strategy import recommend

    target = None
    if args.apply:
        from dockwise.limits.apply import open_target

        target = open_target(Path(args.apply))
    series = collect(args)
    if not series:
        raise LimitsError("the source holds no container's usage")
    kubernetes = bool(args.prometheus) or (target is not None and target.kind == "kubernetes")
    options = options_of(args, kubernetes)
    recs = [recommend(one, options) for one in series]
    if target is not None:
        recs = [_with_current(rec, target, args.service, len(recs)) for rec in recs]
    text = to_json(recs) if args.format == "json" else to_text(recs)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise LimitsError(f"{args.output}: cannot write: {error.strerror}") from None
    else:
        sys.stdout.write(text)
    if args.chart:
        _chart(args.chart, recs)
    if target is not None:
        _apply(target, recs, args.service)
    return EXIT_OK


def _with_current(
    rec: Recommendation, target: object, service: str | None, count: int
) -> Recommendation:
    """The current limits the --apply file sets (the ones the diff replaces), else the
    ones the series carries."""
    from msgspec.structs import replace

    from dockwise.limits.apply import Target

    assert isinstance(target, Target)
    name = service if service and count == 1 else None
    current = target.current(rec.container, name)
    if current is None:
        return rec
    memory, cpu = current
    return replace(
        rec,
        memory_current_limit=memory if memory is not None else rec.memory_current_limit,
        cpu_current_limit=cpu if cpu is not None else rec.cpu_current_limit,
    )


def _chart(path: str, recs: list[Recommendation]) -> None:
    from pathlib import Path

    from dockwise.limits.chart import svg_chart
    from dockwise.limits.errors import LimitsError

    try:
        Path(path).write_text(svg_chart(recs), encoding="utf-8")
    except OSError as error:
        raise LimitsError(f"{path}: cannot write: {error.strerror}") from None
    print(f"dockwise: chart written to {path}", file=sys.stderr)


def _apply(target: object, recs: list[Recommendation], service: str | None) -> None:
    from dockwise.limits.apply import Target

    assert isinstance(target, Target)
    diff = target.apply(recs, service)
    for name in target.skipped:
        print(
            f"dockwise: note: {target.path} has no place for {name}: not written", file=sys.stderr
        )
    if not diff:
        print(f"dockwise: {target.path}: already holds these limits", file=sys.stderr)
        return
    sys.stderr.write(diff)
    target.write()
    print(f"dockwise: limits written to {target.path}", file=sys.stderr)
