"""`dockwise completion bash|zsh|fish`: a completion script generated from the argparse
parser itself, so it never drifts from the options (no extra dependency).

    eval "$(dockwise completion bash)"             # ~/.bashrc
    eval "$(dockwise completion zsh)"              # ~/.zshrc
    dockwise completion fish > ~/.config/fish/completions/dockwise.fish
"""

from __future__ import annotations

import argparse
import shlex

from msgspec import Struct, field

SHELLS = ("bash", "zsh", "fish")


class Option(Struct):
    flags: list[str]
    help: str
    takes_value: bool
    choices: list[str] = field(default_factory=list)


class Command(Struct):
    name: str
    help: str
    options: list[Option]
    choices: list[str] = field(default_factory=list)  # a positional with fixed choices


def commands(parser: argparse.ArgumentParser) -> list[Command]:
    """Every subcommand with its options, read from the parser."""
    found = [Command("", parser.description or "", _options(parser))]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                positional = [
                    str(c)
                    for a in sub._actions
                    if not a.option_strings and a.choices
                    for c in a.choices
                ]
                found.append(Command(name, helps.get(name, ""), _options(sub), positional))
    return found


def _options(parser: argparse.ArgumentParser) -> list[Option]:
    options = []
    for action in parser._actions:
        if not action.option_strings:
            continue
        takes_value = action.nargs != 0
        choices = [str(c) for c in action.choices] if action.choices else []
        options.append(Option(list(action.option_strings), action.help or "", takes_value, choices))
    return options


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    if shell == "fish":
        return _fish(parser)
    if shell == "zsh":
        # zsh runs the bash function through its own bashcompinit
        return "autoload -U +X bashcompinit && bashcompinit\n" + _bash(parser)
    return _bash(parser)


def _bash(parser: argparse.ArgumentParser) -> str:
    found = commands(parser)
    top = found[0]
    subcommands = " ".join(c.name for c in found[1:])
    cases = []
    for command in found:
        flags = " ".join(flag for o in command.options for flag in o.flags)
        valued = "|".join(
            flag for o in command.options if o.takes_value and not o.choices for flag in o.flags
        )
        choice_cases = "".join(
            f"            {'|'.join(o.flags)}) words={shlex.quote(' '.join(o.choices))} ;;\n"
            for o in command.options
            if o.choices
        )
        otherwise = (
            f"words={shlex.quote(' '.join(command.choices))}"
            if command.choices
            else "words=__files__"
        )
        name = command.name or "__top__"
        cases.append(
            f"    {name})\n"
            f'        case "$prev" in\n{choice_cases}'
            + (f"            {valued}) words=__files__ ;;\n" if valued else "")
            + f"            *) if [[ $cur == -* ]]; then words={shlex.quote(flags)}; "
            f"else {otherwise}; fi ;;\n"
            "        esac ;;\n"
        )
    return (
        "# dockwise completion for bash (generated from dockwise's own parser)\n"
        "_dockwise() {\n"
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"\n'
        "    local command=__top__ words i\n"
        "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
        '        case "${COMP_WORDS[i]}" in\n'
        f"            {'|'.join(c.name for c in found[1:])}) command=${{COMP_WORDS[i]}}; break ;;\n"
        "        esac\n"
        "    done\n"
        '    case "$command" in\n' + "".join(cases) + "    esac\n"
        f'    if [[ $command == __top__ && $cur != -* && $prev != -* ]]; then words="{subcommands}"; fi\n'
        "    if [[ $words == __files__ ]]; then\n"
        '        COMPREPLY=($(compgen -f -- "$cur"))\n'
        "    else\n"
        '        COMPREPLY=($(compgen -W "$words" -- "$cur"))\n'
        "    fi\n"
        "}\n"
        "complete -o filenames -o bashdefault -F _dockwise dockwise\n"
        f"# top-level options: {' '.join(f for o in top.options for f in o.flags)}\n"
    )


def _fish(parser: argparse.ArgumentParser) -> str:
    found = commands(parser)
    names = " ".join(c.name for c in found[1:])
    out = [
        "# dockwise completion for fish (generated from dockwise's own parser)",
        "complete -c dockwise -f",
    ]
    for command in found[1:]:
        out.append(
            f"complete -c dockwise -n '__fish_use_subcommand' -a {command.name} "
            f"-d {_fish_quote(command.help)}"
        )
    for command in found:
        condition = (
            f"__fish_seen_subcommand_from {command.name}"
            if command.name
            else f"not __fish_seen_subcommand_from {names}"
        )
        if command.name and not command.choices:
            out.append(f"complete -c dockwise -n '{condition}' -F")  # paths
        if command.choices:
            out.append(
                f"complete -c dockwise -n '{condition}' -a {_fish_quote(' '.join(command.choices))}"
            )
        for option in command.options:
            flags = " ".join(
                f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}"
                for flag in option.flags
            )
            value = ""
            if option.choices:
                value = f" -x -a {_fish_quote(' '.join(option.choices))}"
            elif option.takes_value:
                value = " -r -F"
            out.append(
                f"complete -c dockwise -n '{condition}' {flags}{value} -d {_fish_quote(option.help)}"
            )
    return "\n".join(out) + "\n"


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = 'Print a completion script: eval "$(dockwise completion bash)".'
    parser.add_argument("shell", choices=SHELLS)


def run(args: argparse.Namespace, debug: bool = False) -> int:
    from dockwise.cli import _parser

    print(script(args.shell, _parser()), end="")
    return 0
