"""The Python service by AST: routes through includes, log files, prints, observability."""

from __future__ import annotations

import textwrap
from pathlib import Path

from dockwise.sources.pyapp import (
    PythonApp,
    load_app,
    module_name,
    parse_module,
    read_logging_ini,
    route_matches,
)


def app_of(files: dict[str, str]) -> PythonApp:
    return PythonApp({relpath: textwrap.dedent(text) for relpath, text in files.items()})


def paths(app: PythonApp, entry: str | None = None) -> tuple[list[str], bool]:
    routes, complete = app.routes(entry)
    return sorted(route.path for route in routes), complete


def test_module_names() -> None:
    assert module_name("src/app/main.py") == "app.main"
    assert module_name("app/__init__.py") == "app"
    assert module_name("main.py") == "main"


def test_fastapi_routers_across_modules_with_prefixes() -> None:
    app = app_of(
        {
            "app/main.py": """
                from fastapi import FastAPI
                from app.api import health
                from .api.items import router as items_router

                app = FastAPI()
                app.include_router(health.router)
                app.include_router(items_router, prefix="/api")

                @app.get("/")
                def root(): ...
            """,
            "app/api/health.py": """
                from fastapi import APIRouter
                router = APIRouter()

                @router.get("/health")
                def health(): ...
            """,
            "app/api/items.py": """
                from fastapi import APIRouter
                router = APIRouter(prefix="/items")

                @router.get("/{item_id}")
                def item(item_id: int): ...
            """,
        }
    )
    assert paths(app, "app.main:app") == (["/", "/api/items/{item_id}", "/health"], True)
    assert paths(app) == (["/", "/api/items/{item_id}", "/health"], True)


def test_unresolvable_include_makes_the_routes_incomplete() -> None:
    app = app_of(
        {
            "main.py": """
                from fastapi import FastAPI
                from somewhere_else import router
                app = FastAPI()
                app.include_router(router)
                @app.get("/ping")
                def ping(): ...
            """
        }
    )
    assert paths(app, "main:app") == (["/ping"], False)


def test_dynamic_path_makes_the_routes_incomplete() -> None:
    app = app_of(
        {
            "main.py": """
                from flask import Flask
                app = Flask(__name__)
                PREFIX = "/v1"
                @app.route(PREFIX + "/x")
                def x(): ...
            """
        }
    )
    assert paths(app)[1] is False


def test_flask_blueprints() -> None:
    app = app_of(
        {
            "web/__init__.py": """
                from flask import Flask
                from web.views import bp

                def create_app():
                    app = Flask(__name__)
                    app.register_blueprint(bp, url_prefix="/admin")
                    app.add_url_rule("/healthz", view_func=lambda: "ok")
                    return app
            """,
            "web/views.py": """
                from flask import Blueprint
                bp = Blueprint("admin", __name__)
                @bp.route("/users/<int:uid>")
                def user(uid): ...
            """,
        }
    )
    assert paths(app, "web:create_app()") == (["/admin/users/<int:uid>", "/healthz"], True)


def test_flask_routes_declared_on_an_imported_blueprint() -> None:
    app = app_of(
        {
            "app/__init__.py": """
                from flask import Flask
                def create_app():
                    app = Flask(__name__)
                    from app.main import bp as main_bp
                    app.register_blueprint(main_bp)
                    return app
            """,
            "app/main/__init__.py": "from flask import Blueprint\nbp = Blueprint('main', __name__)\n",
            "app/main/routes.py": """
                from app.main import bp
                @bp.route("/index")
                def index(): ...
            """,
        }
    )
    assert paths(app, "app:create_app") == (["/index"], True)


def test_starlette_routes_and_mounts() -> None:
    app = app_of(
        {
            "app.py": """
                from starlette.applications import Starlette
                from starlette.routing import Route, Mount
                app = Starlette(routes=[
                    Route("/health", health),
                    Mount("/api", routes=[Route("/users", users)]),
                ])
            """
        }
    )
    assert paths(app) == (["/api/users", "/health"], True)


def test_aiohttp_router() -> None:
    app = app_of(
        {
            "server.py": """
                from aiohttp import web
                app = web.Application()
                app.router.add_get("/status", status)
                app.add_routes([web.get("/ready", ready)])
            """
        }
    )
    assert paths(app) == (["/ready", "/status"], True)


def test_django_urlpatterns_with_include() -> None:
    app = app_of(
        {
            "proj/urls.py": """
                from django.urls import include, path
                urlpatterns = [
                    path("health/", health),
                    path("api/", include("api.urls")),
                ]
            """,
            "api/urls.py": """
                from django.urls import path, re_path
                urlpatterns = [path("items/<int:pk>/", item), re_path(r"^ping/$", ping)]
            """,
        }
    )
    found, complete = paths(app)
    assert "/health/" in found and "/api/items/<int:pk>/" in found and "/api/ping/" in found
    assert complete


def test_route_matching() -> None:
    assert route_matches("/health", "/health")
    assert route_matches("/health/", "/health")
    assert route_matches("/items/{id}", "/items/3")
    assert route_matches("/users/<int:uid>", "/users/7?x=1")
    assert route_matches("/static/{path:path}", "/static/a/b.css")
    assert not route_matches("/healthz", "/health")
    assert not route_matches("/items/{id}", "/items/3/extra")


def test_log_files_in_code_and_dict_config() -> None:
    module = parse_module(
        textwrap.dedent(
            """
            import logging
            from logging.handlers import RotatingFileHandler
            handler = RotatingFileHandler("/var/log/app.log", maxBytes=10)
            logging.basicConfig(filename="app.log")
            logging.basicConfig(level=logging.INFO)
            LOGGING = {"handlers": {"file": {"class": "logging.FileHandler", "filename": "x.log"}}}
            logging.config.fileConfig("logging.conf")
            print("hello")
            """
        ),
        "app/log.py",
    )
    kinds = [(sink.kind, sink.target, sink.line) for sink in module.log_files]
    assert ("RotatingFileHandler", "/var/log/app.log", 4) in kinds
    assert ("basicConfig(filename=...)", "app.log", 5) in kinds
    assert ("dictConfig", "x.log", 7) in kinds
    assert len(kinds) == 3
    assert module.log_configs == (("logging.conf", 8),)
    assert module.prints == (9,)


def test_logging_ini() -> None:
    text = "[handler_file]\nclass=handlers.RotatingFileHandler\nargs=('/var/log/x.log', 'a')\n"
    assert read_logging_ini(text) == [(2, "RotatingFileHandler", "/var/log/x.log")]
    assert read_logging_ini("[handler_console]\nclass=StreamHandler\n") == []


def test_code_path_follows_imports_to_helper_modules() -> None:
    app = app_of(
        {
            "app/main.py": "from app.logsetup import configure\nimport app.unrelated_one\n",
            "app/logsetup.py": "import logging\nh = logging.FileHandler('/tmp/x.log')\n",
            "app/unrelated_one.py": "x = 1\n",
            "tools/script.py": "import logging\nlogging.FileHandler('a.log')\n",
        }
    )
    reached = [module.relpath for module in app.code_path("app.main")]
    assert reached[0] == "app/main.py"
    assert "app/logsetup.py" in reached and "tools/script.py" not in reached


def test_observability_and_settings() -> None:
    module = parse_module(
        "from opentelemetry import trace\nimport structlog\nSECRET_KEY = 'abc'\n"
        "HEADER = 'X-Request-ID'\n",
        "settings.py",
    )
    assert module.observability == {"opentelemetry": "tracing", "structlog": "structured logs"}
    assert [(s.name, s.line) for s in module.settings] == [("SECRET_KEY", 3), ("HEADER", 4)]
    assert module.request_id_header


def test_bad_python_is_a_syntax_error_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "py2.py").write_text("print 'hello'\n")
    (tmp_path / "nul.py").write_bytes(b"x = 1\x00\n")
    (tmp_path / "deep.py").write_text("x = " + "(" * 5000 + ")" * 5000 + "\n")
    app = load_app((path, path.name) for path in sorted(tmp_path.iterdir()))
    assert app.syntax_errors == []  # nothing is parsed before a question needs it
    for name in ("py2", "nul", "deep"):
        module = app.module(name)
        assert module is not None and module.syntax_error, name
    assert {module.relpath for module in app.syntax_errors} == {"py2.py", "nul.py", "deep.py"}


def test_a_service_reads_at_most_its_parse_budget_of_python(tmp_path: Path) -> None:
    from dockwise.sources import pyapp

    body = "x = 1\n" * (300 * 1024 // 6)  # ~300 KB a module
    files = {f"m{i}.py": f"import m{i + 1}\n" + body for i in range(12)}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    app = load_app((tmp_path / name, name) for name in files)
    reached = app.code_path("m0")
    parsed = [m for m in reached if not m.syntax_error]
    skipped = [m for m in app.syntax_errors if (m.syntax_error or "").startswith("not read")]
    assert 0 < len(parsed) * 300 * 1024 <= pyapp.MAX_APP_PARSE_BYTES + 300 * 1024
    assert skipped, "the modules beyond the budget are said not read"


def test_route_templates_compile_once() -> None:
    from dockwise.sources.pyapp import _route_pattern

    _route_pattern.cache_clear()
    for _ in range(3):
        assert route_matches("/items/{id}", "/items/7")
    assert _route_pattern.cache_info().misses == 1
