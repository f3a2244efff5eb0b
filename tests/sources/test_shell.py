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
