"""Configuration from the environment, checked once at start.

Secrets come from `NAME` or, better, `NAME_FILE` (a file mounted at /run/secrets/...), never
from the image. A missing or unreadable secret is a `ConfigError` with a message that names
the variable, never its value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:////data/notes.db"


class ConfigError(Exception):
    """The service cannot start with this environment."""


@dataclass(frozen=True)
class Settings:
    port: int
    database_url: str
    db_password: str | None
    api_token: str
    max_body_bytes: int
    shutdown_timeout: float
    log_level: str

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))


def read_secret(name: str, env: Mapping[str, str]) -> str | None:
    """`NAME` or the content of the file named by `NAME_FILE` (one trailing newline dropped)."""
    value = env.get(name)
    file_name = env.get(f"{name}_FILE")
    if value and file_name:
        raise ConfigError(f"set {name} or {name}_FILE, not both")
    if file_name:
        try:
            value = Path(file_name).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise ConfigError(f"{name}_FILE={file_name} cannot be read: {reason}") from None
        if not value:
            raise ConfigError(f"{name}_FILE={file_name} is empty")
    return value or None


def _number(
    env: Mapping[str, str], name: str, default: str, kind: type[int] | type[float]
) -> float:
    raw = env.get(name, default)
    try:
        number = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if number <= 0:
        raise ConfigError(f"{name}={raw!r} must be positive")
    return number


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    api_token = read_secret("API_TOKEN", env)
    if not api_token:
        raise ConfigError("API_TOKEN or API_TOKEN_FILE must be set (the token clients send)")
    database_url = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        scheme = database_url.split(":", 1)[0]
        raise ConfigError(f"DATABASE_URL: unsupported scheme {scheme!r} (sqlite or postgresql)")
    settings = Settings(
        port=int(_number(env, "PORT", "8000", int)),
        database_url=database_url,
        db_password=read_secret("DB_PASSWORD", env),
        api_token=api_token,
        max_body_bytes=int(_number(env, "MAX_BODY_BYTES", "65536", int)),
        shutdown_timeout=_number(env, "SHUTDOWN_TIMEOUT", "10", float),
        log_level=env.get("LOG_LEVEL", "INFO").upper(),
    )
    if settings.is_postgres and not settings.db_password:
        raise ConfigError("DATABASE_URL names PostgreSQL: set DB_PASSWORD or DB_PASSWORD_FILE")
    return settings
