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


def test_hypercorn_serve_with_a_config_bound_beside_it() -> None:
    files = {
        "app/__init__.py": "",
        "app/main.py": APP,
        "app/__main__.py": (
            "import asyncio\nimport os\n"
            "from hypercorn.asyncio import serve\nfrom hypercorn.config import Config\n"
            "from app.main import app\n\n"
            "config = Config()\n"
            "config.bind = [f\"0.0.0.0:{os.getenv('PORT', '8000')}\"]\n"
            "config.graceful_timeout = 12\n"
            "asyncio.run(serve(app, config))\n"
        ),
    }
    found = launch(files, env={"PORT": "8443"})
    assert found is not None
    assert (found.server, found.app, found.host, found.port, found.graceful_timeout) == (
        "hypercorn",
        "app.main:app",
        "0.0.0.0",
        8443,
        12.0,
    )


def test_hypercorn_config_from_a_file_is_unknown() -> None:
    files = {
        "main.py": (
            "import asyncio\nfrom hypercorn.asyncio import serve\n"
            "from hypercorn.config import Config\nfrom fastapi import FastAPI\n\n"
            "app = FastAPI()\nconfig = Config.from_toml('hypercorn.toml')\n"
            "asyncio.run(serve(app, config))\n"
        ),
    }
    found = launch(files, "main")
    assert found is not None and found.app == "main:app"
    assert found.has_variables and found.effective_port is None


GUNICORN_APP = (
    "import multiprocessing\nfrom gunicorn.app.base import BaseApplication\n\n"
    "class StandaloneApplication(BaseApplication):\n"
    "    def __init__(self, app, options=None):\n"
    "        self.options = options or {}\n"
    "        self.application = app\n"
    "        super().__init__()\n\n"
    "    def load_config(self):\n"
    "        for key, value in self.options.items():\n"
    "            self.cfg.set(key.lower(), value)\n\n"
    "    def load(self):\n"
    "        return self.application\n"
)


def test_gunicorn_standalone_application_with_its_options() -> None:
    files = {
        "wsgi/__init__.py": "",
        "wsgi/server.py": GUNICORN_APP,
        "wsgi/web.py": "from flask import Flask\n\napp = Flask(__name__)\n",
        "wsgi/__main__.py": (
            "from wsgi.server import StandaloneApplication\nfrom wsgi.web import app\n\n"
            "options = {\n"
            "    'bind': '%s:%s' % ('0.0.0.0', '8080'),\n"
            "    'workers': multiprocessing.cpu_count(),\n"
            "    'graceful_timeout': 45,\n"
            "}\n"
            "StandaloneApplication(app, options).run()\n"
        ),
    }
    found = launch(files, "wsgi.__main__")
    assert found is not None
    assert (found.server, found.app, found.host, found.port, found.workers) == (
        "gunicorn",
        "wsgi.web:app",
        "0.0.0.0",
        8080,
        None,
    )
    assert found.graceful_timeout == 45.0 and found.config_file is None


def test_gunicorn_application_without_a_bind_follows_port_or_the_default() -> None:
    files = {
        "main.py": GUNICORN_APP
        + "\napp = object()\n\nif __name__ == '__main__':\n"
        + "    StandaloneApplication(app, {'workers': 2}).run()\n",
    }
    found = launch(files, "main")
    assert found is not None and (found.host, found.port, found.workers) == ("127.0.0.1", 8000, 2)
    assert found.config_file is not None  # load_config in code: no default graceful timeout
    on_port = launch(files, "main", {"PORT": "5000"})
    assert on_port is not None and (on_port.host, on_port.port) == ("0.0.0.0", 5000)


def test_a_port_changed_under_a_condition_is_unknown() -> None:
    files = {
        "main.py": (
            "import os\nimport uvicorn\n\n"
            "PORT = 8000\nif os.environ.get('DEV'):\n    PORT = 5000\n\n"
            "class Other:\n    def main(self):\n        pass\n\n"
            "def main():\n    uvicorn.run('main:app', host='0.0.0.0', port=PORT)\n\n"
            "main()\n"
        ),
    }
    found = launch(files, "main")
    assert found is not None and found.host == "0.0.0.0"  # main() is followed past Other.main
    assert found.port is None and found.has_variables


def test_only_the_modules_on_the_way_are_parsed() -> None:
    app = PythonApp(
        {
            "main.py": "import uvicorn\n\nuvicorn.run('main:app', host='0.0.0.0', port=8000)\n",
            "broken.py": "def (:\n",  # parsed, it would be listed among syntax errors
            "other.py": "import uvicorn\n\ndef never():\n    uvicorn.run('x:y', port=1)\n",
        }
    )
    found = read_python_launch(app, "main", {})
    assert found is not None and found.port == 8000
    assert app.syntax_errors == []


def test_the_parse_budget_holds() -> None:
    padding = "# " + "x" * 1000 + "\n"
    big = padding * 700  # about 0.7 MiB
    files = {
        "big.py": big,
        "main.py": big + "import uvicorn\n\nuvicorn.run('main:app', host='0.0.0.0')\n",
    }
    app = PythonApp(files)
    assert app.module("big") is not None  # read first: the budget is mostly spent
    assert read_python_launch(app, "main", {}) is None
    assert read_python_launch(PythonApp(files), "main", {}) is not None
