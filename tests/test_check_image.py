"""`dockwise check PATH --image SOURCE`: the built image joins the service it was built
from; Dockerfile and image findings point at each other, and the Dockerfile rules that
could only guess (is curl there? which user?) go by what the image holds."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from imagegen import Dir, File, LayerSpec, Symlink, make_image, whiteout
from needs import require_root, require_tool

from dockwise.cli import main
from dockwise.imagescan.join import match_history, parse_step
from dockwise.sources.dockerfile import parse_dockerfile

ENV_SECRET = "AWS_SECRET_ACCESS_KEY=9Tq2xLr7Vb0Wm4Yc8Pz1" + "Ks6Ja3Hd5Fg2Nu0Ee7Ri\n"
DOCKERFILE = """\
FROM acme/base:1.0
WORKDIR /app
COPY . .
RUN rm -f /app/.env
HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
"""
BASE = [
    Dir("usr"),
    Dir("usr/bin"),
    File("usr/bin/dash", b"\x7fELF" + b"\0" * 64, mode=0o755),
    File("usr/bin/python3.11", b"\x7fELF" + b"\0" * 64, mode=0o755),
    Symlink("usr/bin/python3", "python3.11"),
    Symlink("bin", "usr/bin"),
    Symlink("usr/bin/sh", "dash"),
    Dir("etc"),
    File("etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n"),
]
GUNICORN = [Dir("usr/local"), Dir("usr/local/bin"), File("usr/local/bin/gunicorn", b"#!/x\n")]


def write_image(
    path: Path,
    config: dict[str, Any],
    *,
    base: list[Any] | None = None,
    tag: str = "docker.io/acme/web:1.0",
) -> Path:
    """An image built (as BuildKit would record it) from DOCKERFILE on a base."""
    layers = [
        LayerSpec([*(base or BASE), *GUNICORN], created_by="/bin/sh -c #(nop) ADD file:1 in / "),
        LayerSpec(
            [
                Dir("app"),
                File("app/app.py", b"app = None\n"),
                File("app/.env", ENV_SECRET.encode()),
            ],
            created_by="COPY . . # buildkit",
        ),
        LayerSpec([whiteout("app/.env")], created_by="RUN /bin/sh -c rm -f /app/.env # buildkit"),
    ]
    history = [
        {"created_by": "/bin/sh -c #(nop) ADD file:1 in / "},
        {"created_by": '/bin/sh -c #(nop)  CMD ["python3"]', "empty_layer": True},
        {"created_by": "WORKDIR /app", "empty_layer": True},
        {"created_by": "COPY . . # buildkit"},
        {"created_by": "RUN /bin/sh -c rm -f /app/.env # buildkit"},
        {
            "created_by": 'HEALTHCHECK &{["CMD-SHELL" "curl -f http://localhost:8000/health || exit 1"]}',
            "empty_layer": True,
        },
        {
            "created_by": 'CMD ["gunicorn" "--bind" "0.0.0.0:8000" "app:app"] # buildkit',
            "empty_layer": True,
        },
    ]
    image = make_image(layers, config=config, history=history, tag=tag)
    return image.write_docker_archive(path)


CONFIG = {
    "Cmd": ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"],
    "ExposedPorts": {"8000/tcp": {}},
    "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
    "Healthcheck": {"Test": ["CMD-SHELL", "curl -f http://localhost:8000/health || exit 1"]},
}


def project(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "project"
    for name, text in (files or {"Dockerfile": DOCKERFILE}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))
    return folder


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]]]:
    status = main(["check", *args, "--format", "json"])
    return status, json.loads(capsys.readouterr().out)["findings"]


def by_rule(findings: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["rule"] == rule]


def test_the_image_makes_the_dockerfile_rules_certain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project(tmp_path)
    _, guessed = check(capsys, str(folder))
    # acme/base is unknown to dockwise: the root user is only a guess, curl cannot be judged
    assert [f["severity"] for f in by_rule(guessed, "DW801")] == ["info"]
    assert all(f["severity"] == "info" for f in by_rule(guessed, "DW201"))

    archive = write_image(tmp_path / "image.tar", CONFIG)
    _, known = check(capsys, str(folder), "--image", str(archive))
    [user] = by_rule(known, "DW801")
    assert user["severity"] == "warning" and user["path"] == "Dockerfile"
    [curl] = by_rule(known, "DW201")
    assert curl["severity"] == "error" and curl["line"] == 5
    assert "built image does not contain" in curl["message"]
    assert curl["related"] == [
        {"path": str(archive), "line": None, "message": "the built image: no curl"}
    ]
    # the image rules give way to the Dockerfile's where the Dockerfile has the line
    assert by_rule(known, "DW242") == [] and by_rule(known, "DW830") == []


def test_the_images_own_shell_decides_a_shell_form_cmd(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "Dockerfile": """\
            FROM acme/base:1.0
            USER 10001
            HEALTHCHECK CMD ["python3", "-c", "print(1)"]
            CMD gunicorn --bind 0.0.0.0:8000 app:app
        """
    }
    folder = project(tmp_path, files)
    [guess] = by_rule(check(capsys, str(folder))[1], "DW601")
    assert guess["severity"] == "info" and "could not verify" in guess["message"]
    dash = write_image(tmp_path / "dash.tar", {**CONFIG, "User": "10001"})
    [sure] = by_rule(check(capsys, str(folder), "--image", str(dash))[1], "DW601")
    assert sure["severity"] == "warning" and "dash" in sure["message"]
    bash_base = [e for e in BASE if not (isinstance(e, Symlink) and e.path == "usr/bin/sh")]
    bash_base += [File("usr/bin/bash", b"\x7fELF", mode=0o755), Symlink("usr/bin/sh", "bash")]
    bash = write_image(tmp_path / "bash.tar", {**CONFIG, "User": "10001"}, base=bash_base)
    assert by_rule(check(capsys, str(folder), "--image", str(bash))[1], "DW601") == []


def test_what_the_image_has_silences_the_guesses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The base put curl on PATH through a symbolic link and set a non-root USER."""
    base = [
        *BASE,
        Dir("opt"),
        Dir("opt/curl"),
        File("opt/curl/curl", b"\x7fELF", mode=0o755),
        Symlink("usr/bin/curl", "/opt/curl/curl"),
    ]
    archive = write_image(tmp_path / "image.tar", {**CONFIG, "User": "10001"}, base=base)
    _, findings = check(capsys, str(project(tmp_path)), "--image", str(archive))
    assert by_rule(findings, "DW201") == [] and by_rule(findings, "DW801") == []


def test_a_healthcheck_the_base_sets_is_no_missing_healthcheck(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "Dockerfile": """\
            FROM acme/base:1.0
            COPY app.py /app/
            EXPOSE 8000
            CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
        """
    }
    folder = project(tmp_path, files)
    assert by_rule(check(capsys, str(folder))[1], "DW202")
    check_python = [
        "CMD",
        "python3",
        "-c",
        "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/')",
    ]
    archive = write_image(tmp_path / "image.tar", {**CONFIG, "Healthcheck": {"Test": check_python}})
    assert by_rule(check(capsys, str(folder), "--image", str(archive))[1], "DW202") == []


def test_a_deleted_secret_points_at_the_lines_that_added_and_deleted_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = write_image(tmp_path / "image.tar", CONFIG)
    _, findings = check(capsys, str(project(tmp_path)), "--image", str(archive))
    [deleted] = by_rule(findings, "DW533")
    assert deleted["path"] == str(archive) and deleted["line"] is None
    assert "/app/.env" in deleted["message"] and "deleted in layer 2" in deleted["message"]
    assert "Ks6Ja3Hd5Fg2Nu0Ee7Ri" not in json.dumps(findings)
    assert [(r["path"], r["line"]) for r in deleted["related"]] == [
        ("Dockerfile", 3),
        ("Dockerfile", 4),
    ]


def test_the_image_joins_the_service_that_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "api/Dockerfile": DOCKERFILE,
        "worker/Dockerfile": 'FROM python:3.11-slim\nCMD ["python", "-m", "worker"]\n',
        "compose.yaml": """\
            services:
              api:
                build: ./api
                image: ghcr.io/acme/api:2.0
              worker:
                build: ./worker
        """,
    }
    folder = project(tmp_path, files)
    archive = write_image(tmp_path / "image.tar", CONFIG, tag="ghcr.io/acme/api:latest")
    main(["check", str(folder), "--image", str(archive), "--explain-model"])
    model = capsys.readouterr().out
    api = model[model.index("service api") :].split("\nservice ")[0]
    assert "image      " in api and "which api/Dockerfile builds" in api
    assert "image " not in model[model.index("service worker") :].split("\nservice ")[0]


def test_an_image_nothing_here_builds_is_a_service_of_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "a/Dockerfile": 'FROM python:3.11-slim\nCMD ["python"]\n',
        "b/Dockerfile": 'FROM python:3.11-slim\nCMD ["python"]\n',
    }
    archive = write_image(tmp_path / "image.tar", CONFIG, tag="docker.io/acme/other:1")
    main(["check", str(project(tmp_path, files)), "--image", str(archive), "--explain-model"])
    assert "no Dockerfile or service here is known to build or run it" in capsys.readouterr().out


def test_an_unreadable_image_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.tar").write_bytes(b"not a tar at all" * 10)
    status = main(["check", str(project(tmp_path)), "--image", str(tmp_path / "broken.tar")])
    assert status == 2
    assert "broken.tar" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("created_by", "keyword", "text", "args"),
    [
        (
            "RUN /bin/sh -c pip install -r requirements.txt # buildkit",
            "RUN",
            "pip install -r requirements.txt",
            "",
        ),
        ("RUN |1 NPM_TOKEN=abc /bin/sh -c npm ci # buildkit", "RUN", "npm ci", "|1 NPM_TOKEN=abc"),
        ("|2 A=1 B=two words /bin/sh -c make", "RUN", "make", "|2 A=1 B=two words"),
        ("/bin/sh -c apt-get update", "RUN", "apt-get update", ""),
        ("/bin/sh -c #(nop)  ENV PORT=8000", "ENV", "PORT=8000", ""),
        ("/bin/sh -c #(nop) COPY file:ce45 in /app ", "COPY", "file:ce45 in /app", ""),
        ("COPY . /app # buildkit", "COPY", ". /app", ""),
        ("EXPOSE map[8000/tcp:{}]", "EXPOSE", "map[8000/tcp:{}]", ""),
    ],
)
def test_history_entries_read_as_instructions(
    created_by: str, keyword: str, text: str, args: str
) -> None:
    step = parse_step(0, created_by)
    assert (step.keyword, step.text, step.build_args) == (keyword, text, args)


def test_history_matches_the_shipped_stage_not_the_builder() -> None:
    dockerfile = parse_dockerfile(
        textwrap.dedent(
            """\
            FROM python:3.11 AS build
            RUN pip wheel -w /wheels flask
            FROM python:3.11-slim
            ARG MODE=prod
            ENV PORT=8000
            COPY --from=build /wheels /wheels
            RUN pip install /wheels/* && \\
                rm -rf /wheels
            CMD ["flask", "run"]
            """
        )
    )
    history = [
        "/bin/sh -c #(nop) ADD file:1 in / ",
        '/bin/sh -c #(nop)  CMD ["python3"]',
        "ENV PORT=8000",
        "COPY /wheels /wheels # buildkit",
        "RUN |1 MODE=prod /bin/sh -c pip install /wheels/* &&     rm -rf /wheels # buildkit",
        'CMD ["flask" "run"]',
    ]
    matched = match_history([parse_step(i, h) for i, h in enumerate(history)], dockerfile)
    assert {index: instruction.start_line for index, instruction in matched.items()} == {
        2: 5,
        3: 6,
        4: 7,
        5: 9,
    }


# --- a real image built with buildah ---------------------------------------------------------

REAL_DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN rm -f /app/.env
EXPOSE 8000
HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1
CMD python -m http.server 8000
"""


@pytest.fixture(scope="session")
def real_archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A project and the docker-archive buildah built from it (one layer per instruction)."""
    require_root()
    require_tool("buildah")
    require_tool("skopeo")
    from realimages import build_base, export

    build_base()
    folder = tmp_path_factory.mktemp("real-project")
    (folder / "Dockerfile").write_text(REAL_DOCKERFILE)
    (folder / ".env").write_text(ENV_SECRET)
    (folder / "app.py").write_text("print('hello')\n")
    tag = "localhost/dockwise-test-check-image:latest"
    subprocess.run(
        ["buildah", "--storage-driver", "vfs", "bud", "--isolation", "chroot", "--format",
         "docker", "--pull=never", "--quiet", "--layers", "-t", tag, str(folder)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return folder, export(tag, "docker-archive", tmp_path_factory.mktemp("out") / "image.tar")


@pytest.mark.slow
def test_a_real_image_joined_to_its_dockerfile(
    real_archive: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, archive = real_archive
    status, findings = check(capsys, str(folder), "--image", str(archive))
    assert status == 1
    [curl] = by_rule(findings, "DW201")
    assert curl["severity"] == "error" and "built image" in curl["message"]
    assert [f["severity"] for f in by_rule(findings, "DW801")] == ["warning"]
    [deleted] = by_rule(findings, "DW533")
    assert "/app/.env" in deleted["message"]
    assert {(r["path"], r["line"]) for r in deleted["related"]} == {
        ("Dockerfile", 3),
        ("Dockerfile", 4),
    }
    assert "Ks6Ja3Hd5Fg2Nu0Ee7Ri" not in json.dumps(findings)


@pytest.mark.slow
def test_a_real_image_alone(
    real_archive: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, archive = real_archive
    status = main(["image", str(archive), "--format", "json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert status == 1
    assert {f["rule"] for f in findings} >= {"DW242", "DW533", "DW620", "DW830"}
    assert "Ks6Ja3Hd5Fg2Nu0Ee7Ri" not in json.dumps(findings)


def test_a_squashed_stage_is_no_one_lines_layer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """buildah without --layers: one layer for the whole stage, recorded against its last
    instruction (the CMD). A finding on that layer names no Dockerfile line."""
    layers = [
        LayerSpec([*BASE, *GUNICORN], created_by="/bin/sh -c #(nop) ADD file:1 in / "),
        LayerSpec(
            [Dir("app"), File("app/.env", ENV_SECRET.encode())],
            created_by='/bin/sh -c #(nop) CMD ["gunicorn"]',
        ),
    ]
    history = [
        {"created_by": "/bin/sh -c #(nop) ADD file:1 in / "},
        {"created_by": "/bin/sh -c #(nop) WORKDIR /app", "empty_layer": True},
        {"created_by": "/bin/sh -c #(nop) COPY dir:abc in . ", "empty_layer": True},
        {"created_by": "/bin/sh -c rm -f /app/.env", "empty_layer": True},
        {
            "created_by": "/bin/sh -c #(nop) HEALTHCHECK CMD curl -f http://localhost:8000/health"
            " || exit 1",
            "empty_layer": True,
        },
        {"created_by": '/bin/sh -c #(nop) CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]'},
    ]
    image = make_image(layers, config=CONFIG, history=history, tag="docker.io/acme/web:1.0")
    archive = image.write_docker_archive(tmp_path / "squashed.tar")
    _, findings = check(capsys, str(project(tmp_path)), "--image", str(archive))
    [shipped] = by_rule(findings, "DW532")
    assert "/app/.env" in shipped["message"] and "related" not in shipped


def test_a_manifest_running_the_image_learns_its_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Deployment of an image built elsewhere: with the image read, the probe rule knows
    it runs as USER 10001 (advice to declare it) instead of assuming root."""
    from dockwise.rules._examples import deployment

    folder = project(tmp_path, deployment(image="ghcr.io/acme/web:1.4.2"))
    [alone] = by_rule(check(capsys, str(folder))[1], "DW823")
    assert alone["severity"] == "warning"
    archive = write_image(
        tmp_path / "image.tar", {**CONFIG, "User": "10001"}, tag="ghcr.io/acme/web:2"
    )
    [known] = by_rule(check(capsys, str(folder), "--image", str(archive))[1], "DW823")
    assert known["severity"] == "info" and "10001" in known["message"]


def test_every_local_source_gives_the_same_image_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layers = [
        LayerSpec([*BASE, *GUNICORN], created_by="/bin/sh -c #(nop) ADD file:1 in / "),
        LayerSpec(
            [Dir("app"), File("app/.env", ENV_SECRET.encode())],
            compression="gzip",
            created_by="COPY . . # buildkit",
        ),
        LayerSpec([whiteout("app/.env")], compression="zstd", created_by="RUN rm /app/.env"),
    ]
    image = make_image(layers, config=CONFIG, tag="docker.io/acme/web:1.0")
    sources = [
        image.write_docker_archive(tmp_path / "legacy.tar"),
        image.write_docker_archive(tmp_path / "docker25.tar", layout="oci"),
        image.write_oci_archive(tmp_path / "image.oci.tar"),
        image.write_oci_dir(tmp_path / "oci"),
    ]
    seen = []
    for source in sources:
        main(["image", str(source), "--format", "json"])
        findings = json.loads(capsys.readouterr().out)["findings"]
        seen.append(sorted((f["rule"], f["message"]) for f in findings))
    assert {rule for rule, _ in seen[0]} >= {"DW242", "DW533", "DW830"}
    assert all(found == seen[0] for found in seen[1:])


def test_the_report_carries_the_image_with_the_line_of_each_layer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = write_image(tmp_path / "image.tar", CONFIG)
    main(["check", str(project(tmp_path)), "--image", str(archive), "--format", "json"])
    image = json.loads(capsys.readouterr().out)["image"]
    assert image["size_bytes"] > 0 and len(image["layers"]) == 3
    lines = [(layer.get("path"), layer.get("line")) for layer in image["layers"]]
    # the base layer comes from no line of this Dockerfile; COPY and RUN from theirs
    assert lines == [(None, None), ("Dockerfile", 3), ("Dockerfile", 4)]
