"""Small projects for the health tests: a FastAPI service with its compose file and
Kubernetes manifests, written carefully, and a way to run rules on a project folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.findings import Finding
from dockwise.project import load_project
from dockwise.rules import all_rules

PY_TEST = (
    '["CMD", "python", "-c", "import urllib.request; '
    "urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)\"]"
)

DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /srv
COPY app/ ./app/
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
"""

MAIN = """\
from fastapi import FastAPI

from app.api import router

app = FastAPI()
app.include_router(router, prefix="/api")


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/ready")
def ready() -> dict[str, str]:
    return {"status": "ready"}
"""

API = """\
from fastapi import APIRouter

router = APIRouter()


@router.get("/items/{item_id}")
def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}
"""

COMPOSE = f"""\
services:
  web:
    build: .
    image: ghcr.io/acme/shop:1.0.0
    ports: ["8000:8000"]
    healthcheck:
      test: {PY_TEST}
      interval: 15s
      timeout: 3s
      retries: 3
    depends_on:
      db:
        condition: service_healthy
  db:
    image: postgres:16
    healthcheck:
      test: ["CMD", "pg_isready", "-U", "postgres"]
      interval: 10s
      timeout: 3s
      retries: 5
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/shop:1.0.0
          ports:
            - name: http
              containerPort: 8000
          readinessProbe:
            httpGet: {path: /ready, port: http}
          livenessProbe:
            httpGet: {path: /healthz, port: 8000}
"""


def careful_project() -> dict[str, str]:
    return {
        "Dockerfile": DOCKERFILE,
        "app/__init__.py": "",
        "app/main.py": MAIN,
        "app/api.py": API,
        "compose.yaml": COMPOSE,
        "deploy/deployment.yaml": DEPLOYMENT,
    }


def write(files: dict[str, str], folder: Path) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))
    return folder


def run(folder: Path, *selected: str) -> list[Finding]:
    """Findings of the selected rules (ids or id prefixes: `DW2` is the health lesson)."""
    rules = [r for r in all_rules() if r.id.startswith(selected)]
    outcome = check_project(load_project(folder, Config(select=selected)), rules)
    assert not outcome.problems, outcome.problems
    return [f for f in outcome.findings if f.rule.startswith(selected)]
