"""The server a Python program starts: `python -m pkg` / `python main.py` whose code calls
uvicorn itself, read from the syntax tree (never run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockwise.sources.pyapp import PythonApp
from dockwise.sources.servercmd import ServerCommand, read_python_launch

SERVICE = Path(__file__).resolve().parents[2] / "examples" / "service"


def launch(
    files: dict[str, str], entry: str = "app.__main__", env: dict[str, str] | None = None
) -> ServerCommand | None:
    return read_python_launch(PythonApp(files), entry, env or {})


APP = "from fastapi import FastAPI\n\napp = FastAPI()\n"


def test_uvicorn_run_with_a_string_app_and_an_env_port() -> None:
    files = {
        "app/__init__.py": "",
        "app/main.py": APP,
        "app/__main__.py": (
            "import os\nimport uvicorn\n\n"
            'uvicorn.run("app.main:app", host="0.0.0.0", '
            'port=int(os.environ.get("PORT", "8000")), timeout_graceful_shutdown=20)\n'
        ),
    }
    found = launch(files)
    assert found == ServerCommand(
        "uvicorn",
        app="app.main:app",
        host="0.0.0.0",
        port=8000,
        access_log="-",
        graceful_timeout=20.0,
    )
    assert launch(files, env={"PORT": "9000"}).port == 9000  # type: ignore[union-attr]
    unknown = launch(files, env={"PORT": "$PORT"})
    assert unknown is not None and unknown.port is None and unknown.has_variables


def test_config_and_server_with_an_imported_app_and_default_host() -> None:
    files = {
        "app/__init__.py": "",
        "app/main.py": APP,
        "app/__main__.py": (
            "from uvicorn import Config, Server\n"
            "from app.main import app\n\n"
            "def main():\n"
            "    config = Config(app, port=8081, access_log=False)\n"
            "    Server(config).run()\n\n"
            'if __name__ == "__main__":\n    main()\n'
        ),
    }
    found = launch(files)
    assert found is not None
    assert (found.app, found.host, found.port, found.access_log) == (
        "app.main:app",
        "127.0.0.1",
        8081,
        None,
    )
    assert found.effective_host == "127.0.0.1"


def test_a_function_that_is_never_called_starts_nothing() -> None:
    files = {
        "main.py": "import uvicorn\n\ndef serve():\n    uvicorn.run('main:app', port=1)\n",
    }
    assert launch(files, "main") is None


def test_a_main_in_another_module_with_its_argument_bound() -> None:
    files = {
        "app/__init__.py": "",
        "app/main.py": APP,
        "app/server.py": (
            "import uvicorn\n\n"
            "def serve(port, host='0.0.0.0'):\n"
            "    uvicorn.run('app.main:app', host=host, port=port)\n"
        ),
        "app/__main__.py": "from app.server import serve\n\nserve(9100)\n",
    }
    found = launch(files)
    assert found is not None and (found.host, found.port) == ("0.0.0.0", 9100)


def test_pydantic_settings_default_and_environment() -> None:
    files = {
        "main.py": (
            "import uvicorn\nfrom config import settings\nfrom fastapi import FastAPI\n\n"
            "app = FastAPI()\n\n"
            'if __name__ == "__main__":\n'
            "    uvicorn.run(app, host=settings.host, port=settings.port)\n"
        ),
        "config.py": (
            "from pydantic_settings import BaseSettings\n\n"
            "class Settings(BaseSettings):\n"
            "    host: str = '0.0.0.0'\n"
            "    port: int = 8080\n\n"
            "settings = Settings()\n"
        ),
    }
    found = launch(files, "main")
    assert found is not None and (found.app, found.host, found.port) == (
        "main:app",
        "0.0.0.0",
        8080,
    )
    assert launch(files, "main", {"PORT": "81"}).port == 81  # type: ignore[union-attr]


def test_settings_with_an_env_prefix_stay_unknown() -> None:
    files = {
        "main.py": (
            "import uvicorn\nfrom config import Settings\n\n"
            "uvicorn.run('main:app', host='0.0.0.0', port=Settings().port)\n"
        ),
        "config.py": (
            "from pydantic_settings import BaseSettings, SettingsConfigDict\n\n"
            "class Settings(BaseSettings):\n"
            "    model_config = SettingsConfigDict(env_prefix='APP_')\n"
            "    port: int = 8080\n"
        ),
    }
    found = launch(files, "main")
    assert found is not None and found.port is None and found.has_variables
    assert found.effective_port is None


def test_values_dockwise_cannot_know_are_never_guessed() -> None:
    files = {
        "main.py": (
            "import random\nimport sys\nimport uvicorn\n\n"
            "port = random.randint(1000, 2000)\n"
            "uvicorn.run('main:app', host=sys.argv[1], port=port)\n"
        ),
    }
    found = launch(files, "main")
    assert found is not None
    assert (found.host, found.port, found.effective_host, found.has_variables) == (
        None,
        None,
        None,
        True,
    )


def test_two_launches_that_disagree_leave_the_port_unknown() -> None:
    files = {
        "main.py": (
            "import os\nimport uvicorn\n\n"
            "if os.environ.get('DEBUG'):\n"
            "    uvicorn.run('main:app', host='0.0.0.0', port=5000, reload=True)\n"
            "else:\n"
            "    uvicorn.run('main:app', host='0.0.0.0', port=8000)\n"
        ),
    }
    found = launch(files, "main")
    assert found is not None
    assert (found.app, found.host, found.port, found.has_variables) == (
        "main:app",
        "0.0.0.0",
        None,
        True,
    )


def test_kwargs_from_elsewhere_are_unknown() -> None:
    files = {"main.py": "import uvicorn\n\nuvicorn.run('main:app', **OPTIONS)\n"}
    found = launch(files, "main")
    assert found is not None and found.has_variables and found.effective_port is None


@pytest.mark.parametrize(
    ("env", "port", "graceful"),
    [
        ({}, 8000, 10.0),
        ({"PORT": "8123", "SHUTDOWN_TIMEOUT": "25"}, 8123, 25.0),
    ],
)
def test_the_reference_service(env: dict[str, str], port: int, graceful: float) -> None:
    files = {p.relative_to(SERVICE).as_posix(): p for p in SERVICE.rglob("*.py")}
    found = read_python_launch(PythonApp(files), "app.__main__", env)
    assert found is not None
    assert (found.server, found.app, found.host, found.port, found.graceful_timeout) == (
        "uvicorn",
        "app.main:create_app",
        "0.0.0.0",
        port,
        graceful,
    )
    assert found.access_log is None  # access_log=False


def test_a_module_without_a_server_starts_none() -> None:
    files = {"main.py": "import os\n\nprint(os.environ.get('PORT', '1'))\n"}
    assert launch(files, "main") is None
