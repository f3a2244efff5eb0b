"""Findings, severities, locations and the metadata every rule carries."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from msgspec import Struct

if TYPE_CHECKING:
    from dockwise.project import Project

LESSONS = (
    "size",
    "health",
    "logging",
    "limits",
    "secrets",
    "runtime",
    "debugging",
    "security",
    "general",
)


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (use error, warning or info)") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class Related(Struct, frozen=True):
    """Another place a finding involves (the COPY that takes a secret, the ignore line...)."""

    path: str
    line: int | None
    message: str


class Hit(Struct, frozen=True):
    """What a rule yields: where and what; the engine adds the rule's metadata."""

    path: str
    line: int | None
    message: str
    column: int | None = None
    fix: str | None = None
    related: tuple[Related, ...] = ()
    # stable identity for baselines when the message alone would not do (secrets)
    fingerprint: str | None = None
    # extra codes a pragma may name to silence this one hit (a ShellCheck SC code)
    aliases: tuple[str, ...] = ()
    # a rule may judge one hit milder or graver than its default (configuration still wins)
    severity: Severity | None = None


class Finding(Struct, frozen=True):
    """A rule's hit with the rule's metadata: what every report prints."""

    rule: str
    lesson: str
    severity: Severity
    path: str
    line: int | None
    column: int | None
    message: str
    fix: str
    related: tuple[Related, ...] = ()
    fingerprint: str | None = None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        # the message breaks ties: findings come from a set, and a report must not change
        # order from one run to the next
        return (self.path, self.line or 0, self.column or 0, self.rule, self.message)

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "rule": self.rule,
            "lesson": self.lesson,
            "severity": self.severity.label,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "fix": self.fix,
        }
        if self.related:
            data["related"] = [
                {"path": r.path, "line": r.line, "message": r.message} for r in self.related
            ]
        return data


# An example is a Dockerfile's text, or a small project: {relative path: file text}.
Example = str | Mapping[str, str]


class RuleMeta:
    """A rule's documentation. The rationale and the examples are kept as the rule wrote
    them and tidied when first read (docs, `explain`, SARIF): a check never reads them, and
    tidying ~170 of them would cost every start-up.

    A plain class with slots, not a dataclass: ~170 of them are made at every start-up and
    nothing compares, hashes or copies them."""

    __slots__ = (
        "id",
        "lesson",
        "severity",
        "title",
        "why_as_written",
        "fix",
        "bad_as_written",
        "good_as_written",
        "also",
        "default_enabled",
        "example_config",
        "_tidied",
    )

    def __init__(
        self,
        id: str,
        lesson: str,
        severity: Severity,
        title: str,
        why_as_written: str,
        fix: str,
        bad_as_written: Example,
        good_as_written: Example,
        also: tuple[str, ...] = (),
        default_enabled: bool = True,
        example_config: Mapping[str, object] | None = None,
    ) -> None:
        self.id = id
        self.lesson = lesson
        self.severity = severity
        self.title = title
        self.why_as_written = why_as_written
        self.fix = fix
        self.bad_as_written = bad_as_written
        self.good_as_written = good_as_written
        self.also = also
        # off by default: enabled by `select` or, for schema rules, by their configuration
        self.default_enabled = default_enabled
        # extra settings an example needs to run (e.g. a label schema), same shape as config
        self.example_config: Mapping[str, object] = example_config or {}
        self._tidied: dict[str, object] = {}

    def __repr__(self) -> str:
        return f"RuleMeta(id={self.id!r}, lesson={self.lesson!r}, title={self.title!r})"

    @property
    def why(self) -> str:
        """Why it matters, as Markdown paragraphs."""
        if "why" not in self._tidied:
            self._tidied["why"] = _prose(self.why_as_written)
        return self._tidied["why"]  # type: ignore[return-value]

    @property
    def bad(self) -> Example:
        """An example the rule reports: a Dockerfile's text, or {relative path: text}."""
        if "bad" not in self._tidied:
            self._tidied["bad"] = _example(self.bad_as_written)
        return self._tidied["bad"]  # type: ignore[return-value]

    @property
    def good(self) -> Example:
        """The same example done right: the rule reports nothing on it."""
        if "good" not in self._tidied:
            self._tidied["good"] = _example(self.good_as_written)
        return self._tidied["good"]  # type: ignore[return-value]


RuleCheck = Callable[["Project"], Iterable[Hit]]


class Rule:
    """A check and the metadata that documents it (a plain class with slots, as RuleMeta)."""

    __slots__ = ("meta", "check")

    def __init__(self, meta: RuleMeta, check: RuleCheck) -> None:
        self.meta = meta
        self.check = check

    def __repr__(self) -> str:
        return f"Rule({self.meta.id})"

    @property
    def id(self) -> str:
        return self.meta.id


def rule(
    id: str,
    *,
    lesson: str,
    severity: str,
    title: str,
    why: str,
    fix: str,
    bad: Example,
    good: Example,
    also: Iterable[str] = (),
    default_enabled: bool = True,
    example_config: Mapping[str, object] | None = None,
) -> Callable[[RuleCheck], Rule]:
    """Turn a check function into a Rule carrying its documentation."""
    if lesson not in LESSONS:
        raise ValueError(f"{id}: unknown lesson {lesson}")
    meta = RuleMeta(
        id=id,
        lesson=lesson,
        severity=Severity.parse(severity),
        title=title,
        why_as_written=why,
        fix=" ".join(fix.split()),  # one paragraph: it is printed after "fix:" on one line
        bad_as_written=bad,
        good_as_written=good,
        also=tuple(also),
        default_enabled=default_enabled,
        example_config=example_config,
    )

    def wrap(check: RuleCheck) -> Rule:
        return Rule(meta=meta, check=check)

    return wrap


def _example(example: Example) -> Example:
    """An example with each file's common indentation removed (a generated example, a
    Mapping of another type, builds its files itself and is kept as it is)."""
    if isinstance(example, str):
        return _dedent(example)
    if type(example) is dict:
        return {name: _dedent(text) for name, text in example.items()}
    return example


def _dedent(text: str) -> str:
    """An example file: common indentation removed, one final newline."""
    import textwrap

    return textwrap.dedent(text).strip("\n") + "\n"


def _prose(text: str) -> str:
    """Rationale text as Markdown paragraphs: no indentation (it would read as code), one
    blank line between paragraphs, whatever the pieces it was assembled from."""
    paragraphs: list[list[str]] = [[]]
    for line in text.strip().splitlines():
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return "\n\n".join("\n".join(lines) for lines in paragraphs if lines)
