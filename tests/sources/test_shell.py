"""RUN scripts split into simple commands: fast path, bashlex path, and fallback."""

from __future__ import annotations

from dockwise.sources.shell import parse_script


def test_simple_list_uses_fast_path() -> None:
    script = parse_script("apt-get update && apt-get install -y curl; rm -rf /var/lib/apt/lists/*")
    assert script.parsed_by == "fast"
    assert [c.name for c in script.commands] == ["apt-get", "apt-get", "rm"]
    assert script.commands[1].has_flag("-y")


def test_pipeline_is_marked() -> None:
    script = parse_script("curl -fsSL https://x | sh")
    assert script.has_pipe and all(c.piped for c in script.commands)


def test_assignments_and_wrappers_are_not_the_command() -> None:
    script = parse_script("DEBIAN_FRONTEND=noninteractive exec apt-get install -qy curl")
    command = script.commands[0]
    assert command.name == "apt-get"
    assert command.assignments == ("DEBIAN_FRONTEND=noninteractive",)
    assert command.has_flag("-y") and command.has_flag("-q")


def test_compound_script_goes_through_bashlex() -> None:
    script = parse_script('if [ -f a ]; then pip install -r a; fi && echo "$(date)"')
    assert script.parsed_by == "bashlex"
    assert "pip" in [c.name for c in script.commands]


def test_unparsable_script_degrades_instead_of_failing() -> None:
    script = parse_script("echo 'unterminated && for x in")
    assert script.parsed_by in ("fallback", "fast")


def test_long_flags_with_values() -> None:
    command = parse_script("pip install --no-cache-dir --index-url=https://x flask==3.0").commands[
        0
    ]
    assert command.has_flag("--no-cache-dir") and command.has_flag("--index-url")
    assert command.positional() == ("install", "flask==3.0")


def test_redirects_are_separated_from_arguments() -> None:
    command = parse_script("gunicorn app:app > /var/log/app.log 2>&1").commands[0]
    assert command.argv == ("gunicorn", "app:app")
    assert command.redirects == ((">", "/var/log/app.log"), ("2>&", "1"))


def test_assignment_only_statements_become_script_variables() -> None:
    script = parse_script("deps='gcc make'; apt-get install -y $deps")
    assert script.variables == {"deps": "gcc make"}
    assert [c.name for c in script.commands] == ["apt-get"]


def test_nested_heredoc_is_not_split_into_commands() -> None:
    script = parse_script("cat <<EOF > /etc/x\nhi\nEOF\necho done")
    assert [c.name for c in script.commands] == ["cat", "echo"]


# --- pipelines: what a pipe's status hides -------------------------------------------------


def _pipelines(text: str) -> list[tuple[list[list[str]], bool, bool]]:
    return [
        ([[c.name for c in stage] for stage in p.stages], p.substituted, p.tested)
        for p in parse_script(text).pipelines
    ]


def test_pipeline_stages_in_the_fast_path() -> None:
    assert _pipelines("curl -fsSL https://x | tar xz -C /opt && rm -f /tmp/x") == [
        ([["curl"], ["tar"]], False, False)
    ]


def test_case_pattern_alternatives_are_no_pipe() -> None:
    script = parse_script(
        'case "$TARGETPLATFORM" in linux/arm/v7|linux/arm/v8) ARCH=arm ;; *) ARCH=x64 ;; esac; '
        "echo $ARCH"
    )
    assert not script.has_pipe and script.pipelines == ()
    assert [c.argv for c in script.commands] == [("echo", "$ARCH")]


def test_case_body_keeps_its_pipes() -> None:
    text = "case $(uname -m | tr A-Z a-z) in\n x86_64) curl -fsSL https://x | sh ;;\n (arm*|aarch64) true ;;\nesac"
    assert _pipelines(text) == [
        ([["curl"], ["sh"]], False, False),
        ([["uname"], ["tr"]], True, False),
    ]


def test_substituted_and_tested_pipelines_are_marked() -> None:
    text = (
        "arch=\"$(dpkg --print-architecture | awk -F- '{ print $NF }')\"; "
        "if curl -fs https://x | grep -q ok; then echo up; fi; "
        "wget -qO- https://y | tar xz || true; "
        "! ls /x | grep -q y"
    )
    assert sorted(_pipelines(text)) == sorted(
        [
            ([["dpkg"], ["awk"]], True, False),
            ([["curl"], ["grep"]], False, True),
            ([["wget"], ["tar"]], False, True),
            ([["ls"], ["grep"]], False, True),
        ]
    )


def test_or_after_an_and_list_covers_the_whole_list() -> None:
    assert _pipelines("curl x | sh && echo ok || echo failed") == [
        ([["curl"], ["sh"]], False, True)
    ]
    assert _pipelines("curl x | sh && echo ok; a | b") == [
        ([["curl"], ["sh"]], False, False),
        ([["a"], ["b"]], False, False),
    ]


def test_heredoc_fed_producer_is_recorded_with_its_redirect() -> None:
    script = parse_script("cat <<EOF | tee /etc/x.conf\nkey=1\nEOF\n")
    (pipeline,) = script.pipelines
    assert pipeline.producers[0].name == "cat"
    assert pipeline.producers[0].redirects[0][0] == "<<"


def test_simple_command() -> None:
    assert parse_script("python /app/app.py").is_simple_command()
    assert not parse_script("cd /app && python app.py").is_simple_command()
    assert not parse_script("python app.py | tee x").is_simple_command()


CASE_ONLY = r"""
import sys
from dockwise.sources.shell import parse_script

script = parse_script(
    'set -eux; arch="$(dpkg --print-architecture)"; \\\n'
    '  case "$arch" in amd64) url=x ;; arm64) url=y ;; esac; \\\n  curl -fsSL "$url" | tar -xz'
)
print(script.parsed_by, sorted(c.name for c in script.commands), "bashlex" in sys.modules)
"""


def test_a_case_statement_goes_to_the_fallback_without_bashlex() -> None:
    """bashlex implements no `case` (it raises on any): such a script is not handed to it,
    and bashlex (whose import builds its parser tables) is not even imported."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", CASE_ONLY], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["fallback", "['curl',", "'dpkg',", "'set',", "'tar']", "False"]


def test_case_words_outside_a_case_statement_still_go_to_bashlex() -> None:
    script = parse_script('echo "case x in"; for f in a b; do echo "$f" | cat; done')
    assert script.parsed_by == "bashlex"
    assert [c.name for c in script.commands] == ["echo", "echo", "cat"]
