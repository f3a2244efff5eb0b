"""Image secret rules (DW530-DW533) beyond their examples."""

from __future__ import annotations

from pathlib import Path

from imagetest import image_findings

from dockwise.rules._image_examples import SLIM_BASE, empty, layer

USER = {"Cmd": ["gunicorn", "app:app"], "User": "10001"}
TOKEN = "ghp_" + "Xy7Qw2Rt9Lk3Zp8Vb4Nm6Jh1Gf5Dc0Sa3Ee9"
SETTINGS = f"GITHUB_TOKEN = '{TOKEN}'\n"


def test_what_official_images_set_is_no_credential(tmp_path: Path) -> None:
    config = {
        **USER,
        "Env": [
            "PATH=/usr/local/bin:/usr/bin:/bin",
            "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
            "PYTHON_SHA256=8d3ed8ec5c88c1c95f5e558612a725450d2452813ddad5e58fdb1a53b1209b78",
            "SECRET_KEY_FILE=/run/secrets/django",
            "API_TOKEN=changeme",
        ],
        "Labels": {"org.opencontainers.image.revision": "3f2a9c1d4e5b6a7980f1e2d3c4b5a69788796a5b"},
    }
    assert image_findings("DW530", config, [SLIM_BASE], tmp_path) == []


def test_a_label_with_a_token_is_reported_redacted(tmp_path: Path) -> None:
    config = {**USER, "Labels": {"ci.token": TOKEN}}
    [found] = image_findings("DW530", config, [SLIM_BASE], tmp_path)
    assert "Label ci.token" in found.message and TOKEN not in found.message


def test_history_records_build_argument_values_and_command_lines(tmp_path: Path) -> None:
    layers = [
        SLIM_BASE,
        empty("/bin/sh -c #(nop) ARG MODE"),
        layer("|1 MODE=production /bin/sh -c make", files={"/app/a": "a\n"}),
        layer(
            f"/bin/sh -c git clone https://oauth2:{TOKEN}@github.com/acme/lib.git",
            files={"/app/b": "b\n"},
        ),
    ]
    [found] = image_findings("DW531", USER, layers, tmp_path)
    assert "history entry 3 records the command" in found.message
    assert TOKEN not in found.message


def test_a_secret_still_shown_is_not_also_a_deleted_one(tmp_path: Path) -> None:
    """Copied in layer 1, rewritten unchanged by a chmod in layer 2: the copy in layer 1 is
    hidden, but the secret shows in the final filesystem: one finding, DW532."""
    layers = [
        SLIM_BASE,
        layer("COPY settings.py /app/", files={"/app/settings.py": SETTINGS}),
        layer("RUN chmod 600 /app/settings.py", files={"/app/settings.py": SETTINGS}),
    ]
    assert len(image_findings("DW532", USER, layers, tmp_path)) == 1
    assert image_findings("DW533", USER, layers, tmp_path) == []


def test_a_folder_deleted_whole_still_ships_its_secrets(tmp_path: Path) -> None:
    layers = [
        SLIM_BASE,
        layer("COPY secrets /app/secrets", files={"/app/secrets/settings.py": SETTINGS}),
        layer("RUN rm -rf /app/secrets", delete=["/app/secrets"]),
    ]
    [found] = image_findings("DW533", USER, layers, tmp_path)
    assert "deleted with its folder in layer 2" in found.message
    assert image_findings("DW532", USER, layers, tmp_path) == []


def test_package_files_are_not_the_images_secrets(tmp_path: Path) -> None:
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----\n"
    layers = [
        SLIM_BASE,
        layer(
            "RUN pip install requests",
            files={
                "/usr/local/lib/python3.11/site-packages/tests/test_key.pem": key,
                "/usr/share/doc/demo/settings.py": SETTINGS,
            },
        ),
    ]
    assert image_findings("DW532", USER, layers, tmp_path) == []


def test_a_guessable_value_of_a_credential_argument_is_a_warning(tmp_path: Path) -> None:
    layers = [
        SLIM_BASE,
        layer("|3 TOKEN=s3cr3tvalue DEBUG=true CERT_FILE=/run/secrets/cert /bin/sh -c make",
              files={"/app/a": "a\n"}),
    ]  # fmt: skip
    [found] = image_findings("DW531", USER, layers, tmp_path)
    assert found.severity.label == "warning" and "build argument TOKEN" in found.message
    assert "s3cr3tvalue" not in found.message
