"""Configuration: secrets from NAME or NAME_FILE, clear errors, never the value."""

from __future__ import annotations

from pathlib import Path

import pytest
from app.settings import ConfigError, load_settings


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings({"API_TOKEN": "t"})
    assert settings.database_url == "sqlite:////data/notes.db"
    assert settings.port == 8000 and settings.shutdown_timeout == 10
    assert not settings.is_postgres


def test_token_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "api_token"
    secret.write_text("s3cr3t-value\n")
    assert load_settings({"API_TOKEN_FILE": str(secret)}).api_token == "s3cr3t-value"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "API_TOKEN or API_TOKEN_FILE must be set"),
        (
            {"API_TOKEN_FILE": "/nonexistent/token"},
            "API_TOKEN_FILE=/nonexistent/token cannot be read",
        ),
        ({"API_TOKEN": "a", "API_TOKEN_FILE": "/x"}, "not both"),
        (
            {"API_TOKEN": "t", "DATABASE_URL": "postgresql://u@db/n"},
            "set DB_PASSWORD or DB_PASSWORD_FILE",
        ),
        ({"API_TOKEN": "t", "DATABASE_URL": "mysql://u@db/n"}, "unsupported scheme 'mysql'"),
        ({"API_TOKEN": "t", "PORT": "http"}, "PORT='http' is not a number"),
        ({"API_TOKEN": "t", "MAX_BODY_BYTES": "0"}, "must be positive"),
    ],
)
def test_bad_configuration(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_settings(env)


def test_empty_secret_file(tmp_path: Path) -> None:
    empty = tmp_path / "db_password"
    empty.write_text("")
    env = {"API_TOKEN": "t", "DATABASE_URL": "postgresql://u@db/n", "DB_PASSWORD_FILE": str(empty)}
    with pytest.raises(ConfigError, match="is empty"):
        load_settings(env)


def test_password_from_file_for_postgres(tmp_path: Path) -> None:
    secret = tmp_path / "db_password"
    secret.write_text("pw-from-file")
    env = {"API_TOKEN": "t", "DATABASE_URL": "postgresql://u@db/n", "DB_PASSWORD_FILE": str(secret)}
    settings = load_settings(env)
    assert settings.is_postgres and settings.db_password == "pw-from-file"
