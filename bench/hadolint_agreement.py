"""Agreement with hadolint on the rules both tools have, disagreement by disagreement.

    python bench/hadolint_agreement.py [--hadolint PATH] [--count 500] [--show N]

Runs both tools on the generated corpus (bench/gen_dockerfiles.py) plus the hand-written cases in
bench/agreement_cases/, compares (file, line, hadolint code) for every hadolint code a
dockwise rule names in `also`, and prints a table per code. Every disagreement is then
explained: each known, intended difference is recognised by a predicate below and counted
under its explanation; anything else is printed as UNEXPLAINED (a bug to fix, or a new
explanation to write here).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gen_dockerfiles import generate  # noqa: E402
from speed import dockwise_command, ensure_hadolint  # noqa: E402

from dockwise.sources.dockerfile import Dockerfile, parse_dockerfile  # noqa: E402

Key = tuple[str, int, str]  # (file, line, hadolint code)


@dataclass(frozen=True)
class Case:
    file: str
    line: int
    code: str
    side: str  # "hadolint only" or "dockwise only"
    dockerfile: Dockerfile

    @property
    def text(self) -> str:
        lines = self.dockerfile.lines
        return lines[self.line - 1].strip() if 0 < self.line <= len(lines) else ""

    @property
    def stage_ships(self) -> bool:
        chain = {s.index for s in self.dockerfile.shipped_chain()}
        for stage in self.dockerfile.stages:
            if stage.from_instruction.start_line <= self.line and (
                not stage.instructions or self.line <= stage.instructions[-1].end_line
            ):
                return stage.index in chain
        return True


# rules dockwise judges on the shipped image only: caches, layer merging, health checks,
# users and recommends in a builder stage never reach production
SHIPPED_ONLY = {
    "DL3002",
    "DL3009",
    "DL3015",
    "DL3019",
    "DL3032",
    "DL3036",
    "DL3040",
    "DL3042",
    "DL3046",
    "DL3057",
    "DL3059",
    "DL3060",
    "DL3066",
    "DL3067",
    "DL3025",
}


def _in_builder_stage(case: Case) -> bool:
    return case.code in SHIPPED_ONLY and case.side == "hadolint only" and not case.stage_ships


def _no_user_at_all(case: Case) -> bool:
    return (
        case.code == "DL3002"
        and case.side == "dockwise only"
        and "USER" not in case.dockerfile.text
    )


def _arg_resolved_from(case: Case) -> bool:
    return case.code in ("DL3006", "DL3007") and "${" in case.text


def _heredoc(case: Case) -> bool:
    return any(
        i.heredocs and i.start_line <= case.line <= i.end_line for i in case.dockerfile.instructions
    ) or ("<<" in case.text)


def _pip_self_upgrade(case: Case) -> bool:
    return case.code == "DL3013" and case.side == "hadolint only" and "pip" in case.text


def _named_context(case: Case) -> bool:
    return case.code == "DL3022" and case.side == "hadolint only"


def _cd_then_returns(case: Case) -> bool:
    return case.code == "DL3003" and case.side == "hadolint only"


def _dash_not_a_pin(case: Case) -> bool:
    return case.code in ("DL3033", "DL3041", "DL3037") and case.side == "dockwise only"


def _pip_cache_env(case: Case) -> bool:
    return case.code == "DL3042" and "PIP_NO_CACHE_DIR" in case.dockerfile.text


def _dot_destination(case: Case) -> bool:
    return (
        case.code == "DL3021" and case.side == "hadolint only" and case.text.rstrip().endswith(" .")
    )


def _large_uid(case: Case) -> bool:
    return case.code == "DL3046"


def _shell_form_healthcheck(case: Case) -> bool:
    return case.code == "DL3025" and case.text.startswith("HEALTHCHECK")


def _shell_execs_lone_command(case: Case) -> bool:
    """`CMD python app.py` on an image whose /bin/sh is bash or busybox ash (or an image
    dockwise does not know, where DW601 says "could not verify" at info only): a lone simple
    command replaces the shell, so the process is PID 1 and gets SIGTERM."""
    from dockwise.baseimages import base_shell

    if case.code != "DL3025" or case.side != "hadolint only":
        return False
    if not case.text.startswith(("CMD", "ENTRYPOINT")):
        return False
    stage = next(
        (s for s in reversed(case.dockerfile.stages) if s.instructions[0].start_line <= case.line),
        None,
    )
    base = stage.base_resolved if stage is not None else None
    return base is not None and base_shell(base) in ("ash", "bash", None)


def _no_service_image(case: Case) -> bool:
    return case.code == "DL3057" and case.side == "hadolint only"


def _name_without_literal(case: Case) -> bool:
    if case.code != "DL3064" or case.side != "hadolint only":
        return False
    value = case.text.partition("=")[2].strip() if "=" in case.text else ""
    return value == "" or value.startswith(("/", "$"))


def _apt_not_apt_get(case: Case) -> bool:
    return (
        case.code in ("DL3015", "DL3009", "DL3014")
        and case.side == "dockwise only"
        and "apt install" in case.text
    )


def _zypper_upgrade_cache(case: Case) -> bool:
    return case.code == "DL3036" and case.side == "dockwise only" and "zypper" in case.text


def _behind_wrapper(case: Case) -> bool:
    """`sudo apt-get install`, `xargs apt-get install`: the package manager still runs."""
    return case.side == "dockwise only" and any(
        f"{wrapper} {tool}" in case.text
        for wrapper in ("sudo", "xargs", "env")
        for tool in ("apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper", "pip")
    )


def _root_by_name(case: Case) -> bool:
    return (
        case.code == "DL3066"
        and case.side == "hadolint only"
        and case.text.split()[-1] in ("root", "0")
    )


EXPLANATIONS: list[tuple[str, Callable[[Case], bool]]] = [
    (
        "shell-form CMD/ENTRYPOINT of a lone command where /bin/sh is bash or busybox ash "
        "(it execs the command: PID 1 gets SIGTERM) or unknown (DW601 at info)",
        _shell_execs_lone_command,
    ),
    (
        "builder stage that does not ship: stage-local rules judge the shipped image",
        _in_builder_stage,
    ),
    ("no USER at all also runs as root (DL3002 only sees an explicit USER root)", _no_user_at_all),
    ("FROM resolved through ARG defaults (hadolint#219, #858)", _arg_resolved_from),
    ("heredoc script, which hadolint lints as one line (hadolint#682, #1137)", _heredoc),
    (
        "pip/setuptools/wheel self-upgrade or an install from a lock/constraints file",
        _pip_self_upgrade,
    ),
    (
        "COPY --from a named build context or image, not a stage (hadolint#830, #1124)",
        _named_context,
    ),
    ("`cd` followed by a return, or not the first command: deliberate", _cd_then_returns),
    (
        "`name-devel` is a package name, not a version pin (hadolint takes any dash)",
        _dash_not_a_pin,
    ),
    ("PIP_NO_CACHE_DIR set to any boolean disables the cache, 0/false included", _pip_cache_env),
    ("`COPY a b .`: BuildKit treats `.` as a directory", _dot_destination),
    ("UID threshold: dockwise flags UIDs above 65535, hadolint six digits", _large_uid),
    (
        "HEALTHCHECK CMD in shell form is fine when the image has /bin/sh; DW601 judges CMD/ENTRYPOINT",
        _shell_form_healthcheck,
    ),
    (
        "a credential name without a literal value (`ARG GITHUB_TOKEN`, `*_FILE=/run/secrets/x`) is not a secret (hadolint#1230, #1245)",
        _name_without_literal,
    ),
    (
        "`apt install` is checked like `apt-get install` (DL3027 also asks for apt-get)",
        _apt_not_apt_get,
    ),
    (
        "zypper dist-upgrade fills the package cache too, so it needs `zypper clean`",
        _zypper_upgrade_cache,
    ),
    ("USER root is reported by DW801 (runs as root), not as a by-name USER", _root_by_name),
    (
        "a package manager behind sudo, xargs or env is read like a direct call",
        _behind_wrapper,
    ),
    (
        "no HEALTHCHECK in an image without CMD/ENTRYPOINT (a base image), or checked elsewhere",
        _no_service_image,
    ),
]


def hadolint_codes() -> dict[str, list[str]]:
    """dockwise rule id -> the hadolint codes it names."""
    listing = json.loads(
        subprocess.run(
            [*dockwise_command(), "rules", "--format", "json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    return {
        row["id"]: [a.split(":", 1)[1] for a in row["also"] if a.startswith("hadolint:")]
        for row in listing
        if any(a.startswith("hadolint:DL") for a in row["also"])
    }


def run_hadolint(hadolint: str, files: list[str], cwd: Path) -> tuple[set[Key], set[str]]:
    result = subprocess.run(
        [hadolint, "--no-fail", "--format", "json", "--warning", "DL3057", *files],
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    found: set[Key] = set()
    unparsed: set[str] = set()
    for item in json.loads(result.stdout or "[]"):
        if item["code"] == "DL1000":
            unparsed.add(item["file"])
        found.add((item["file"], item["line"], item["code"]))
    return found, unparsed


def run_dockwise(files: list[str], cwd: Path, mapping: dict[str, list[str]]) -> set[Key]:
    result = subprocess.run(
        [
            *dockwise_command(),
            "check",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--select",
            ",".join(mapping),
            *files,
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    found: set[Key] = set()
    for finding in json.loads(result.stdout)["findings"]:
        for code in mapping.get(finding["rule"], []):
            found.add((finding["path"], finding["line"] or 0, code))
    return found


def explain(case: Case) -> str | None:
    for text, applies in EXPLANATIONS:
        if applies(case):
            return text
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hadolint")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--show", type=int, default=40, help="unexplained cases to print")
    args = parser.parse_args()
    hadolint = ensure_hadolint(args.hadolint)
    if hadolint is None:
        raise SystemExit("hadolint is not available")
    mapping = hadolint_codes()
    shared_codes = {code for codes in mapping.values() for code in codes}

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = generate(folder / "corpus", args.count, seed=11)
        for case_file in sorted((HERE / "agreement_cases").glob("*.Dockerfile")):
            target = folder / "cases" / case_file.stem / "Dockerfile"
            target.parent.mkdir(parents=True)
            target.write_text(case_file.read_text(encoding="utf-8"), encoding="utf-8")
            paths.append(target)
        files = [str(p.relative_to(folder)) for p in paths]
        theirs, unparsed = run_hadolint(hadolint, files, folder)
        ours = run_dockwise(files, folder, mapping)
        models = {
            f: parse_dockerfile((folder / f).read_text(encoding="utf-8"), relpath=f) for f in files
        }

    theirs = {k for k in theirs if k[2] in shared_codes and k[0] not in unparsed}
    ours_parsed = {k for k in ours if k[0] not in unparsed}
    print(
        f"{len(files)} Dockerfiles; hadolint could not parse {len(unparsed)} (it then checks nothing in them;"
        f" dockwise found {len(ours) - len(ours_parsed)} findings of shared rules there)"
    )
    print(
        f"compared on {len(files) - len(unparsed)} files, {len(shared_codes)} shared hadolint codes\n"
    )

    per_code: dict[str, Counter[str]] = defaultdict(Counter)
    cases: list[Case] = []
    for key in theirs | ours_parsed:
        side = (
            "both"
            if key in theirs and key in ours_parsed
            else "hadolint only"
            if key in theirs
            else "dockwise only"
        )
        per_code[key[2]][side] += 1
        if side != "both":
            cases.append(Case(key[0], key[1], key[2], side, models[key[0]]))
    print(f"{'code':<8} {'both':>6} {'hadolint only':>14} {'dockwise only':>14}")
    for code in sorted(per_code):
        c = per_code[code]
        print(f"{code:<8} {c['both']:>6} {c['hadolint only']:>14} {c['dockwise only']:>14}")
    agreed = sum(c["both"] for c in per_code.values())
    print(f"\nagreement: {agreed} findings in both, {len(cases)} disagreements")

    explained = Counter(explain(case) for case in cases)
    print("\nDisagreements by explanation:")
    for text, count in explained.most_common():
        if text:
            print(f"  {count:>5}  {text}")
    unexplained = [case for case in cases if explain(case) is None]
    print(f"  {len(unexplained):>5}  UNEXPLAINED")
    for case in sorted(unexplained, key=lambda c: (c.code, c.file, c.line))[: args.show]:
        print(f"    {case.code} {case.side:<14} {case.file}:{case.line}: {case.text[:100]}")


if __name__ == "__main__":
    main()
