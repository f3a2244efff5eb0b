"""Table-driven tests for the exact .dockerignore matcher.

Sources of the expectations (cited per case):
  [docs]   docs.docker.com "Build context" > ".dockerignore files" (examples and prose)
  [pm]     moby/patternmatcher patternmatcher.go and its patternmatcher_test.go
  [read]   moby/patternmatcher/ignorefile ReadAll (and ignorefile_test.go)
  [fsutil] tonistiigi/fsutil walker: MatchesUsingParentResults with each directory's
           MatchInfo handed to its entries (what BuildKit sends)
  [go]     Go's filepath.Match / filepath.Clean / regexp (RE2) behaviour
"""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockwise.sources.dockerignore import (
    MAX_IGNORE_FILE_BYTES,
    DockerIgnore,
    always_sent,
    find_ignore_file,
    load_dockerignore,
    parse_dockerignore,
)

DOCS_TEMP = "# comment\n*/temp*\n*/*/temp*\ntemp?\n"
MD_README = "*.md\n!README.md\n"
MD_SECRET_LAST = "*.md\n!README*.md\nREADME-secret.md\n"
MD_SECRET_MIDDLE = "*.md\nREADME-secret.md\n!README*.md\n"
WHITELIST = "*\n!app/\n"
DOTENV = ".env*\n!.env.production\n"
WHL = "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"

# (ignore-file text, path, expected ignored)
CASES: list[tuple[str, str, bool]] = [
    # [docs] "*/temp*": names starting with temp in any immediate subdirectory of the root
    (DOCS_TEMP, "somedir/temporary.txt", True),
    (DOCS_TEMP, "somedir/temp", True),
    (DOCS_TEMP, "somedir/temp/inner.txt", True),  # [fsutil] excluded dir covers its files
    # [docs] "*/*/temp*": two levels below the root
    (DOCS_TEMP, "somedir/subdir/temporary.txt", True),
    # [docs] "temp?": one-character extension of temp in the root
    (DOCS_TEMP, "tempa", True),
    (DOCS_TEMP, "tempb", True),
    (DOCS_TEMP, "temp", False),  # [go] '?' needs exactly one character
    (DOCS_TEMP, "tempab", False),
    (DOCS_TEMP, "temporary.txt", False),  # [docs] */temp* needs a directory level
    (DOCS_TEMP, "a/b/c/temp.txt", False),  # three levels: no pattern covers it
    (DOCS_TEMP, "# comment", False),  # [docs] '#' in column 1 is a comment
    # [docs] "**/*.go excludes all files that end with .go found anywhere"
    ("**/*.go\n", "main.go", True),
    ("**/*.go\n", "cmd/tool/main.go", True),
    ("**/*.go\n", "cmd/tool/main.gox", False),
    # [docs] *.md + !README.md: root markdown except README; subdirectories untouched
    (MD_README, "CHANGELOG.md", True),
    (MD_README, "README.md", False),
    (MD_README, "docs/guide.md", False),
    # [docs] the last matching line decides
    (MD_SECRET_LAST, "README-secret.md", True),
    (MD_SECRET_LAST, "README-public.md", False),
    (MD_SECRET_LAST, "notes.md", True),
    (MD_SECRET_MIDDLE, "README-secret.md", False),  # [docs] "the middle line has no effect"
    (MD_SECRET_MIDDLE, "notes.md", True),
    # [pm] an exception listed before the exclusion is overridden by it
    ("!fileutils.go\n*.go\n", "fileutils.go", True),
    ("*.go\n!fileutils.go\n", "fileutils.go", False),
    # [docs] "/foo/bar and foo/bar both exclude ... bar in the foo subdirectory"
    ("/foo/bar\n", "foo/bar", True),
    ("/foo/bar\n", "foo/bar/baz.txt", True),
    ("/foo/bar\n", "x/foo/bar", False),
    # [read] filepath.Clean drops "./" and "." elements
    ("./build\n", "build/out.o", True),
    ("./a/./b/\n", "a/b/c", True),
    # [go] Clean removes a trailing slash: "dist/" is the pattern "dist"
    ("dist/\n", "dist", True),
    ("dist/\n", "dist/app.js", True),
    ("dist/\n", "distribution", False),
    # [go] Clean resolves "..": a/../b is b
    ("a/../b\n", "b", True),
    ("a/../b\n", "a/b", False),
    # [docs] "For historical reasons, the pattern . is ignored."
    (".\n", "anything.txt", False),
    ("./\n", "src/main.py", False),
    ("..\n", "x", False),  # outside the context: matches nothing
    ("/\n", "x", False),  # [read] "/" is kept as "/" and matches no relative path
    # [pm] "**" at the start (suffix match), the middle and the end (prefix match)
    ("**/node_modules\n", "node_modules/left-pad/index.js", True),
    ("**/node_modules\n", "web/node_modules/a/b.js", True),
    ("**/node_modules\n", "my_node_modules", False),
    ("a/**/b\n", "a/b", True),  # ** matches zero directories
    ("a/**/b\n", "a/x/y/b", True),
    ("a/**/b\n", "a/x/b/c.txt", True),  # [fsutil] via the matched directory a/x/b
    ("a/**/b\n", "ab", False),
    ("logs/**\n", "logs/2024/app.log", True),
    ("logs/**\n", "logs", False),  # [pm] {"abc/**", "abc", fail}
    ("**\n", "deep/down/file", True),
    ("**file\n", "dir/myfile", True),  # [pm] suffix match is a plain HasSuffix
    ("**/.foo\n", "bar.foo", False),  # [pm]
    ("a**/*.txt\n", "a/dir/dir/file.txt", True),  # [pm]
    # [go] character classes, negation with '^', ranges
    ("file[0-9].txt\n", "file1.txt", True),
    ("file[0-9].txt\n", "filea.txt", False),
    ("[^a]b\n", "xb", True),
    ("[^a]b\n", "ab", False),
    ("a[b-d]e\n", "ae", False),  # [pm]
    ("[a-ζ]*\n", "α", True),  # [pm] (from Go's Match tests) classes work on runes
    # [go] '*' and '?' never match '/'
    ("a?b\n", "a/b", False),
    ("*.log\n", "logs/app.log", False),
    # [pm] regexp metacharacters are literal; '.' is not "any character"
    (".*\n", ".foo", True),
    (".*\n", "foo", False),
    ("abc.def\n", "abcZdef", False),
    ("a(b)c/def\n", "a(b)c/def", True),
    ("dist/*.whl\n", WHL, True),
    (f"**\n!{WHL}\n", WHL, False),
    # [pm] '\' escapes the next character (Linux/macOS clients)
    ("a\\*b\n", "a*b", True),
    ("a\\*b\n", "axb", False),
    ("\\#notcomment\n", "#notcomment", True),
    # [pm]/[go] in regexp mode '^' is Go's begin-of-text anchor, so this matches nothing
    ("a^b*\n", "a^bc", False),
    ("a^b\n", "a^b", True),  # no wildcard: exact comparison
    # [read] '#' only starts a comment in column 1 (hadolint#813)
    ("node_modules # deps\n", "node_modules", False),
    ("node_modules # deps\n", "node_modules # deps", True),
    ("  # not a comment\n", "# not a comment", True),
    # [read] blank lines skipped, TrimSpace on each line, CRLF, BOM
    ("\n\n   build   \n\n", "build/x", True),
    ("build\t\n", "build", True),
    ("build\r\n.git\r\n", ".git/HEAD", True),
    ("\ufeffnode_modules\n", "node_modules", True),
    ("*.md\n!   README.md\n", "README.md", False),  # [read] space after '!' trimmed
    # [docs] whitelist style: everything out, app/ back in
    (WHITELIST, "app/main.py", False),
    (WHITELIST, "app/.env", False),  # app matched "!app", so all of app/ is back
    (WHITELIST, ".env", True),
    (WHITELIST, "Dockerfile", True),  # excluded (still sent to the builder: always_sent)
    (WHITELIST, "lib/util.py", True),
    # re-including one secret file
    (DOTENV, ".env", True),
    (DOTENV, ".env.local", True),
    (DOTENV, ".env.production", False),
    (DOTENV, "config/.env", False),  # patterns are anchored at the context root
    # [pm] a directory exclusion covers everything below it; exceptions inside it
    ("docs\n", "docs/a/b/c.txt", True),
    ("docs\n!docs/README.md\n", "docs/README.md", False),
    ("docs\n!docs/README.md\n", "docs/other.md", True),
    ("docs/*\n!docs/README.md\n", "docs/README.md", False),
    ("**\n!util/docker/web\n", "util/docker/web/foo", False),  # [pm] multiPatternTests
    ("**\n!util/docker/web\nutil/docker/web/foo\n", "util/docker/web/foo", True),
    # [fsutil] an exception is tested against the path itself once the walker hands down
    # the parent's MatchInfo: "!a" was skipped at "a" (nothing matched yet), so it does
    # not re-include "a/x" (MatchesOrParentMatches alone would say "included").
    ("a/x\n!a\n", "a/x", True),
    # case-sensitive
    ("README.md\n", "readme.md", False),
]


@pytest.mark.parametrize(("text", "path", "expected"), CASES)
def test_table(text: str, path: str, expected: bool) -> None:
    ignore = parse_dockerignore(text)
    assert ignore.errors == ()
    assert ignore.is_ignored(path) is expected


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 60


def test_deciding_pattern_line() -> None:
    ignore = parse_dockerignore("*.md\n\n# c\n!README*.md\nREADME-secret.md\n")
    secret = ignore.verdict("README-secret.md")
    assert secret.ignored and secret.pattern is not None
    assert (secret.pattern.line, secret.pattern.raw) == (5, "README-secret.md")
    readme = ignore.verdict("README-x.md")
    assert not readme.ignored and readme.pattern is not None
    assert readme.pattern.line == 4 and readme.pattern.exclusion
    assert readme.pattern.pattern == "README*.md"
    assert ignore.verdict("main.py").pattern is None


def test_parent_directory_decides_for_nested_file() -> None:
    ignore = parse_dockerignore("build\n")
    verdict = ignore.verdict("build/a/b.o")
    assert verdict.ignored and verdict.pattern is not None and verdict.pattern.line == 1


def test_read_all_parity() -> None:
    # [read] ignorefile_test.go content
    text = (
        "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! "
    )
    ignore = parse_dockerignore(text)
    assert [(p.line, p.pattern, p.exclusion) for p in ignore.patterns] == [
        (1, "test1", False),
        (2, "test2", False),
        (3, "a/file/here", False),
        (5, "lastfile", False),
        (7, "inverted/abs/path", True),
    ]
    assert ignore.patterns[-1].raw == "! /inverted/abs/path"
    # [pm] New() rejects a lone "!"
    assert [line for line, _ in ignore.errors] == [8, 9]
    assert all("illegal exclusion pattern" in msg for _, msg in ignore.errors)


def test_bad_patterns_are_errors_with_lines() -> None:
    text = "ok\n[abc\nfoo\\ \n\\q\nalso-ok\n"
    ignore = parse_dockerignore(text)
    assert [line for line, _ in ignore.errors] == [2, 3, 4]
    assert all("syntax error in pattern" in msg for _, msg in ignore.errors)
    assert [p.pattern for p in ignore.patterns] == ["ok", "also-ok"]
    assert ignore.is_ignored("also-ok")


def test_suspicious_lines() -> None:
    text = "node_modules # deps\n  # indented\nlogs\\app.log\n.\n!keep\nok\n"
    ignore = parse_dockerignore(text)
    assert ignore.errors == ()
    lines = {line for line, _ in ignore.suspicious}
    assert {1, 2, 3, 4} <= lines
    assert 6 not in lines
    first = [msg for line, msg in ignore.suspicious if line == 1]
    assert any("comment" in msg for msg in first)
    # [pm]/[go] "\a" is a valid RE2 escape (bell): the Windows-style path matches nothing
    assert not ignore.is_ignored("logs/app.log")


def test_windows_style_path_with_invalid_escape_is_an_error() -> None:
    # [pm] "build\output" compiles to the regexp ^build\output$; RE2 rejects "\o", so
    # Pattern.match returns ErrBadPattern and the build fails.
    ignore = parse_dockerignore("build\\output\n")
    assert [line for line, _ in ignore.errors] == [1]


def test_exception_without_earlier_exclusion_is_suspicious() -> None:
    ignore = parse_dockerignore("!keep\n*.log\n")
    assert [line for line, _ in ignore.suspicious] == [1]


def test_empty_and_missing() -> None:
    ignore = parse_dockerignore("")
    assert ignore.patterns == () and not ignore.is_ignored("anything")
    assert ignore.may_contain_included("x")


def test_root_is_never_ignored() -> None:
    ignore = parse_dockerignore("**\n")
    assert not ignore.is_ignored(".")
    assert ignore.is_ignored("./a/b")  # input paths are cleaned


def test_always_sent() -> None:
    ignore = parse_dockerignore(WHITELIST)
    assert ignore.is_ignored("Dockerfile") and always_sent("Dockerfile")
    assert always_sent(".dockerignore")
    assert always_sent("docker/app.Dockerfile", dockerfile="docker/app.Dockerfile")
    assert not always_sent("app/main.py")


# -- may_contain_included ------------------------------------------------------------------


def test_may_contain_included_prunes() -> None:
    assert not parse_dockerignore("node_modules\n").may_contain_included("node_modules")
    assert not parse_dockerignore("node_modules\n").may_contain_included("node_modules/a")
    assert parse_dockerignore("node_modules\n").may_contain_included("src")
    keep = parse_dockerignore("node_modules\n!node_modules/keep\n")
    assert keep.may_contain_included("node_modules")
    assert not keep.may_contain_included("node_modules/other")
    whitelist = parse_dockerignore(WHITELIST)
    assert not whitelist.may_contain_included("lib")
    assert whitelist.may_contain_included("app")
    anywhere = parse_dockerignore("build\n!**/*.keep\n")
    assert anywhere.may_contain_included("build")
    segments = parse_dockerignore("src\n!src/*/keep.txt\n")
    assert segments.may_contain_included("src") and segments.may_contain_included("src/a")
    assert not segments.may_contain_included("src/a/b")


_NAMES = ["a", "b", "keep", "node_modules", "x.log", ".env", "README.md"]
_PATTERN_POOL = [
    "a",
    "b",
    "*",
    "**",
    "a/*",
    "a/**",
    "**/b",
    "*.log",
    "**/*.log",
    "a/b",
    "*/keep",
    "node_modules",
    ".env*",
    "*.md",
    "a?",
    "[ab]",
    "**/keep/**",
    "a/**/b",
]


def _random_ignore(rng: random.Random) -> DockerIgnore:
    lines = []
    for _ in range(rng.randint(1, 6)):
        pattern = rng.choice(_PATTERN_POOL)
        lines.append(("!" if rng.random() < 0.4 else "") + pattern)
    return parse_dockerignore("\n".join(lines) + "\n")


def _tree(rng: random.Random) -> list[str]:
    paths = []
    for _ in range(60):
        depth = rng.randint(1, 4)
        paths.append("/".join(rng.choice(_NAMES) for _ in range(depth)))
    return paths


def _reference_ignored(ignore: DockerIgnore, path: str) -> bool:
    """Straight MatchesUsingParentResults over the path's directories, no caching."""
    parts = path.split("/")
    flags: list[bool] | None = None
    matched = False
    for depth in range(1, len(parts) + 1):
        current = "/".join(parts[:depth])
        new = [False] * len(ignore.patterns)
        matched = False
        for i, pat in enumerate(ignore.patterns):
            hit = flags[i] if flags is not None else False
            if not hit:
                if pat.exclusion != matched:
                    continue
                hit = pat.matches(current)
            new[i] = hit
            if hit:
                matched = not pat.exclusion
        flags = new
    return matched


def test_verdicts_match_reference_on_random_trees() -> None:
    rng = random.Random(813)
    for _ in range(300):
        ignore = _random_ignore(rng)
        for path in _tree(rng):
            assert ignore.is_ignored(path) is _reference_ignored(ignore, path), (
                [p.raw for p in ignore.patterns],
                path,
            )


def test_may_contain_included_is_conservative() -> None:
    rng = random.Random(2024)
    pruned = 0
    for _ in range(300):
        ignore = _random_ignore(rng)
        paths = _tree(rng)
        dirs = {"/".join(p.split("/")[:k]) for p in paths for k in range(1, p.count("/") + 1)}
        for directory in dirs:
            if ignore.may_contain_included(directory):
                continue
            pruned += 1
            assert ignore.is_ignored(directory)
            for path in paths:
                if path.startswith(directory + "/"):
                    assert ignore.is_ignored(path), ([p.raw for p in ignore.patterns], path)
    assert pruned > 100  # the check actually prunes


# -- files -----------------------------------------------------------------------------


def test_find_ignore_file_precedence(tmp_path: Path) -> None:
    dockerfile = tmp_path / "docker" / "build.Dockerfile"
    dockerfile.parent.mkdir()
    dockerfile.write_text("FROM scratch\n")
    assert find_ignore_file(tmp_path, dockerfile) is None
    (tmp_path / ".dockerignore").write_text("x\n")
    assert find_ignore_file(tmp_path, dockerfile) == tmp_path / ".dockerignore"
    specific = tmp_path / "docker" / "build.Dockerfile.dockerignore"
    specific.write_text("y\n")
    assert find_ignore_file(tmp_path, dockerfile) == specific
    # the default name works too: Dockerfile.dockerignore next to Dockerfile
    root_dockerfile = tmp_path / "Dockerfile"
    root_dockerfile.write_text("FROM scratch\n")
    assert find_ignore_file(tmp_path, root_dockerfile) == tmp_path / ".dockerignore"
    (tmp_path / "Dockerfile.dockerignore").write_text("z\n")
    assert find_ignore_file(tmp_path, root_dockerfile) == tmp_path / "Dockerfile.dockerignore"


def test_load_dockerignore(tmp_path: Path) -> None:
    path = tmp_path / ".dockerignore"
    path.write_bytes(b"node_modules\n\xff\xfe-bad-utf8\n")
    ignore = load_dockerignore(path)
    assert ignore.path == str(path)
    assert ignore.is_ignored("node_modules/x")
    assert len(ignore.patterns) == 2 and ignore.errors == ()


def test_load_dockerignore_size_cap(tmp_path: Path) -> None:
    path = tmp_path / ".dockerignore"
    path.write_bytes(b"a\n" * (MAX_IGNORE_FILE_BYTES // 2 + 1))
    ignore = load_dockerignore(path)
    assert ignore.patterns == () and len(ignore.errors) == 1


def test_load_dockerignore_missing(tmp_path: Path) -> None:
    ignore = load_dockerignore(tmp_path / "nope")
    assert ignore.errors and ignore.patterns == ()


def test_overlong_line_is_an_error() -> None:
    ignore = parse_dockerignore("a\n" + "b" * 70_000 + "\nc\n")
    assert [line for line, _ in ignore.errors] == [2]
    assert [p.pattern for p in ignore.patterns] == ["a", "c"]


def test_performance_50k_paths() -> None:
    text = "\n".join(
        [
            "node_modules",
            ".git",
            "**/*.pyc",
            "__pycache__",
            "*.md",
            "!README.md",
            ".env*",
            "!.env.example",
            "dist/",
            "build",
            "coverage/**",
            "**/.DS_Store",
            "*.log",
            "tmp?",
            "docs/**/*.png",
            "!docs/keep/**",
            ".venv",
            "*.egg-info",
            ".pytest_cache",
            "**/test_*.py",
            "secrets/",
            "*.pem",
            "*.key",
            "Dockerfile*",
            "docker-compose*.yml",
            ".idea",
            ".vscode",
            "*/temp*",
            "*/*/temp*",
            "[Tt]humbs.db",
        ]
    )
    ignore = parse_dockerignore(text)
    assert len(ignore.patterns) == 30
    rng = random.Random(7)
    dirs = ["src", "app", "lib", "docs", "node_modules", "pkg", "tests", "keep", "util"]
    files = ["main.py", "x.pyc", "README.md", "a.md", ".env", "y.log", "img.png", "k.pem"]
    paths = [
        "/".join([rng.choice(dirs) for _ in range(rng.randint(0, 5))] + [rng.choice(files)])
        for _ in range(50_000)
    ]
    start = time.process_time()
    for path in paths:
        ignore.is_ignored(path)
    # well under a second on a developer machine; generous bound for loaded CI runners
    assert time.process_time() - start < 2.0


# ---------------------------------------------------------------- no backtracking (issue 6)


def test_many_stars_match_a_long_name_linearly() -> None:
    ignore = parse_dockerignore("*a*a*a*a*a*a*a*a*a*a*b\n")
    assert not ignore.is_ignored("a" * 40)
    assert ignore.is_ignored("a" * 40 + "b")
    assert not ignore.is_ignored("a" * 40 + "/" + "a" * 10 + "b")


def test_repeated_globstar_on_a_deep_path() -> None:
    ignore = parse_dockerignore("**/" * 30 + "x\n")
    deep = "/".join(["d"] * 40)
    assert not ignore.is_ignored(deep + "/y")
    assert ignore.is_ignored(deep + "/x")
    assert ignore.is_ignored("x")


def test_exception_with_many_stars_still_reincludes() -> None:
    ignore = parse_dockerignore("*\n!*a*a*a*b\n")
    assert not ignore.is_ignored("xaxaxab")
    assert ignore.is_ignored("aaaa")


_PIECES = ["*", "**", "**/", "?", "a", "b", "/", ".", "[ab]", "[^a]", "\\a", "\\b", "^", "x"]


@settings(max_examples=150, deadline=None)
@given(
    pattern=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6).map("".join),
    path=st.lists(st.sampled_from(["a", "b", "x", "/", "ab", "."]), max_size=8).map("".join),
)
def test_linear_matcher_agrees_with_python_re(pattern: str, path: str) -> None:
    """The automaton gives Python re's answer on every pattern Python re can handle."""
    from dockwise.sources.dockerignore import _compile, _linear_matcher, _translate_go_regexp

    compiled = _compile(pattern)
    if isinstance(compiled, str) or compiled[0] != "regexp":
        return
    go = _go_source(pattern)
    translated = _translate_go_regexp(go)
    assert not isinstance(translated, str)
    source, _notes, tokens = translated
    expected = re.fullmatch(source, path, re.ASCII) is not None
    assert _linear_matcher(tokens)(path) == expected


def _go_source(pattern: str) -> str:
    """The Go regexp Pattern.compile builds (what _compile hands to the translator)."""
    from dockwise.sources import dockerignore

    captured: list[str] = []
    original = dockerignore._build_matcher

    def spy(pat: str, kind: str, go: str) -> object:
        captured.append(go)
        return original(pat, kind, go)  # type: ignore[arg-type]

    dockerignore._build_matcher = spy  # type: ignore[assignment]
    try:
        dockerignore._compile(pattern)
    finally:
        dockerignore._build_matcher = original
    return captured[0]
