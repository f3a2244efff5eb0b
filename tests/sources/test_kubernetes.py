"""Kubernetes manifests: workloads, containers, probes, resources, env and security."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from dockwise.sources.kubernetes import load_manifest, parse_manifest, parse_quantity

DEPLOYMENT = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: shop
    spec:
      template:
        spec:
          terminationGracePeriodSeconds: 45
          securityContext:
            runAsNonRoot: true
          volumes:
            - name: creds
              secret:
                secretName: db
          initContainers:
            - name: migrate
              image: shop/web:1.2
          containers:
            - name: web
              image: shop/web:1.2
              args: ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]
              ports:
                - containerPort: 8000
                  name: http
              livenessProbe:
                httpGet:
                  path: /health
                  port: http
              readinessProbe:
                exec:
                  command: ["cat", "/tmp/ready"]
              env:
                - name: DB_PASSWORD
                  valueFrom:
                    secretKeyRef: {name: db, key: password}
                - name: LOG_LEVEL
                  value: info
              envFrom:
                - secretRef:
                    name: api-keys
              volumeMounts:
                - name: creds
                  mountPath: /run/secrets/db
              resources:
                requests: {memory: 256Mi, cpu: 250m}
                limits: {memory: 512Mi}
              securityContext:
                readOnlyRootFilesystem: true
                allowPrivilegeEscalation: false
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec: {ports: [{port: 80, targetPort: http}]}
"""


def manifest(text: str):
    loaded = parse_manifest(textwrap.dedent(text), "k8s/web.yaml")
    assert loaded is not None
    return loaded


def test_deployment_containers_and_pod_settings() -> None:
    loaded = manifest(DEPLOYMENT)
    assert [kind for kind, _, _ in loaded.kinds] == ["Deployment", "Service"]
    (workload,) = loaded.workloads
    assert (workload.label, workload.namespace, workload.termination_grace_period) == (
        "Deployment/web",
        "shop",
        45,
    )
    assert workload.pod_security.run_as_non_root is True
    init, web = workload.containers
    assert init.init and not web.init
    assert web.args == ("gunicorn", "-b", "0.0.0.0:8000", "app:app")
    assert [(p.number, p.name) for p in web.ports] == [(8000, "http")]
    liveness = web.probe("liveness")
    assert liveness is not None and (liveness.handler, liveness.path, liveness.port) == (
        "httpGet",
        "/health",
        "http",
    )
    readiness = web.probe("readiness")
    assert readiness is not None and readiness.command == ("cat", "/tmp/ready")
    assert web.probe("startup") is None
    assert [(e.name, e.source, e.value) for e in web.env] == [
        ("DB_PASSWORD", "secretKeyRef", None),
        ("LOG_LEVEL", "value", "info"),
    ]
    assert web.env_from_secrets == ("api-keys",)
    assert web.secret_mounts == ("/run/secrets/db",)
    assert web.resources.limits_memory is not None
    assert web.resources.limits_memory.value == 512 * 2**20
    assert web.resources.requests_cpu is not None and web.resources.requests_cpu.value == 0.25
    assert web.resources.limits_cpu is None
    assert web.security.read_only_root_filesystem is True
    assert web.security.allow_privilege_escalation is False


def test_line_numbers_point_at_the_values() -> None:
    loaded = manifest(DEPLOYMENT)
    web = loaded.workloads[0].containers[1]
    lines = textwrap.dedent(DEPLOYMENT).splitlines()
    assert "image: shop/web:1.2" in lines[web.image_line - 1]
    assert web.resources.limits_memory is not None
    assert "512Mi" in lines[web.resources.limits_memory.line - 1]
    assert "LOG_LEVEL" in lines[web.env[1].line - 2]


@pytest.mark.parametrize(
    ("kind", "spec"),
    [
        ("Pod", "spec:\n  containers: [{name: a, image: 'x:1'}]"),
        (
            "CronJob",
            "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
            "          containers: [{name: a, image: 'x:1'}]",
        ),
        (
            "StatefulSet",
            "spec:\n  template:\n    spec:\n      containers: [{name: a, image: 'x:1'}]",
        ),
    ],
)
def test_every_workload_kind(kind: str, spec: str) -> None:
    loaded = manifest(f"apiVersion: v1\nkind: {kind}\nmetadata: {{name: n}}\n{spec}\n")
    (workload,) = loaded.workloads
    assert workload.kind == kind and [c.image for c in workload.containers] == ["x:1"]
    assert workload.is_batch == (kind == "CronJob")


def test_list_kind_and_crds() -> None:
    loaded = manifest(
        """
        apiVersion: v1
        kind: List
        items:
          - apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec: {containers: [{name: a, image: 'x:1'}]}
          - apiVersion: example.com/v1
            kind: Widget
            metadata: {name: w}
        """
    )
    assert [w.label for w in loaded.workloads] == ["Pod/p"]
    assert ("Widget", "w", 9) in loaded.kinds


def test_not_a_manifest_and_templates() -> None:
    assert parse_manifest("name: ci\non: push\n", "ci.yml") is None
    template = parse_manifest(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: {{ .Values.n }}}\n", "t.yaml"
    )
    assert template is not None and template.template and not template.workloads


def test_bad_yaml_is_one_problem_with_a_line() -> None:
    loaded = parse_manifest("apiVersion: v1\nkind: Pod\nspec: [\n", "bad.yaml")
    assert loaded is not None and not loaded.workloads
    (problem,) = loaded.problems
    assert problem.line is not None and "invalid YAML" in problem.message


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["apiVersion: v1", "kind: ConfigMap", 'a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    for level in range(1, 9):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 9)}]")
    loaded = parse_manifest("\n".join(lines) + "\n", "bomb.yaml")
    assert loaded is not None and any("alias" in p.message for p in loaded.problems)


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "deploy.yaml"
    os.mkfifo(fifo)
    loaded = load_manifest(fifo, "deploy.yaml")
    assert loaded is not None and "not a regular file" in loaded.problems[0].message


@pytest.mark.parametrize(
    ("text", "value"),
    [("512Mi", 512 * 2**20), ("1G", 1e9), ("250m", 0.25), ("2", 2.0), ("1e3", 1000.0)],
)
def test_quantities(text: str, value: float) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "5Xi", "1" * 60])
def test_bad_quantities(text: str) -> None:
    assert parse_quantity(text) is None


def test_a_tab_after_a_value_is_a_blank_as_kubectl_reads_it() -> None:
    loaded = parse_manifest(
        "apiVersion: v1\t\nkind: Service\t\nmetadata:\t\n  name: web\n", "svc.yaml"
    )
    assert loaded is not None and not loaded.problems
    assert loaded.kinds == (("Service", "web", 1),)


def test_integers_wider_than_int64_are_invalid_not_overflowing() -> None:
    # issue 6: a 400-digit terminationGracePeriodSeconds or preStop sleep overflowed float()
    big = "9" * 400
    loaded = manifest(
        f"""\
        apiVersion: v1
        kind: Pod
        metadata: {{name: p}}
        spec:
          terminationGracePeriodSeconds: {big}
          containers:
          - name: a
            image: a
            lifecycle: {{preStop: {{sleep: {{seconds: {big}}}}}}}
            securityContext: {{runAsUser: {big}}}
          - name: b
            image: b
            lifecycle: {{preStop: {{exec: {{command: [sleep, "²"]}}}}}}
        """
    )
    (pod,) = loaded.workloads
    first, second = pod.containers
    assert pod.termination_grace_period is None
    assert first.pre_stop is not None and first.pre_stop.seconds is None
    assert first.security.run_as_user is None
    assert second.pre_stop is not None and second.pre_stop.seconds is None


def test_a_run_of_tabs_inside_a_value_is_read_in_one_pass() -> None:
    # issue 6: the trailing-tab regex backtracked on tabs inside a line (5,000: 5 minutes)
    tabs = "\t" * 100_000
    loaded = parse_manifest(
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n"
        f"  - name: a\n    image: '{tabs}'\n    args: [a]\t\t\n",
        "pod.yaml",
    )
    assert loaded is not None and not loaded.problems
    (pod,) = loaded.workloads
    assert pod.containers[0].image == tabs and pod.containers[0].args == ("a",)


def test_helm_text_is_recognised_in_linear_time() -> None:
    # issue 6: `{{.*?}}` rescanned the line from every `{{` (50,000 `{`: 10 s)
    assert parse_manifest("apiVersion: v1\nkind: Pod\nx: '" + "{" * 100_000 + "'\n", "p.yaml")
    templated = parse_manifest("apiVersion: v1\nkind: Pod\nimage: {{ .Values.x }}\n", "t.yaml")
    assert templated is not None and templated.template
