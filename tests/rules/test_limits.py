"""Edge cases of the limits rules (DW401-DW408)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.findings import Finding
from dockwise.project import load_project
from dockwise.rules import all_rules, rule_by_id


def run(rule_id: str, files: dict[str, str], folder: Path) -> list[Finding]:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))
    rule = rule_by_id(rule_id)
    assert rule is not None and rule.id == rule_id
    outcome = check_project(load_project(folder, Config(select=(rule_id,))), [rule])
    assert not outcome.problems, outcome.problems
    return [f for f in outcome.findings if f.rule == rule_id]


def seen(rule_id: str, files: dict[str, str], folder: Path) -> list[tuple[str, int | None, str]]:
    """(path, line, severity) of one rule's findings."""
    return [(f.path, f.line, f.severity.label) for f in run(rule_id, files, folder)]


def deployment(resources: str = "", *, kind: str = "Deployment", extra: str = "") -> str:
    body = textwrap.indent(textwrap.dedent(resources), " " * 12) if resources else ""
    return (
        "apiVersion: apps/v1\n"
        f"kind: {kind}\n"
        "metadata:\n"
        "  name: web\n"
        "spec:\n"
        "  selector:\n"
        "    matchLabels: {app: web}\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "        - name: web\n"
        "          image: acme/web:1.4.2\n"
        + (f"          resources:\n{body}" if body else "")
        + extra
    )


# --- DW401 / DW402: compose ------------------------------------------------------------

PLAIN = """\
    services:
      web:
        image: acme/web:1.4.2
      db:
        image: postgres:16
        mem_limit: 1g
        cpus: 2
"""


def test_dw401_dw402_report_the_service_line(tmp_path: Path) -> None:
    assert seen("DW401", {"compose.yaml": PLAIN}, tmp_path) == [("compose.yaml", 2, "warning")]
    # advice: Docker already shares the CPU fairly by weight; a cap only bounds a runaway
    assert seen("DW402", {"compose.yaml": PLAIN}, tmp_path) == [("compose.yaml", 2, "info")]


def test_dw401_message_and_fix_give_the_yaml_and_headroom(tmp_path: Path) -> None:
    [finding] = run("DW401", {"compose.yaml": PLAIN}, tmp_path)
    assert finding.message == "compose service web has no memory limit"
    assert "deploy: {resources: {limits: {memory: 512M" in finding.fix
    assert "50% headroom" in finding.fix and "docker stats" in finding.fix


def test_dw401_deploy_limits_count(tmp_path: Path) -> None:
    text = """\
        services:
          web:
            image: acme/web:1.4.2
            deploy:
              resources:
                limits: {memory: 256M, cpus: "0.5"}
    """
    assert seen("DW401", {"compose.yaml": text}, tmp_path) == []
    assert seen("DW402", {"compose.yaml": text}, tmp_path) == []


def test_dw401_limit_from_the_override_file(tmp_path: Path) -> None:
    files = {
        "compose.yaml": "services:\n  web:\n    image: acme/web:1.4.2\n",
        "compose.override.yaml": "services:\n  web:\n    mem_limit: 256m\n",
    }
    assert seen("DW401", files, tmp_path) == []


def test_dw401_development_files_and_services_are_info(tmp_path: Path) -> None:
    files = {
        "docker-compose.dev.yml": "services:\n  web:\n    image: acme/web:1.4.2\n",
        "compose.yaml": """\
            services:
              debug-shell:
                image: acme/tools:1
              web:
                image: acme/web:1.4.2
                mem_limit: 256m
                cpus: 1
              shell:
                image: acme/web:1.4.2
                profiles: [debug]
        """,
    }
    assert seen("DW401", files, tmp_path) == [
        ("compose.yaml", 2, "info"),
        ("compose.yaml", 8, "info"),
        ("docker-compose.dev.yml", 2, "info"),
    ]


def test_dw401_a_development_server_makes_the_whole_file_development(tmp_path: Path) -> None:
    text = """\
        services:
          web:
            build: .
            command: python manage.py runserver 0.0.0.0:8000
          db:
            image: postgres:16
    """
    found = run("DW401", {"compose.yaml": text, "Dockerfile": "FROM python:3.12-slim\n"}, tmp_path)
    assert [(f.line, f.severity.label) for f in found] == [(2, "info"), (5, "info")]
    assert "service web runs runserver" in found[1].message


def test_dw401_source_mounted_into_the_built_image_is_development(tmp_path: Path) -> None:
    text = """\
        services:
          web:
            build: .
            volumes: [".:/app"]
          cache:
            image: redis:7
            volumes: ["./redis.conf:/etc/redis.conf:ro"]
    """
    files = {"compose.yaml": text, "Dockerfile": "FROM python:3.12-slim\n"}
    assert [s for _, _, s in seen("DW401", files, tmp_path)] == ["info", "info"]
    without_mount = text.replace('volumes: [".:/app"]', "ports: ['8000:8000']")
    files["compose.yaml"] = without_mount
    assert [s for _, _, s in seen("DW401", files, tmp_path)] == ["warning", "warning"]


def test_dw401_one_off_services_are_not_asked(tmp_path: Path) -> None:
    text = """\
        services:
          migrate:
            image: acme/web:1.4.2
            command: alembic upgrade head
          seed:
            image: acme/web:1.4.2
            command: ["python", "seed.py"]
            restart: "no"
          web:
            image: acme/web:1.4.2
            mem_limit: 256m
            depends_on:
              seed:
                condition: service_completed_successfully
    """
    assert seen("DW401", {"compose.yaml": text}, tmp_path) == []


def test_dw401_extension_entries_and_override_fragments_are_skipped(tmp_path: Path) -> None:
    files = {
        "compose.yaml": """\
            services:
              x-common:
                image: acme/web:1.4.2
              web:
                image: acme/web:1.4.2
                mem_limit: 256m
        """,
        "overrides/compose.https.yaml": """\
            services:
              web:
                environment:
                  HTTPS: "1"
        """,
    }
    assert seen("DW401", files, tmp_path) == []


def test_dw401_production_sibling_makes_the_base_info(tmp_path: Path) -> None:
    files = {
        "docker-compose.yml": "services:\n  web:\n    image: acme/web:1.4.2\n",
        "docker-compose.prod.yml": "services:\n  web:\n    image: acme/web:1.4.2\n",
    }
    assert seen("DW401", files, tmp_path) == [
        ("docker-compose.prod.yml", 2, "warning"),
        ("docker-compose.yml", 2, "info"),
    ]


# --- DW403 / DW404 / DW405: Kubernetes -------------------------------------------------


def test_dw403_dw404_bare_container(tmp_path: Path) -> None:
    files = {"deploy.yaml": deployment()}
    assert seen("DW403", files, tmp_path) == [("deploy.yaml", 11, "warning")]
    assert seen("DW404", files, tmp_path) == [("deploy.yaml", 11, "warning")]
    [finding] = run("DW403", files, tmp_path)
    assert finding.message == "container web of Deployment/web has no memory limit"
    assert "limits: {memory: 256Mi}" in finding.fix and "kubectl top pod" in finding.fix


def test_dw404_a_cpu_limit_is_also_the_request(tmp_path: Path) -> None:
    files = {"deploy.yaml": deployment("limits: {cpu: 500m, memory: 256Mi}\n")}
    assert seen("DW403", files, tmp_path) == []
    assert seen("DW404", files, tmp_path) == []


def test_dw403_request_only_is_reported_with_the_request(tmp_path: Path) -> None:
    files = {"deploy.yaml": deployment("requests: {cpu: 100m, memory: 128Mi}\n")}
    [finding] = run("DW403", files, tmp_path)
    assert finding.line == 14  # the resources block
    assert "its request is 128Mi" in finding.message


def test_dw403_jobs_init_containers_and_pods_are_info(tmp_path: Path) -> None:
    job = """\
        apiVersion: batch/v1
        kind: Job
        metadata: {name: migrate}
        spec:
          template:
            spec:
              initContainers:
                - name: wait
                  image: busybox:1.36
              containers:
                - name: migrate
                  image: acme/web:1.4.2
    """
    pod = """\
        apiVersion: v1
        kind: Pod
        metadata: {name: demo}
        spec:
          containers:
            - name: demo
              image: nginx:1.27
    """
    found = run("DW403", {"job.yaml": job, "pod.yaml": pod}, tmp_path)
    assert {(f.path, f.line, f.severity.label) for f in found} == {
        ("job.yaml", 8, "info"),
        ("job.yaml", 11, "info"),
        ("pod.yaml", 6, "info"),
    }


def test_dw403_limitrange_makes_it_info(tmp_path: Path) -> None:
    limit_range = "apiVersion: v1\nkind: LimitRange\nmetadata: {name: defaults}\nspec: {}\n"
    files = {"deploy.yaml": deployment(), "limits.yaml": limit_range}
    assert seen("DW403", files, tmp_path) == [("deploy.yaml", 11, "info")]


def test_dw403_kustomize_patch_is_not_a_whole_container(tmp_path: Path) -> None:
    patch = """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          template:
            spec:
              containers:
                - name: web
                  image: acme/web:2.0.0
    """
    assert seen("DW403", {"overlays/prod/patch.yaml": patch}, tmp_path) == []


def test_dw403_base_without_limits_and_overlay_patch_with_them(tmp_path: Path) -> None:
    patch = """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          template:
            spec:
              containers:
                - name: web
                  resources:
                    requests: {cpu: 100m}
                    limits: {memory: 256Mi}
    """
    files = {"base/deploy.yaml": deployment(), "overlays/prod/resources.yaml": patch}
    assert seen("DW403", files, tmp_path) == []
    assert seen("DW404", files, tmp_path) == []


def test_dw405_is_off_by_default_and_reports_when_selected(tmp_path: Path) -> None:
    rule = rule_by_id("DW405")
    assert rule is not None and not rule.meta.default_enabled
    files = {"deploy.yaml": deployment("requests: {cpu: 100m}\nlimits: {memory: 256Mi}\n")}
    assert seen("DW405", files, tmp_path) == [("deploy.yaml", 14, "info")]


def test_peer_checks_are_named() -> None:
    also = {r.id: set(r.meta.also) for r in all_rules() if r.meta.lesson == "limits"}
    assert "kube-linter:unset-memory-requirements" in also["DW403"]
    assert "checkov:CKV_K8S_13" in also["DW403"]
    assert {"kube-linter:unset-cpu-requirements", "checkov:CKV_K8S_10"} <= also["DW404"]
    assert {"polaris:cpuLimitsMissing", "checkov:CKV_K8S_11"} <= also["DW405"]
    rule = rule_by_id("CKV_K8S_10")
    assert rule is not None and rule.id == "DW404"


# --- DW406 / DW407: impossible values --------------------------------------------------


def test_dw406_decimal_limit_below_binary_request(tmp_path: Path) -> None:
    files = {"deploy.yaml": deployment("requests: {memory: 64Mi}\nlimits: {memory: 64M}\n")}
    [finding] = run("DW406", files, tmp_path)
    assert (finding.line, finding.severity.label) == (15, "error")
    assert "64M" in finding.message and "64Mi" in finding.message
    assert [(r.line, r.message) for r in finding.related] == [(14, "memory request 64Mi")]


def test_dw406_cpu_and_equal_values(tmp_path: Path) -> None:
    below = {"deploy.yaml": deployment("requests: {cpu: '1'}\nlimits: {cpu: 500m}\n")}
    assert seen("DW406", below, tmp_path) == [("deploy.yaml", 15, "error")]
    equal = {"deploy.yaml": deployment("requests: {cpu: 500m}\nlimits: {cpu: '0.5'}\n")}
    assert seen("DW406", equal, tmp_path / "equal") == []


def test_dw406_request_far_below_the_limit_is_fine(tmp_path: Path) -> None:
    files = {"deploy.yaml": deployment("requests: {memory: 64Mi}\nlimits: {memory: 4Gi}\n")}
    assert seen("DW406", files, tmp_path) == []


def test_dw406_compose_reservation_above_limit(tmp_path: Path) -> None:
    text = """\
        services:
          web:
            image: acme/web:1.4.2
            deploy:
              resources:
                limits: {memory: 256M}
                reservations: {memory: 512M}
    """
    assert seen("DW406", {"compose.yaml": text}, tmp_path) == [("compose.yaml", 6, "error")]


def test_dw407_unitless_memory(tmp_path: Path) -> None:
    files = {"deploy.yaml": deployment("limits: {memory: 512}\n")}
    [finding] = run("DW407", files, tmp_path)
    assert "512 bytes" in finding.message and "`512Mi`" in finding.fix
    compose = "services:\n  web:\n    image: acme/web:1.4.2\n    mem_limit: 512\n"
    assert seen("DW407", {"compose.yaml": compose}, tmp_path / "c") == [
        ("compose.yaml", 4, "error")
    ]


# --- DW408: workers against the memory limit -------------------------------------------

GUNICORN_4 = """\
    FROM python:3.12-slim
    COPY . /app
    CMD ["gunicorn", "-w", "4", "-b", "0.0.0.0:8000", "app:app"]
"""


def test_dw408_dockerfile_workers_against_compose_limit(tmp_path: Path) -> None:
    compose = "services:\n  web:\n    build: .\n    mem_limit: 256m\n"
    [finding] = run("DW408", {"Dockerfile": GUNICORN_4, "compose.yaml": compose}, tmp_path)
    assert (finding.path, finding.line, finding.severity.label) == ("compose.yaml", 4, "warning")
    assert "4 gunicorn workers" in finding.message and "100 MiB" in finding.message
    assert [(r.path, r.line) for r in finding.related] == [("Dockerfile", 3)]
    assert "600 MiB" in finding.fix and "at most 2 workers" in finding.fix


def test_dw408_enough_memory(tmp_path: Path) -> None:
    compose = "services:\n  web:\n    build: .\n    mem_limit: 512m\n"
    assert seen("DW408", {"Dockerfile": GUNICORN_4, "compose.yaml": compose}, tmp_path) == []


def test_dw408_compose_command_and_web_concurrency(tmp_path: Path) -> None:
    compose = """\
        services:
          web:
            build: .
            command: gunicorn -b 0.0.0.0:8000 app:app
            environment:
              WEB_CONCURRENCY: "6"
            mem_limit: 512m
    """
    files = {"Dockerfile": GUNICORN_4, "compose.yaml": compose}
    [finding] = run("DW408", files, tmp_path)
    assert "WEB_CONCURRENCY=6" in finding.message
    assert [(r.path, r.line) for r in finding.related] == [("compose.yaml", 4)]


def test_dw408_kubernetes_args_with_a_variable(tmp_path: Path) -> None:
    extra = (
        "          args: ['uvicorn', 'app:app', '--workers', '${WORKERS:-8}']\n"
        "          env:\n"
        "            - {name: WORKERS, value: '8'}\n"
    )
    files = {"deploy.yaml": deployment("limits: {memory: 512Mi}\n", extra=extra)}
    [finding] = run("DW408", files, tmp_path)
    assert finding.line == 14 and "8 uvicorn workers" in finding.message


def test_dw408_unknown_counts_say_nothing(tmp_path: Path) -> None:
    for index, cmd in enumerate(
        (
            'CMD ["sh", "-c", "gunicorn -w $(nproc) app:app"]',
            'CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:app"]',
            'CMD ["uvicorn", "app:app"]',
            'CMD ["python", "worker.py"]',
        )
    ):
        folder = tmp_path / str(index)
        folder.mkdir()
        files = {
            "Dockerfile": f"FROM python:3.12-slim\n{cmd}\n",
            "compose.yaml": "services:\n  web:\n    build: .\n    mem_limit: 64m\n",
        }
        assert seen("DW408", files, folder) == [], cmd


def test_dw408_one_default_worker_is_info(tmp_path: Path) -> None:
    files = {
        "Dockerfile": 'FROM python:3.12-slim\nCMD ["gunicorn", "app:app"]\n',
        "compose.yaml": "services:\n  web:\n    build: .\n    mem_limit: 64m\n",
    }
    [finding] = run("DW408", files, tmp_path)
    assert finding.severity.label == "info" and "gunicorn's default" in finding.message
