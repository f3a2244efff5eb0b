"""`dockwise image SOURCE`: text with a layer table, the JSON image object, size gates from
options, `.dive-ci` and the configuration, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from imagegen import File, LayerSpec, make_image, whiteout

from dockwise.cli import main
from dockwise.imagescan.gates import (
    GateError,
    Gates,
    gates_from_dive_ci,
    gates_from_table,
    parse_ratio,
    parse_size,
)

MB = 1_000_000


def wasteful(tmp_path: Path) -> Path:
    """An image whose second layer downloads 2 MB that the third deletes."""
    return make_image(
        [
            LayerSpec([File("usr/bin/python3.11", b"\x7fELF" + b"\0" * 1000, mode=0o755)]),
            LayerSpec(
                [File("tmp/model.tgz", b"\0" * (2 * MB))], created_by="RUN curl -o /tmp/model.tgz"
            ),
            LayerSpec([whiteout("tmp/model.tgz"), File("app/model.bin", b"m" * 1000)]),
        ],
        config={"User": "app", "Cmd": ["python3", "-m", "app"]},
    ).write_docker_archive(tmp_path / "image.tar")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_text_has_the_layer_table_and_the_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["image", str(wasteful(tmp_path))], capsys)
    assert code == 1
    assert "3 layers" in out and "wasted 2.0 MB" in out
    assert "curl -o /tmp/model.tgz" in out  # the command that made the layer
    assert "/tmp/model.tgz (layer 1, deleted by layer 2)" in out
    assert "DW130" in out


def test_json_image_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["image", str(wasteful(tmp_path)), "-f", "json"], capsys)
    document = json.loads(out)
    image = document["image"]
    assert code == 1
    assert image["wasted_bytes"] == 2 * MB
    assert image["size_bytes"] == image["visible_bytes"] + image["wasted_bytes"]
    assert image["efficiency"] == pytest.approx(
        image["visible_bytes"] / image["size_bytes"], abs=1e-6
    )
    assert set(image["dive"]) >= {"efficiency", "wasted_bytes", "user_wasted_percent"}
    assert [layer["wasted_bytes"] for layer in image["layers"]] == [0, 2 * MB, 0]
    assert all(
        set(layer) >= {"digest", "size_bytes", "compressed_bytes", "created_by", "wasted_bytes"}
        for layer in image["layers"]
    )
    assert image["hidden_files"][0] == {
        "path": "/tmp/model.tgz",
        "size_bytes": 2 * MB,
        "stored_in": 1,
        "hidden_by": 2,
        "how": "deleted",
    }
    assert {f["rule"] for f in document["findings"]} >= {"DW130"}


def test_size_budget_from_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = str(wasteful(tmp_path))
    code, out, _ = run(["image", archive, "-f", "json", "--max-size", "1MB"], capsys)
    gates = [f for f in json.loads(out)["findings"] if f["rule"] == "DW138"]
    assert code == 1 and len(gates) == 1
    assert "over the budget of 1.0 MB" in gates[0]["message"]
    code, out, _ = run(["image", archive, "-f", "json", "--max-size", "1GB"], capsys)
    assert not [f for f in json.loads(out)["findings"] if f["rule"] == "DW138"]


def test_dive_ci_file_in_the_current_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = str(wasteful(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".dive-ci").write_text(
        "rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: disabled\n"
        "  highestUserWastedPercent: 0.5\n"
    )
    code, out, _ = run(["image", archive, "-f", "json", "--fail-on", "error"], capsys)
    gates = [f for f in json.loads(out)["findings"] if f["rule"] == "DW138"]
    assert code == 1 and len(gates) == 1
    assert (
        "efficiency" in gates[0]["message"]
        and "of the layers above the base" in (gates[0]["message"])
    )
    # an option wins over the file
    code, out, _ = run(
        [
            "image",
            archive,
            "-f",
            "json",
            "--lowest-efficiency",
            "0",
            "--fail-on",
            "error",
            "--highest-user-wasted-percent",
            "100%",
        ],
        capsys,
    )
    assert code == 0


def test_gates_from_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = str(wasteful(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".dockwise.toml").write_text('[image]\nhighest-wasted-bytes = "1MB"\n')
    code, out, _ = run(["image", archive, "-f", "json"], capsys)
    assert [f["message"] for f in json.loads(out)["findings"] if f["rule"] == "DW138"] == [
        "wasted bytes 2.0 MB are over 1.0 MB"
    ]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--max-size", "lots"], "--max-size: must be a size"),
        (["--lowest-efficiency", "2"], "--lowest-efficiency: must be a ratio between 0 and 1"),
    ],
)
def test_bad_gate_is_a_usage_error(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["image", str(wasteful(tmp_path)), *argv], capsys)
    assert code == 2 and message in err


def test_unreadable_sources_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["image", str(tmp_path / "missing.tar")], capsys)
    assert code == 2 and out == "" and "missing.tar" in err
    broken = tmp_path / "broken.tar"
    broken.write_bytes(wasteful(tmp_path).read_bytes()[:5000])
    code, out, err = run(["image", str(broken)], capsys)
    assert code == 2 and out == "" and err.startswith("dockwise: error:")


def test_sarif_and_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "report.sarif"
    code, out, _ = run(["image", str(wasteful(tmp_path)), "-f", "sarif", "-o", str(target)], capsys)
    assert code == 1 and out == ""
    rules = {r["ruleId"] for r in json.loads(target.read_text())["runs"][0]["results"]}
    assert "DW130" in rules


def test_gate_values() -> None:
    assert parse_size("200MB") == 200 * MB
    assert parse_size("1.5 GiB") == int(1.5 * 1024**3)
    assert parse_size(1234) == 1234
    assert parse_ratio("90%") == pytest.approx(0.9)
    assert parse_ratio(0.25) == 0.25
    with pytest.raises(GateError):
        parse_size("-1MB")
    with pytest.raises(GateError):
        parse_ratio(True)
    assert gates_from_table({"max-size": "20MB"}) == Gates(max_size=20 * MB)
    with pytest.raises(GateError, match="unknown setting"):
        gates_from_table({"max_size": "20MB"})
    assert gates_from_dive_ci("rules:\n  lowestEfficiency: disabled\n") == Gates()
    assert gates_from_dive_ci("") == Gates()
    with pytest.raises(GateError, match="rules.lowestEfficency"):
        gates_from_dive_ci("rules:\n  lowestEfficency: 0.9\n")
    assert Gates(max_size=1).merged(Gates(lowest_efficiency=0.5)) == Gates(1, 0.5)


def test_tolerated_entries_are_notes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from imagegen import Hardlink

    archive = make_image([LayerSpec([File("a", b"x"), Hardlink("b", "nothere")])])
    path = archive.write_docker_archive(tmp_path / "i.tar")
    code, out, err = run(["image", str(path), "-f", "json"], capsys)
    assert "hard link b to nothere, which is not a file below it" in err
    assert "hard link b to nothere" in " ".join(json.loads(out)["notes"])


def test_only_image_rules_can_report_on_an_image_read_alone(tmp_path: Path) -> None:
    """`dockwise image` runs the image rules only: every other rule, run on the same
    image project, reports nothing (they judge files such a project does not have)."""
    from dockwise.config import Config
    from dockwise.engine import check_project
    from dockwise.imagescan.analysis import analyse
    from dockwise.imagescan.join import image_part, image_project
    from dockwise.rules import all_rules, image_rules
    from dockwise.sources.image import open_image

    token = "ghp_" + "Xy7Qw2Rt9Lk3Zp8Vb4Nm6Jh1Gf5Dc0Sa3Ee9"
    archive = make_image(
        [
            LayerSpec([File("usr/bin/python3.11", b"\x7fELF" + b"\0" * 1000, mode=0o755)]),
            LayerSpec(
                [
                    File("var/lib/apt/lists/deb.debian.org_dists", b"x" * 5000),
                    File("root/.cache/pip/wheels/a.whl", b"w" * 5000),
                    File("app/.env", f"GITHUB_TOKEN={token}\n".encode()),
                ],
                created_by="RUN pip install -r requirements.txt",
            ),
            LayerSpec([whiteout("app/.env")], created_by="RUN rm /app/.env"),
        ],
        config={
            "User": "",
            "Env": [f"GITHUB_TOKEN={token}"],
            "Cmd": ["/bin/sh", "-c", "python3 -m app"],
            "Healthcheck": {"Test": ["CMD", "curl", "-f", "http://localhost/"]},
        },
    ).write_docker_archive(tmp_path / "image.tar")
    with open_image(str(archive)) as image:
        project = image_project(image_part(analyse(image)), Config())
    everything = sorted(check_project(project, all_rules()).findings, key=lambda f: f.sort_key())
    image_only = sorted(check_project(project, image_rules()).findings, key=lambda f: f.sort_key())
    assert len({f.rule for f in image_only}) >= 5
    assert everything == image_only
