"""--apply: the limits written into compose files and Kubernetes manifests, in place,
comments and formatting kept, a diff first."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockwise.limits.apply import guess_indent, open_target, split_documents
from dockwise.limits.errors import LimitsError
from dockwise.limits.series import UsageSeries
from dockwise.limits.strategy import MIB, Options, Recommendation, recommend

COMPOSE = """\
# the shop
services:
  web:
    image: acme/web:1.4  # pinned
    ports: ["8000:8000"]
    deploy:
      resources:
        limits:
          memory: 2G   # too much?
          cpus: '2.0'
  db:
    image: postgres:16
    mem_limit: 1g
"""

MANIFEST = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: web
          image: acme/web:1.4   # pinned
          resources:
            requests:
              cpu: 100m
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80
"""


def rec(name: str, peak_mib: float = 300, kubernetes: bool = False) -> Recommendation:
    memory = tuple(peak_mib * MIB for _ in range(30))
    series = UsageSeries(name, "test", tuple(float(i) for i in range(30)), memory, (0.2,) * 30)
    return recommend(series, Options(kubernetes=kubernetes))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_compose_deploy_limits_are_replaced_comments_kept(tmp_path: Path) -> None:
    path = write(tmp_path, "compose.yaml", COMPOSE)
    target = open_target(path)
    assert target.kind == "compose"
    assert target.current("shop-web-1") == (2 * 1024 * MIB, 2.0)
    diff = target.apply([rec("shop-web-1")])
    assert "-          memory: 2G   # too much?" in diff
    assert "+          memory: 464M # too much?" in diff
    target.write()
    text = path.read_text()
    assert "# the shop" in text and "image: acme/web:1.4  # pinned" in text
    assert "cpus: '0.3'" in text  # the quoting the file used
    assert "reservations:\n          memory: 464M" in text
    assert "mem_limit: 1g" in text  # the other service untouched
    assert open_target(path).current("web") == (464 * MIB, 0.3)


def test_compose_mem_limit_form_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path, "compose.yaml", COMPOSE)
    target = open_target(path)
    diff = target.apply([rec("db", 800)])
    assert "-    mem_limit: 1g\n" in diff and "+    mem_limit: 1200m\n" in diff
    assert "+    cpus: 0.3\n" in diff
    assert "deploy" not in diff


def test_compose_service_without_limits_gets_deploy_resources(tmp_path: Path) -> None:
    path = write(tmp_path, "compose.yaml", "services:\n  api:\n    image: acme/api\n")
    target = open_target(path)
    target.apply([rec("api")])
    target.write()
    assert path.read_text() == (
        "services:\n  api:\n    image: acme/api\n    deploy:\n      resources:\n"
        '        limits:\n          memory: 464M\n          cpus: "0.3"\n'
        '        reservations:\n          memory: 464M\n          cpus: "0.3"\n'
    )


def test_kubernetes_container_gets_resources_other_documents_untouched(tmp_path: Path) -> None:
    path = write(tmp_path, "deploy.yaml", MANIFEST)
    target = open_target(path)
    assert target.kind == "kubernetes"
    diff = target.apply([rec("shop/web/web", kubernetes=True)])
    target.write()
    text = path.read_text()
    assert "  - port: 80\n" in text  # the Service's own list style
    assert "        - name: web\n          image: acme/web:1.4   # pinned\n" in text
    assert (
        "          resources:\n            requests:\n              cpu: 300m\n"
        "              memory: 464Mi\n            limits:\n              memory: 464Mi\n"
    ) in text
    assert "cpu:" not in text.split("limits:")[1]  # no CPU limit for Kubernetes by default
    added = [line for line in diff.splitlines() if line.startswith("+") and line[:3] != "+++"]
    assert added == [
        "+              cpu: 300m",
        "+              memory: 464Mi",
        "+            limits:",
        "+              memory: 464Mi",
    ]
    assert text.startswith("---\napiVersion: apps/v1\n")


def test_unchanged_round_trip_is_byte_identical(tmp_path: Path) -> None:
    for name, text in (("compose.yaml", COMPOSE), ("deploy.yaml", MANIFEST)):
        assert open_target(write(tmp_path, name, text)).text() == text


def test_service_option_picks_the_place(tmp_path: Path) -> None:
    path = write(tmp_path, "compose.yaml", COMPOSE)
    target = open_target(path)
    assert "mem_limit: 464m" in target.apply([rec("something-else")], "db")


def test_workload_slash_container_picks_a_kubernetes_container(tmp_path: Path) -> None:
    path = write(tmp_path, "deploy.yaml", MANIFEST)
    assert "memory: 464Mi" in open_target(path).apply([rec("x", kubernetes=True)], "web/web")


def test_no_matching_service_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "compose.yaml", COMPOSE)
    with pytest.raises(LimitsError, match=r"no service named cache \(it has: web, db\)"):
        open_target(path).apply([rec("cache")])


def test_a_file_that_is_neither_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LimitsError, match="neither a compose file"):
        open_target(write(tmp_path, "x.yaml", "a: 1\n"))
    with pytest.raises(LimitsError, match="not valid YAML"):
        open_target(write(tmp_path, "y.yaml", "services: [\n"))
    with pytest.raises(LimitsError, match="no such file"):
        open_target(tmp_path / "missing.yaml")


def test_indentation_is_guessed() -> None:
    assert guess_indent(MANIFEST.split("---\n")[1]) == (2, 2)
    assert guess_indent("a:\n    b:\n    - c\n") == (4, 0)


def test_documents_are_split_at_separators() -> None:
    pieces = split_documents(MANIFEST)
    assert len(pieces) == 2 and "".join(pieces) == MANIFEST


def test_series_without_a_place_are_listed(tmp_path: Path) -> None:
    target = open_target(write(tmp_path, "compose.yaml", COMPOSE))
    target.apply([rec("shop-web-1"), rec("shop-cache-1")])
    assert target.skipped == ["shop-cache-1"]
