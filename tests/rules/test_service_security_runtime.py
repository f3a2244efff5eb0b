"""Security (DW820-DW828) and runtime (DW608-DW611) checks of compose services and
Kubernetes containers, with their cross-checks against the Dockerfile and server command."""

from __future__ import annotations

from pathlib import Path

import pytest
from health_projects import run, write
from ruletest import folder_hits

MINE = ("DW608", "DW609", "DW610", "DW611", *(f"DW82{i}" for i in range(9)))

NONROOT_DOCKERFILE = """\
FROM python:3.12-slim
RUN useradd --uid 10001 --no-create-home app
WORKDIR /srv
COPY app/ ./app/
USER 10001
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--graceful-timeout", "20", "app.main:app"]
"""

CAREFUL = {
    "Dockerfile": NONROOT_DOCKERFILE,
    "app/__init__.py": "",
    "app/main.py": "def app(environ, start_response):\n    return []\n",
    "compose.yaml": """\
services:
  web:
    build: .
    image: ghcr.io/acme/web:1.4.2
    read_only: true
    tmpfs: [/tmp]
    init: true
    stop_grace_period: 25s
""",
    "deploy/web.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 30
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      initContainers:
        - name: migrate
          image: ghcr.io/acme/web:1.4.2
          command: ["python", "-m", "app.migrate"]
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
      containers:
        - name: web
          image: ghcr.io/acme/web:1.4.2
          lifecycle:
            preStop:
              exec:
                command: ["sleep", "5"]
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
""",
}


def found(tmp_path: Path, files: dict[str, str], *rules: str) -> list[tuple[str, int | None, str]]:
    folder = write(files, tmp_path)
    return sorted((f.rule, f.line, f.severity.name.lower()) for f in run(folder, *(rules or MINE)))


def deployment(container: str = "", pod: str = "", kind: str = "Deployment") -> str:
    return (
        f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: web\nspec:\n"
        "  selector:\n    matchLabels: {app: web}\n  template:\n    spec:\n"
        f"{pod}      containers:\n        - name: web\n          image: ghcr.io/acme/web:1\n"
        f"{container}"
    )


def test_careful_project_is_clean(tmp_path: Path) -> None:
    assert found(tmp_path, CAREFUL) == []


def test_pod_level_security_context_is_inherited(tmp_path: Path) -> None:
    pod = "      securityContext:\n        runAsNonRoot: true\n"
    assert found(tmp_path, {"k.yaml": deployment(pod=pod)}, "DW823") == []
    own = "          securityContext:\n            runAsUser: 0\n"
    assert found(tmp_path, {"k.yaml": deployment(own, pod)}, "DW823") == [("DW823", 16, "warning")]


def test_dockerfile_user_makes_run_as_root_advice(tmp_path: Path) -> None:
    files = {**CAREFUL, "deploy/web.yaml": deployment().replace("web:1", "web:1.4.2")}
    hits = found(tmp_path, files, "DW823")
    assert hits == [("DW823", 11, "info")]
    folder = write(files, tmp_path)
    (finding,) = run(folder, "DW823")
    assert "runAsUser: 10001" in (finding.fix or "")
    assert finding.related and finding.related[0].path == "Dockerfile"


def test_run_as_non_root_with_a_named_user_cannot_start(tmp_path: Path) -> None:
    files = {
        **CAREFUL,
        "Dockerfile": NONROOT_DOCKERFILE.replace("USER 10001", "USER app"),
        "deploy/web.yaml": CAREFUL["deploy/web.yaml"].replace("        runAsUser: 10001\n", ""),
    }
    assert found(tmp_path, files, "DW824") == [("DW824", 14, "error")] * 2  # init too


def test_privileged_severity_by_role(tmp_path: Path) -> None:
    privileged = "          securityContext:\n            privileged: true\n"
    assert found(tmp_path, {"k.yaml": deployment(privileged)}, "DW825") == [("DW825", 14, "error")]
    # a node agent: privileged is its job, no narrower form exists
    agent = deployment(privileged, "      hostNetwork: true\n", kind="DaemonSet")
    assert found(tmp_path, {"k.yaml": agent.replace("name: web", "name: log-agent")}, "DW825") == [
        ("DW825", 15, "info")
    ]


def _sysctl(key: str, pod: str = "", kind: str = "Deployment") -> str:
    command = f'          command: ["sysctl", "-w", "{key}=1"]\n'
    return deployment(
        command + "          securityContext:\n            privileged: true\n", pod, kind
    )


@pytest.mark.parametrize(
    ("manifest", "severity", "said"),
    [
        # not namespaced: pod securityContext.sysctls cannot set it
        (_sysctl("vm.max_map_count"), "info", "vm.max_map_count is not namespaced"),
        # the node's own network namespace
        (
            _sysctl("net.ipv4.conf.eth0.log_martians", "      hostNetwork: true\n"),
            "info",
            "hostNetwork",
        ),
        # a namespaced sysctl: pod securityContext.sysctls sets it without privileges
        (_sysctl("net.core.somaxconn"), "warning", "pod securityContext.sysctls"),
        # an installer that chroots into the host
        (
            deployment(
                '          command: ["sh", "-c", "chroot /host apt-get install -y toolkit"]\n'
                "          securityContext:\n            privileged: true\n",
                "      volumes:\n        - name: host\n          hostPath: {path: /}\n",
                kind="DaemonSet",
            ),
            "info",
            "installer on the node",
        ),
        # an in-kernel NFS server needs privileged: not an application's mistake
        (
            deployment("          securityContext:\n            privileged: true\n").replace(
                "ghcr.io/acme/web:1", "registry.k8s.io/volume-nfs:0.8"
            ),
            "warning",
            "kernel service",
        ),
    ],
)
def test_privileged_where_it_is_the_job(
    tmp_path: Path, manifest: str, severity: str, said: str
) -> None:
    folder = write({"k.yaml": manifest}, tmp_path)
    (finding,) = run(folder, "DW825")
    assert finding.severity.name.lower() == severity
    assert said in finding.message
    if severity == "info" and "hostNetwork" in said:
        assert "pod securityContext.sysctls" not in finding.message


def test_privileged_policy_demo_and_test_manifests_are_advice(tmp_path: Path) -> None:
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: priv\nspec:\n  containers:\n"
        "    - name: nginx\n      image: nginx:1.27\n"
        "      securityContext:\n        privileged: true\n"
    )
    files = {
        "podsecuritypolicy/rbac/pod_priv.yaml": pod,
        "tests/fixtures/priv.yaml": pod,
        "demo/pod.yaml": pod,
    }
    folder = write(files, tmp_path)
    severities = {f.path: f.severity.name.lower() for f in run(folder, "DW825")}
    assert severities == {
        "podsecuritypolicy/rbac/pod_priv.yaml": "info",  # there to be rejected by the policy
        "tests/fixtures/priv.yaml": "info",
        "demo/pod.yaml": "warning",  # a bare demo Pod: not an error, still worth fixing
    }


def test_escalation_is_advice_while_root_is_possible(tmp_path: Path) -> None:
    assert found(tmp_path, {"k.yaml": deployment()}, "DW826") == [("DW826", 11, "info")]
    pod = "      securityContext:\n        runAsUser: 1000\n"
    assert found(tmp_path, {"k.yaml": deployment(pod=pod)}, "DW826") == [("DW826", 13, "warning")]


def test_jobs_and_init_containers_get_security_checks_not_shutdown(tmp_path: Path) -> None:
    job = deployment('          command: ["gunicorn", "app:app"]\n', kind="Job").replace(
        "  selector:\n    matchLabels: {app: web}\n", ""
    )
    hits = {rule for rule, _, _ in found(tmp_path, {"k.yaml": job})}
    assert {"DW823", "DW826", "DW827"} <= hits
    assert "DW611" not in hits


def test_image_tags(tmp_path: Path) -> None:
    def tag(image: str) -> list[tuple[str, int | None, str]]:
        text = deployment().replace("ghcr.io/acme/web:1", image)
        return found(tmp_path, {"k.yaml": text}, "DW828")

    assert tag("nginx") == [("DW828", 12, "warning")]
    assert tag("nginx:latest") == [("DW828", 12, "warning")]
    assert tag("nginx@sha256:" + "a" * 64) == []
    assert tag("nginx:latest@sha256:" + "a" * 64) == []
    assert tag("gcr.io/PROJECT_ID/web") == []
    assert tag("ghcr.io/acme/web:${TAG}") == []


def test_own_image_untagged_is_advice(tmp_path: Path) -> None:
    files = {**CAREFUL, "deploy/web.yaml": CAREFUL["deploy/web.yaml"].replace(":1.4.2", "")}
    files["compose.yaml"] = files["compose.yaml"].replace(":1.4.2", "")
    assert found(tmp_path, files, "DW828") == [("DW828", 18, "info"), ("DW828", 25, "info")]


def test_termination_grace_period_against_gunicorn(tmp_path: Path) -> None:
    gunicorn = '          command: ["gunicorn", "app:app"]\n'
    # default 30 s against gunicorn's default 30 s: equal, no preStop hook: fine
    assert found(tmp_path, {"k.yaml": deployment(gunicorn)}, "DW611") == []
    hook = "          lifecycle:\n            preStop:\n              exec:\n"
    unknown = hook + "                command: [/bin/drain]\n"
    assert found(tmp_path, {"k.yaml": deployment(gunicorn + unknown)}, "DW611") == [
        ("DW611", 11, "warning")
    ]
    short = "      terminationGracePeriodSeconds: 20\n"
    hits = found(tmp_path, {"k.yaml": deployment(gunicorn, short)}, "DW611")
    assert hits == [("DW611", 10, "warning")]
    longer = "      terminationGracePeriodSeconds: 40\n"
    sleep = hook + "                command: [sleep, '5']\n"
    assert found(tmp_path, {"k.yaml": deployment(gunicorn + sleep, longer)}, "DW611") == []


def test_uvicorn_without_timeout_is_not_judged(tmp_path: Path) -> None:
    uvicorn = '          command: ["uvicorn", "app:app"]\n'
    short = "      terminationGracePeriodSeconds: 5\n"
    assert found(tmp_path, {"k.yaml": deployment(uvicorn, short)}, "DW611") == []
    timed = '          command: ["uvicorn", "app:app", "--timeout-graceful-shutdown", "10"]\n'
    assert found(tmp_path, {"k.yaml": deployment(timed, short)}, "DW611") == [
        ("DW611", 10, "warning")
    ]


def compose(service: str) -> dict[str, str]:
    return {"compose.yaml": "services:\n  web:\n    image: ghcr.io/acme/web:1\n" + service}


def test_compose_stop_grace_period(tmp_path: Path) -> None:
    command = '    command: ["gunicorn", "app:app"]\n'
    assert found(tmp_path, compose(command), "DW610") == [("DW610", 2, "warning")]
    assert found(tmp_path, compose(command + "    stop_grace_period: 30s\n"), "DW610") == []
    quick = command + "    stop_signal: SIGQUIT\n"
    assert found(tmp_path, compose(quick), "DW610") == []
    configured = command + "    environment:\n      GUNICORN_CMD_ARGS: --graceful-timeout 5\n"
    assert found(tmp_path, compose(configured), "DW610") == []
    reloading = '    command: ["gunicorn", "--reload", "app:app"]\n'
    assert found(tmp_path, compose(reloading), "DW610") == [("DW610", 2, "info")]


def test_compose_shell_parent_and_background_jobs(tmp_path: Path) -> None:
    shell = '    command: bash -c "python manage.py migrate && gunicorn app:app"\n'
    assert found(tmp_path, compose(shell), "DW608", "DW609") == [("DW608", 4, "warning")]
    execs = '    command: bash -c "python manage.py migrate && exec gunicorn app:app"\n'
    assert found(tmp_path, compose(execs), "DW608", "DW609") == []
    jobs = '    command: sh -c "celery beat & exec celery worker"\n'
    assert found(tmp_path, compose(jobs), "DW608", "DW609") == [("DW609", 4, "info")]
    assert found(tmp_path, compose(jobs + "    init: true\n"), "DW609") == []


def test_one_off_compose_step_is_not_a_server(tmp_path: Path) -> None:
    files = {
        "compose.yaml": """\
services:
  migrate:
    image: ghcr.io/acme/web:1
    command: bash -c "python manage.py migrate && python manage.py collectstatic"
  web:
    image: ghcr.io/acme/web:1
    depends_on:
      migrate: {condition: service_completed_successfully}
"""
    }
    assert found(tmp_path, files, "DW608") == []


def test_compose_privileged_and_root(tmp_path: Path) -> None:
    assert found(tmp_path, compose("    privileged: true\n"), "DW820") == [("DW820", 4, "warning")]
    dind = {
        "compose.yaml": "services:\n  docker:\n    image: docker:27-dind\n    privileged: true\n"
    }
    assert found(tmp_path, dind, "DW820") == [("DW820", 4, "info")]
    files = {**CAREFUL, "compose.yaml": CAREFUL["compose.yaml"] + "    user: root\n"}
    assert found(tmp_path, files, "DW821") == [("DW821", 9, "warning")]
    # a public image of unknown user: nothing to undo
    assert found(tmp_path, compose('    user: "0"\n'), "DW821") == []


def test_a_user_written_in_superscript_digits_is_a_name_not_a_crash(tmp_path: Path) -> None:
    files = {
        "Dockerfile": 'FROM python:3.11-slim\nUSER ²\nCMD ["python", "-m", "app"]\n',
        "compose.yaml": "services: {web: {build: ., image: 'web:1'}}\n",
        "k8s/p.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - {name: web, image: 'web:1', securityContext: {runAsNonRoot: true}}\n",
    }
    for rule in ("DW823", "DW824"):
        folder_hits(rule, files, tmp_path)  # runs without an internal error
