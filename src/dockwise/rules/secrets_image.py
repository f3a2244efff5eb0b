"""Secrets in the built image (DW530-DW533): in its config (Env, Labels), in its history
(the build arguments RUN saw are recorded with their values), and in the files of every
layer, a later layer's deletion notwithstanding. Values are never shown: the detector's
redacted preview only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from msgspec.structs import replace

from dockwise.findings import Hit, Related, Severity
from dockwise.imagescan.facts import DELETED, DIR_DELETED, OPAQUE, ImageFacts
from dockwise.model.service import Service
from dockwise.project import Project
from dockwise.rules._image_examples import SLIM_BASE, empty, image_example, layer
from dockwise.rules._scopes import at_image, image_rule

if TYPE_CHECKING:
    from dockwise.imagescan.layer_secrets import LayerSecret

_BASE = SLIM_BASE
_CMD = {"Cmd": ["gunicorn", "app:app"], "User": "10001"}
# made-up credentials in a provider's format: the examples must trip the detector
_NPM_TOKEN = "npm_" + "Q8vX2kLp9Rt4Zw7Yb3Nm6Jh1Gf5Dc0Sa8Ee2"
_AWS_SECRET = "9Tq2xLr7Vb0Wm4Yc8Pz1" + "Ks6Ja3Hd5Fg2Nu0Ee7Ri"
_SHOWN_LENGTH = 70


def _shown(text: str) -> str:
    """A history command as a message quotes it: one line, without the builder's
    decorations, cut short (the engine redacts whatever credential it still holds)."""
    line = " ".join(text.split())
    for prefix in ("/bin/sh -c #(nop) ", "/bin/sh -c "):
        line = line.removeprefix(prefix)
    line = line.removesuffix("# buildkit").rstrip()
    return line if len(line) <= _SHOWN_LENGTH else line[: _SHOWN_LENGTH - 3] + "..."


def _env_declared(service: Service, name: str) -> bool:
    """The service's Dockerfile sets this ENV in its shipped stage (DW501 reports it there)."""
    from dockwise.sources.dockerfile import key_values

    if service.dockerfile is None:
        return False
    for stage in service.dockerfile.shipped_chain():
        for instruction in stage.all("ENV", "LABEL"):
            if any(key == name for key, _ in key_values(instruction)):
                return True
    return False


@image_rule(
    "DW530",
    lesson="secrets",
    severity="error",
    title="Credential in the image config's Env or Labels",
    why="""
        Env and Labels are part of the image config: `docker inspect` and every registry
        client show them to anyone who can pull the image, and every container inherits
        the environment. A credential there has leaked to everyone with pull access. The
        value may come from the Dockerfile, from a build argument it was expanded from, or
        from the base image. With `check --image`, variables the Dockerfile sets are
        reported on its line (DW501); this rule reports the rest.
    """,
    fix="""
        Remove the credential from the image and pass it at run time (an orchestrator
        secret, an env file outside the image), then rotate it: it has been published.
    """,
    bad=image_example({**_CMD, "Env": [f"AWS_SECRET_ACCESS_KEY={_AWS_SECRET}"]}, [_BASE]),
    good=image_example({**_CMD, "Env": ["AWS_REGION=eu-west-1"]}, [_BASE]),
    also=["dockle:CIS-DI-0010", "trivy:secret"],
)
def credential_in_config(facts: ImageFacts, service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.secrets import scan_value

    config = facts.image_config
    values: list[tuple[str, str, str]] = [
        ("Env", name, value) for name, value in facts.env().items()
    ]
    labels = config.get("Labels")
    if isinstance(labels, dict):
        values.extend(("Label", str(k), v) for k, v in labels.items() if isinstance(v, str))
    for where, name, value in values:
        match = scan_value(value, name)
        if match is None or match.confidence == "low" or _env_declared(service, name):
            continue
        yield at_image(
            service,
            f"{where} {name} holds a credential ({match.description}, {match.redacted}): "
            "anyone who can pull the image can read it",
            fingerprint=match.fingerprint,
        )


@image_rule(
    "DW531",
    lesson="secrets",
    severity="error",
    title="Credential recorded in the image history",
    why="""
        The history of an image (`docker history --no-trunc`) records each step's command.
        A RUN that used build arguments is recorded with their values
        (`|1 NPM_TOKEN=npm_... /bin/sh -c npm ci`), whatever the Dockerfile did with them:
        `--build-arg` is no way to pass a secret. A credential written on a command line is
        recorded the same way. Everyone who can pull the image can read the history. With
        `check --image`, a credential literally written on a Dockerfile RUN line is reported
        there (DW504); this rule reports what only the image shows. A build argument named
        like a credential whose recorded value looks guessable or default (`TOKEN=hunter22`)
        is a warning: it may be a real, weak credential.
    """,
    fix="""
        Pass build secrets with BuildKit secret mounts (`RUN --mount=type=secret,id=npm
        ...`), never as build arguments, and rotate the credential: it has been published.
    """,
    bad=image_example(
        _CMD,
        [
            _BASE,
            empty("ARG NPM_TOKEN"),
            layer(
                f"RUN |1 NPM_TOKEN={_NPM_TOKEN} /bin/sh -c npm ci # buildkit",
                files={"/app/package.json": "{}\n"},
            ),
        ],
    ),
    good=image_example(
        _CMD,
        [
            _BASE,
            layer(
                "RUN /bin/sh -c npm ci # buildkit",
                files={"/app/package.json": "{}\n"},
            ),
        ],
    ),
    also=["dockle:CIS-DI-0010", "trivy:secret"],
)
def credential_in_history(facts: ImageFacts, service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.imagescan.join import origins, steps
    from dockwise.secrets import redact, scan_text, scan_value

    made_by = origins(project, service)
    # one finding per value, at the first entry that records it (a build argument is
    # recorded by every RUN after its ARG)
    seen: dict[str, list[int]] = {}
    pending: list[tuple[int, str, str, str, bool]] = []
    for step in steps(facts):
        if step.keyword != "RUN":
            continue  # ENV and LABEL values are the config's (DW530)
        found: list[tuple[str, str, str, bool]] = []  # (what, redacted, fingerprint, weak)
        for name, value in _build_args(step.build_args):
            match = scan_value(value, name)
            if match is not None and match.confidence != "low":
                found.append((f"build argument {name}", match.redacted, match.fingerprint, False))
            elif step.index not in made_by and _credential_value(name, value):
                # (joined to its Dockerfile, DW502 reports the argument on its ARG line)
                what = f"build argument {name}"
                found.append((what, redact(value), _fingerprint(name, value), True))
        if step.index not in made_by:  # a RUN line of the Dockerfile is DW504's
            for match in scan_text(step.text):
                if match.confidence != "low" and _literal(step.text, match.value):
                    found.append(("the command", match.redacted, match.fingerprint, False))
        for what, redacted, fingerprint, weak in found:
            if fingerprint not in seen:
                pending.append((step.index, what, redacted, fingerprint, weak))
            seen.setdefault(fingerprint, []).append(step.index)
    for index, what, redacted, fingerprint, weak in pending:
        entries = seen[fingerprint]
        where = f"history entry {index}"
        if len(entries) > 1:
            where = f"history entries {', '.join(str(e) for e in entries[:5])}"
            where += " and more" if len(entries) > 5 else ""
        instruction = made_by.get(index)
        related: tuple[Related, ...] = ()
        if instruction is not None and service.dockerfile is not None:
            related = (Related(service.dockerfile.relpath, instruction.start_line, "the RUN"),)
        record = "record" if len(entries) > 1 else "records"
        if weak:
            hit = at_image(
                service,
                f"{where} {record} {what} with its value ({redacted}), a guessable or default "
                "one: if it is a real credential, `docker history` shows it to anyone who can "
                "pull the image",
                related=related,
                fingerprint=fingerprint,
            )
            yield replace(hit, severity=Severity.WARNING)
            continue
        yield at_image(
            service,
            f"{where} {record} {what} with its value ({redacted}): `docker history` shows it "
            "to anyone who can pull the image",
            related=related,
            fingerprint=fingerprint,
        )


def _credential_value(name: str, value: str) -> bool:
    """A value given to a build argument named like a credential (`NPM_TOKEN=hunter22`)
    that is more than a switch, a path or a reference."""
    from dockwise.secrets import is_credential_name

    value = value.strip().strip("\"'")
    if len(value) < 4 or value.lower() in ("true", "false", "none", "null", "unset"):
        return False
    if value.startswith(("/", "$", "./")) or value.isdigit():
        return False
    return is_credential_name(name)


def _fingerprint(name: str, value: str) -> str:
    import hashlib

    return hashlib.sha256(f"build-arg\x00{name}\x00{value}".encode()).hexdigest()


def _literal(script: str, value: str) -> bool:
    """A value written in the command, not a variable the shell expands nor the word after a
    flag that takes none (`--password-stdin registry.example.com`)."""
    import re

    if "$" in value:
        return False
    return re.search(rf"--[\w-]*(?:stdin|file)\s+['\"]?{re.escape(value)}", script) is None


def _build_args(text: str) -> list[tuple[str, str]]:
    """`|2 NPM_TOKEN=abc MODE=prod` -> [(NPM_TOKEN, abc), (MODE, prod)]."""
    words = text.split()
    if not words or not words[0].startswith("|"):
        return []
    pairs: list[tuple[str, str]] = []
    for word in words[1:]:
        name, equals, value = word.partition("=")
        if equals and name.replace("_", "").isalnum():
            pairs.append((name, value))
        elif pairs:  # a value with spaces: Docker does not quote it
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {word}")
    return pairs


def _layer_label(facts: ImageFacts, index: int) -> str:
    from dockwise.imagescan.join import parse_step

    for found in facts.layers:
        if found.index == index:
            made = _shown(found.created_by)
            if not made:
                return f"layer {index}"
            if parse_step(0, found.created_by).keyword not in ("RUN", "COPY", "ADD"):
                # files recorded against a CMD or an ENV: a build that squashed its steps
                return f"layer {index} (a stage's steps squashed into one, recorded as `{made}`)"
            return f"layer {index} (`{made}`)"
    return f"layer {index}"


def _layer_related(
    facts: ImageFacts, service: Service, project: Project, index: int, message: str
) -> tuple[Related, ...]:
    from dockwise.imagescan.join import history_of_layer, related_line

    return related_line(project, service, history_of_layer(facts, index), message)


def _copies(facts: ImageFacts) -> list[tuple[LayerSecret, tuple[int, str] | None]]:
    """Each secret with how it is hidden ((hidden by, how), or None when it shows)."""
    hidden = {(h.path, h.stored_in): (h.hidden_by, h.how) for h in facts.hidden}
    return [(s, hidden.get((s.path.lstrip("/"), s.layer))) for s in facts.secrets]


def _what(secret: LayerSecret) -> str:
    from dockwise.imagescan.layer_secrets import FILE_KINDS

    if secret.kind in FILE_KINDS:  # the file is the credential store
        where = f", line {secret.line}: {secret.preview}" if secret.line and secret.preview else ""
        return f"{secret.path} ({secret.description}{where})"
    line = f":{secret.line}" if secret.line else ""
    return f"{secret.path}{line} holds a credential ({secret.description}, {secret.preview})"


_NAME_FILE = {
    "/app/.env": f"DEBUG=0\nAWS_SECRET_ACCESS_KEY={_AWS_SECRET}\n",
}


@image_rule(
    "DW532",
    lesson="secrets",
    severity="error",
    title="Secret in a file of the image",
    why="""
        A file of the image holds a credential: a `.env` file, a private key, cloud or
        registry credentials (`~/.aws/credentials`, `~/.docker/config.json`, `.npmrc`,
        `.pypirc`), or a token or password in a configuration file or source. Anyone who
        can pull the image can read it. Files installed by package managers (system
        libraries, site-packages, node_modules) are not read, nor binaries and large files.
    """,
    fix="""
        Keep credentials out of the build context (.dockerignore) and out of the image;
        pass them at run time, or as BuildKit secret mounts during the build. Rotate the
        credential: it has been published.
    """,
    bad=image_example(_CMD, [_BASE, layer("COPY . /app # buildkit", files=_NAME_FILE)]),
    good=image_example(
        _CMD,
        [
            _BASE,
            layer(
                "COPY . /app # buildkit", files={"/app/.env.example": "AWS_SECRET_ACCESS_KEY=\n"}
            ),
        ],
    ),
    also=["dockle:CIS-DI-0010", "trivy:secret"],
)
def secret_in_layer(facts: ImageFacts, service: Service, project: Project) -> Iterator[Hit]:
    shown: set[str] = set()
    for secret, hidden in _copies(facts):
        if hidden is not None or secret.fingerprint in shown:
            continue
        shown.add(secret.fingerprint)
        yield at_image(
            service,
            f"{_what(secret)}, added in {_layer_label(facts, secret.layer)}",
            related=_layer_related(facts, service, project, secret.layer, "adds the file"),
            fingerprint=secret.fingerprint,
        )


@image_rule(
    "DW533",
    lesson="secrets",
    severity="error",
    title="Secret deleted by a later layer still ships in the image",
    why="""
        Deleting a file in a later layer (`RUN rm .env`, a `COPY` over it) only hides it: the
        layer that added it is still part of the image, and `docker save` (or any registry
        client) extracts it in a second. The secret has shipped to everyone who can pull
        the image.
    """,
    fix="""
        Never add the file: keep it out of the build context (.dockerignore) or use a
        BuildKit secret mount (`RUN --mount=type=secret,id=env ...`), which leaves nothing
        in any layer. Rotate the credential: it has been published.
    """,
    bad=image_example(
        _CMD,
        [
            _BASE,
            layer("COPY . /app # buildkit", files=_NAME_FILE),
            layer("RUN /bin/sh -c rm /app/.env # buildkit", delete=["/app/.env"]),
        ],
    ),
    good=image_example(
        _CMD,
        [
            _BASE,
            layer("COPY . /app # buildkit", files={"/app/app.py": "print('hi')\n"}),
        ],
    ),
    also=["dockle:CIS-DI-0010", "trivy:secret"],
)
def deleted_secret_ships(facts: ImageFacts, service: Service, project: Project) -> Iterator[Hit]:
    visible = {secret.fingerprint for secret, hidden in _copies(facts) if hidden is None}
    reported: set[str] = set()
    for secret, hidden in _copies(facts):
        if hidden is None or secret.fingerprint in visible or secret.fingerprint in reported:
            continue
        reported.add(secret.fingerprint)
        by, how = hidden
        verb = {
            DELETED: "deleted",
            DIR_DELETED: "deleted with its folder",
            OPAQUE: "hidden (its folder replaced)",
        }.get(how, "overwritten")
        related = _layer_related(facts, service, project, secret.layer, "adds the file")
        related += _layer_related(facts, service, project, by, f"{verb.split()[0]} it")
        yield at_image(
            service,
            f"{_what(secret)}: added in {_layer_label(facts, secret.layer)}, {verb} in "
            f"{_layer_label(facts, by)}, but still extractable with `docker save`",
            related=related,
            fingerprint=secret.fingerprint,
        )
