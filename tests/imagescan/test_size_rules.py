"""Image size rules (rules/size_image.py) on generated images, beyond their examples: where
they must stay quiet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from imagegen import File, LayerSpec, make_image

from dockwise.cli import main

MB = 1_000_000
PYTHON = File("usr/bin/python3.11", b"\x7fELF", mode=0o755)


def findings(
    layers: list[LayerSpec], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, list[str]]:
    tmp_path.mkdir(exist_ok=True)
    archive = make_image(layers, config={"User": "app"}).write_docker_archive(tmp_path / "i.tar")
    main(["image", str(archive), "-f", "json", "--no-secrets", "--select", "size"])
    found: dict[str, list[str]] = {}
    for finding in json.loads(capsys.readouterr().out)["findings"]:
        found.setdefault(finding["rule"], []).append(finding["message"])
    return found


def test_package_databases_rewritten_by_a_second_install_are_no_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = File("var/lib/dpkg/status", b"s" * (2 * MB))
    templates = File("var/cache/debconf/templates.dat", b"t" * (2 * MB))
    found = findings(
        [LayerSpec([PYTHON, status, templates]), LayerSpec([status, templates])],
        tmp_path,
        capsys,
    )
    assert "DW131" not in found


def test_application_files_stored_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = File("app/data.bin", b"d" * (2 * MB))
    found = findings([LayerSpec([PYTHON, data]), LayerSpec([data])], tmp_path, capsys)
    assert len(found["DW131"]) == 1 and "/app/data.bin (2.0 MB)" in found["DW131"][0]


def test_small_hidden_files_are_no_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = findings(
        [
            LayerSpec([PYTHON, File("etc/passwd", b"p" * 2000), File("tmp/x", b"x" * 5000)]),
            LayerSpec([File("etc/passwd", b"q" * 2100)]),
        ],
        tmp_path,
        capsys,
    )
    assert "DW130" not in found and "DW131" not in found


def test_bytecode_needs_a_known_interpreter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyc = File("app/__pycache__/main.cpython-312.pyc", b"c" * 100)
    assert "DW137" not in findings([LayerSpec([pyc])], tmp_path, capsys)  # no python found
    found = findings([LayerSpec([PYTHON, pyc])], tmp_path / "b", capsys)
    assert found["DW137"] == [
        "1 bytecode files (100 B) for a Python the image does not have (cpython-311 here) in "
        "/app, from layer 0"
    ]


def test_headers_without_a_compiler_are_no_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    headers = File("usr/include/big.h", b"h" * (11 * MB))
    assert "DW134" not in findings([LayerSpec([PYTHON, headers])], tmp_path, capsys)
    cc1 = File("usr/libexec/gcc/x86_64-linux-gnu/12/cc1", b"c" * 100)
    assert "DW134" in findings([LayerSpec([PYTHON, headers, cc1])], tmp_path / "b", capsys)
