"""The image's role, decided once (`_common.not_a_service`) and applied to every rule:
development, test and docs-tool images, one-shot jobs, images where a HEALTHCHECK cannot
matter, and images that need root (issue 11, classes N1, N3, N4, N5)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.project import load_project
from dockwise.rules import all_rules
from dockwise.rules._common import not_a_service

SERVICE = """\
FROM python:3.12
RUN pip install flask
COPY app.py /app/app.py
CMD python /app/app.py
"""
CAREFUL = """\
FROM python:3.12-slim
ENV PYTHONUNBUFFERED=1
RUN pip install --no-cache-dir gunicorn==22.0.0 && useradd --uid 10001 app
COPY app.py /app/app.py
USER 10001
EXPOSE 8000
HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def found(root: Path, *rules: str) -> list[tuple[str, str, str, str]]:
    project = load_project(root, Config(select=rules) if rules else Config())
    return sorted(
        (f.path, f.rule, f.severity.label, f.message)
        for f in check_project(project, all_rules()).findings
    )


def graded(root: Path, *rules: str) -> list[tuple[str, str, str]]:
    return [(path, rule, severity) for path, rule, severity, _ in found(root, *rules)]


def role(root: Path, relpath: str) -> tuple[str, str] | None:
    project = load_project(root, Config())
    dockerfile = next(df for df in project.dockerfiles if df.relpath == relpath)
    reason = not_a_service(dockerfile, project)
    return (reason.kind, reason.why) if reason is not None else None


# --- development, test and docs-tool images ---------------------------------------------


def test_docs_tools_and_development_folders_get_size_and_pinning_lessons_as_advice(
    tmp_path: Path,
) -> None:
    text = "FROM python:3.12\nRUN pip install sphinx\nCMD python /app/app.py\n"
    for folder in ("docs", "tools/recorder", "extras/development", "bench", "app"):
        write(tmp_path, {f"{folder}/Dockerfile": text})
    result = graded(tmp_path, "DW101", "DW906")
    assert ("app/Dockerfile", "DW101", "warning") in result
    assert ("app/Dockerfile", "DW906", "warning") in result
    others = [r for r in result if not r[0].startswith("app/")]
    assert len(others) == 8
    assert {severity for _, _, severity in others} == {"info"}
    messages = [m for path, rule, _, m in found(tmp_path, "DW906") if path.startswith("docs/")]
    assert messages and "not a production service: folder docs/" in messages[0]


def test_a_test_or_docs_command_makes_a_tooling_image(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a/Dockerfile": 'FROM python:3.12-slim\nCMD ["pytest", "-q"]\n',
            "b/Dockerfile": 'FROM python:3.12-slim\nCMD ["python", "-m", "tox"]\n',
            "c/Dockerfile": 'FROM python:3.12-slim\nCMD ["mkdocs", "build"]\n',
            "d/Dockerfile": 'FROM python:3.12-slim\nCMD ["gunicorn", "app:app"]\n',
        },
    )
    assert role(tmp_path, "a/Dockerfile") == ("tooling", "it runs pytest, a test or docs build")
    assert role(tmp_path, "b/Dockerfile") == ("tooling", "it runs tox, a test or docs build")
    assert role(tmp_path, "c/Dockerfile") == ("tooling", "it runs mkdocs, a test or docs build")
    assert role(tmp_path, "d/Dockerfile") is None
    assert [r[0] for r in graded(tmp_path, "DW202")] == ["d/Dockerfile"]


def test_compose_development_image_tag_or_shipping_sibling_makes_a_development_image(
    tmp_path: Path,
) -> None:
    dev_compose = """\
        services:
          web:
            build: .
            image: acme/web:dev
            command: python manage.py runserver 0.0.0.0:8000
            volumes: [".:/app"]
    """
    gunicorn = SERVICE.replace("CMD python /app/app.py", 'CMD ["gunicorn", "app:app"]')
    write(tmp_path / "tagged", {"Dockerfile": gunicorn, "compose.yaml": dev_compose})
    kind, why = role(tmp_path / "tagged", "Dockerfile") or ("", "")
    assert kind == "tooling" and "acme/web:dev" in why
    assert graded(tmp_path / "tagged", "DW101") == [("Dockerfile", "DW101", "info")]
    # a development compose over an image whose own command is a production server: the
    # compose only overrides it for local work, the image ships
    plain = dev_compose.replace("            image: acme/web:dev\n", "")
    write(tmp_path / "plain", {"Dockerfile": gunicorn, "compose.yaml": plain})
    assert role(tmp_path / "plain", "Dockerfile") is None
    assert graded(tmp_path / "plain", "DW101") == [("Dockerfile", "DW101", "warning")]
    # ... unless another Dockerfile beside it builds the shipped image
    write(tmp_path / "plain", {"Dockerfile.prod": CAREFUL})
    kind, why = role(tmp_path / "plain", "Dockerfile") or ("", "")
    assert kind == "tooling" and "Dockerfile.prod beside it builds the shipped image" in why


def test_an_image_only_development_compose_services_run_is_a_development_image(
    tmp_path: Path,
) -> None:
    no_cmd = "FROM python:3.12\nWORKDIR /code\nCOPY . .\nRUN pip install -r requirements.txt\n"
    dev_compose = """\
        services:
          web:
            build: .
            command: python /code/manage.py runserver 0.0.0.0:8000
            volumes: [".:/code"]
          worker:
            build: .
            command: celery -A app worker
    """
    write(tmp_path / "dev", {"Dockerfile": no_cmd, "compose.yaml": dev_compose})
    kind, why = role(tmp_path / "dev", "Dockerfile") or ("", "")
    assert kind == "tooling" and "runserver" in why
    assert graded(tmp_path / "dev", "DW101", "DW104") == [
        ("Dockerfile", "DW101", "info"),
        ("Dockerfile", "DW104", "info"),
    ]
    # the same image also deployed by a production compose file keeps its lessons
    prod = "services:\n  web:\n    build: .\n    command: gunicorn app:app\n"
    write(tmp_path / "dev", {"deploy/compose.yaml": prod.replace("build: .", "build: ..")})
    assert (role(tmp_path / "dev", "Dockerfile") or ("",))[0] != "tooling"
    assert ("Dockerfile", "DW104", "warning") in graded(tmp_path / "dev", "DW104")
    # ... and so does one a Kubernetes Deployment runs
    write(tmp_path / "k8s", {"Dockerfile": no_cmd, "compose.yaml": dev_compose})
    write(
        tmp_path / "k8s",
        {"compose.yaml": dev_compose.replace("build: .", "build: .\n            image: acme/web")},
    )
    deployment = """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
                - name: web
                  image: acme/web:1.0
    """
    write(tmp_path / "k8s", {"k8s/deployment.yaml": deployment})
    assert (role(tmp_path / "k8s", "Dockerfile") or ("",))[0] != "tooling"


def test_a_development_compose_that_overrides_the_image_command_leaves_it_shipping(
    tmp_path: Path,
) -> None:
    own = 'FROM python:3.12\nCOPY . /app\nENTRYPOINT ["/app/bin/entrypoint"]\nCMD ["server"]\n'
    compose = """\
        services:
          server:
            build: .
            command: dev_server
            volumes: [".:/app"]
    """
    write(tmp_path / "own", {"Dockerfile": own, "compose.yaml": compose})
    assert role(tmp_path / "own", "Dockerfile") is None
    # the same compose running the image's own command: the setup is the image's
    write(
        tmp_path / "same",
        {
            "Dockerfile": own,
            "compose.yaml": compose.replace("            command: dev_server\n", ""),
        },
    )
    assert (role(tmp_path / "same", "Dockerfile") or ("",))[0] == "tooling"
    # compose supplies the command, but it is a production server
    no_cmd = "FROM python:3.12\nCOPY . /code\n"
    served = compose.replace("dev_server", "gunicorn app.wsgi -b 0.0.0.0:8000")
    write(tmp_path / "served", {"Dockerfile": no_cmd, "compose.yaml": served})
    assert (role(tmp_path / "served", "Dockerfile") or ("",))[0] != "tooling"


def test_an_app_in_a_test_folder_is_a_test_image(tmp_path: Path) -> None:
    text = (
        "FROM python:3.12-slim\nCOPY . /code\nWORKDIR /code/tests/app/idp\n"
        'CMD ["gunicorn", "idp.wsgi"]\n'
    )
    write(tmp_path, {"Dockerfile": text})
    assert role(tmp_path, "Dockerfile") == (
        "tooling",
        "it runs the app in /code/tests/app/idp, a test folder",
    )
    assert graded(tmp_path, "DW202") == []
    write(tmp_path, {"Dockerfile": text.replace("/tests/app/idp", "/app")})
    assert role(tmp_path, "Dockerfile") is None


def test_an_image_the_project_only_copies_files_out_of_is_a_builder(tmp_path: Path) -> None:
    builder = (
        "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y build-essential\n"
    )
    main = (
        "FROM acme/sqlite:3.50 AS sqlite-builder\n"
        "FROM python:3.12-slim\n"
        "COPY --from=sqlite-builder /usr/local/lib/libsqlite3.so /usr/local/lib/\n"
        'CMD ["python", "-m", "app"]\n'
    )
    write(tmp_path, {"Dockerfile.sqlite-builder": builder, "Dockerfile": main})
    kind, why = role(tmp_path, "Dockerfile.sqlite-builder") or ("", "")
    assert kind == "builder" and "Dockerfile stage sqlite-builder" in why
    assert [r for r in graded(tmp_path, "DW102") if r[0] == "Dockerfile.sqlite-builder"] == []
    assert role(tmp_path, "Dockerfile") is None
    # the same image shipped (a later stage builds FROM it): a shipped image again
    write(tmp_path, {"Dockerfile": main.replace("FROM python:3.12-slim", "FROM sqlite-builder")})
    assert (role(tmp_path, "Dockerfile.sqlite-builder") or ("",))[0] != "builder"
    assert ("Dockerfile.sqlite-builder", "DW102", "warning") in graded(tmp_path, "DW102")


def test_a_development_stage_chosen_by_compose_does_not_judge_the_whole_file(
    tmp_path: Path,
) -> None:
    dockerfile = """\
        FROM python:3.12-alpine AS dev
        CMD ["mkdocs", "serve"]
        FROM nginx:alpine
        COPY site /usr/share/nginx/html
    """
    compose = "services:\n  docs:\n    build: {context: ., target: dev}\n"
    write(tmp_path, {"Dockerfile": dockerfile, "compose.yaml": compose})
    assert role(tmp_path, "Dockerfile") is None
    assert ("Dockerfile", "DW806", "warning") in graded(tmp_path, "DW806")


# --- one-shot jobs -------------------------------------------------------------------------

JOB = """\
FROM python:3.12-slim
RUN pip install --no-cache-dir requests==2.32.3
COPY . /app
CMD python /app/embedding-job.py
"""


def test_a_script_named_for_a_batch_task_is_a_job(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": JOB, "embedding-job.py": "print('done')\n"})
    kind, why = role(tmp_path, "Dockerfile") or ("", "")
    assert kind == "job" and "embedding-job.py" in why
    result = graded(tmp_path, "DW601", "DW303", "DW202", "DW801")
    assert ("Dockerfile", "DW601", "info") in result  # signals: advice on a job
    assert ("Dockerfile", "DW303", "info") in result  # exit flushes the output
    assert ("Dockerfile", "DW801", "warning") in result  # a job still runs as root
    assert not [r for r in result if r[1] == "DW202"]  # nothing to probe


def test_one_shot_commands_are_jobs_and_servers_are_not(tmp_path: Path) -> None:
    cases = {
        "migrate": '["alembic", "upgrade", "head"]',
        "django": '["python", "manage.py", "migrate"]',
        "train": '["python", "train.py"]',
        "tui": '["mitmproxy"]',
        "web": '["python", "server.py"]',
        "worker": '["python", "worker.py"]',
    }
    for name, cmd in cases.items():
        write(tmp_path, {f"{name}/Dockerfile": f"FROM python:3.12-slim\nCMD {cmd}\n"})
    kinds = {name: (role(tmp_path, f"{name}/Dockerfile") or ("service",))[0] for name in cases}
    assert kinds == {
        "migrate": "job",
        "django": "job",
        "train": "job",
        "tui": "job",
        "web": "service",
        "worker": "service",
    }


def test_kubernetes_job_or_one_off_compose_service_makes_a_job(tmp_path: Path) -> None:
    job = """\
        apiVersion: batch/v1
        kind: Job
        metadata: {name: load}
        spec:
          template:
            spec:
              restartPolicy: OnFailure
              containers:
                - name: load
                  image: ghcr.io/acme/loader:1.0
    """
    # the Job's image is named like the project's only Dockerfile's folder (model/link.py)
    write(tmp_path / "loader", {"Dockerfile": SERVICE, "deploy/job.yaml": job})
    kind, why = role(tmp_path / "loader", "Dockerfile") or ("", "")
    assert kind == "job" and "Job/load is a Job" in why
    # the same image also run by a Deployment: a service
    deployment = textwrap.dedent(job).replace("batch/v1", "apps/v1")
    deployment = deployment.replace("kind: Job", "kind: Deployment")
    deployment = deployment.replace("spec:\n  template:", "spec:\n  selector: {}\n  template:")
    assert "selector" in deployment
    write(tmp_path / "loader", {"deploy/web.yaml": deployment})
    assert role(tmp_path / "loader", "Dockerfile") is None
    one_off = """\
        services:
          migrate:
            build: .
            command: alembic upgrade head
          tools:
            build: .
            profiles: [tools]
    """
    write(tmp_path / "compose", {"Dockerfile": SERVICE, "compose.yaml": one_off})
    assert (role(tmp_path / "compose", "Dockerfile") or ("",))[0] == "job"


# --- DW202 where a HEALTHCHECK cannot matter -----------------------------------------------

SERVER = """\
FROM python:3.12-slim
RUN useradd --uid 10001 app
USER 10001
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
"""


def dw202(root: Path) -> list[tuple[str, str]]:
    return [(severity, message) for _, _, severity, message in found(root, "DW202")]


def test_a_job_or_run_once_pod_joined_by_placeholder_or_folder_name_makes_a_job(
    tmp_path: Path,
) -> None:
    script = "FROM python:3.12-slim\nCOPY main.py /main.py\nCMD python /main.py\n"
    job = """\
        apiVersion: batch/v1
        kind: Job
        metadata: {name: quantize}
        spec:
          template:
            spec:
              restartPolicy: Never
              containers:
                - name: quantize
                  image: $IMAGE_URL
    """
    write(tmp_path / "job", {"quantize/Dockerfile": script, "quantize/job.yaml": job})
    assert role(tmp_path / "job", "quantize/Dockerfile") == (
        "job",
        "Job/quantize is a Job, not a long-running service",
    )
    assert {severity for _, _, severity in graded(tmp_path / "job", "DW601")} == {"info"}
    pod = """\
        apiVersion: v1
        kind: Pod
        metadata: {name: dns-frontend}
        spec:
          restartPolicy: Never
          containers:
            - name: dns-frontend
              image: registry.example.com/example-dns-frontend:v1
              command: [python, client.py]
    """
    files = {
        "dns/images/frontend/Dockerfile": script,
        "dns/images/backend/Dockerfile": script,
        "dns/frontend-pod.yaml": pod,
    }
    write(tmp_path / "pod", files)
    kind, why = role(tmp_path / "pod", "dns/images/frontend/Dockerfile") or ("", "")
    assert kind == "job" and "restartPolicy Never" in why
    assert role(tmp_path / "pod", "dns/images/backend/Dockerfile") is None
    # a bare Pod that Kubernetes restarts is no one-shot job
    write(tmp_path / "always", {**files, "dns/frontend-pod.yaml": pod.replace("Never", "Always")})
    assert role(tmp_path / "always", "dns/images/frontend/Dockerfile") is None


def test_dw202_still_fires_on_a_plain_service(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": SERVER})
    assert [s for s, _ in dw202(tmp_path)] == ["warning"]


def test_dw202_is_advice_where_the_platform_ignores_healthcheck(tmp_path: Path) -> None:
    write(tmp_path / "cdk", {"cdk.json": '{"app": "python3 app.py"}', "app/Dockerfile": SERVER})
    [(severity, message)] = dw202(tmp_path / "cdk")
    assert severity == "info" and "AWS CDK" in message and "cdk.json" in message
    write(tmp_path / "ecs", {"Dockerfile": SERVER, "task-definition.json": "{}"})
    [(severity, message)] = dw202(tmp_path / "ecs")
    assert severity == "info" and "Amazon ECS" in message
    sagemaker = SERVER.replace(
        "EXPOSE", "LABEL com.amazonaws.sagemaker.capabilities.multi-models=true\nEXPOSE"
    )
    write(tmp_path / "sm", {"Dockerfile": sagemaker})
    [(severity, message)] = dw202(tmp_path / "sm")
    assert severity == "info" and "SageMaker" in message
    knative = "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: web}\n"
    write(tmp_path / "run", {"Dockerfile": SERVER, "service.yaml": knative})
    [(severity, message)] = dw202(tmp_path / "run")
    assert severity == "info" and "Cloud Run" in message


def test_dw202_is_advice_where_a_script_or_the_folder_names_the_platform(
    tmp_path: Path,
) -> None:
    tasks = 'def deploy(c):\n    c.run("gcloud run deploy web --source .")\n'
    write(tmp_path / "tasks", {"Dockerfile": SERVER, "tasks.py": tasks})
    [(severity, message)] = dw202(tmp_path / "tasks")
    assert severity == "info" and "Cloud Run" in message and "tasks.py" in message
    write(tmp_path / "sample", {"evidently-ecs/app/Dockerfile": SERVER})
    [(severity, message)] = dw202(tmp_path / "sample")
    assert severity == "info" and "Amazon ECS" in message and "evidently-ecs" in message
    write(tmp_path / "cloud-run-template", {"Dockerfile": SERVER})
    [(severity, message)] = dw202(tmp_path / "cloud-run-template")
    assert severity == "info" and "Cloud Run" in message
    # a script that only mentions the words, and a folder whose name merely contains them
    write(tmp_path / "plain", {"Dockerfile": SERVER, "build.sh": "echo run deploy\n"})
    write(tmp_path / "plain", {"specs/Dockerfile": SERVER, "decks/Dockerfile": SERVER})
    assert {severity for severity, _ in dw202(tmp_path / "plain")} == {"warning"}


def test_dw202_is_advice_for_an_image_compose_runs_in_several_roles(tmp_path: Path) -> None:
    dockerfile = (
        'FROM python:3.12-slim\nEXPOSE 5000\nENTRYPOINT ["/app/entrypoint"]\nCMD ["server"]\n'
    )
    compose = """\
        services:
          server: {build: ., command: server}
          worker: {build: ., command: worker}
          scheduler: {build: ., command: scheduler}
    """
    write(tmp_path, {"Dockerfile": dockerfile, "compose.yaml": compose})
    [(severity, message)] = dw202(tmp_path)
    assert severity == "info" and "several roles" in message and "worker (worker)" in message
    # a service that puts the image to another use (its own entrypoint), a one-off
    # migration, or the same server with other flags is no other role
    other = """\
        services:
          web: {build: ., command: server --port 80}
          admin: {build: ., command: server --port 81}
          migrate: {build: ., command: python manage.py migrate}
          worker: {build: ., entrypoint: celery, command: worker}
    """
    write(tmp_path, {"compose.yaml": other})
    assert [s for s, _ in dw202(tmp_path)] == ["warning"]


def test_dw202_is_advice_on_scratch_and_generated_images_and_silent_on_generic_ones(
    tmp_path: Path,
) -> None:
    scratch = """\
        FROM golang:1.22 AS build
        RUN go build -o /whoami .
        FROM scratch
        COPY --from=build /whoami /
        EXPOSE 80
        ENTRYPOINT ["/whoami"]
    """
    write(tmp_path / "scratch", {"Dockerfile": scratch})
    [(severity, message)] = dw202(tmp_path / "scratch")
    assert severity == "info" and "FROM scratch with no shell" in message
    busybox = scratch.replace(
        "COPY --from=build /whoami /",
        "COPY --from=build /whoami /\nCOPY --from=busybox:1.36 /bin/busybox /bin/",
    )
    write(tmp_path / "busybox", {"Dockerfile": busybox})
    assert [s for s, _ in dw202(tmp_path / "busybox")] == ["warning"]
    write(tmp_path / "variant", {"alpine/Dockerfile": SERVER, "alpine/tmpl.Dockerfile": SERVER})
    [(severity, message)] = [
        (severity, message)
        for path, _, severity, message in found(tmp_path / "variant", "DW202")
        if path == "alpine/Dockerfile"
    ]
    assert severity == "info" and "generated variant" in message
    generic = SERVER.replace(
        'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]',
        'ENTRYPOINT ["gunicorn"]\nCMD ["--help"]',
    )
    write(tmp_path / "generic", {"Dockerfile": generic})
    assert dw202(tmp_path / "generic") == []


def test_dw204_and_dw202_skip_an_interactive_one_shot_tool(tmp_path: Path) -> None:
    tool = 'FROM python:3.12-slim\nHEALTHCHECK CMD exit 0\nCMD ["mitmproxy"]\n'
    write(tmp_path, {"Dockerfile": tool})
    assert graded(tmp_path, "DW202", "DW204") == []


# --- DW801 where root is needed or irrelevant ----------------------------------------------

ROOT_SERVICE = 'FROM python:3.12-slim\nEXPOSE 8000\nCMD ["gunicorn", "app:app"]\n'


def dw801(root: Path) -> list[tuple[str, str]]:
    return [(severity, message) for _, _, severity, message in found(root, "DW801")]


def test_dw801_still_fires_on_a_root_service(tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": ROOT_SERVICE})
    assert [s for s, _ in dw801(tmp_path)] == ["warning"]


def test_dw801_is_advice_for_host_tools_and_nfs_servers(tmp_path: Path) -> None:
    compose = """\
        services:
          audit:
            build: .
            pid: host
            volumes: ["/var/run/docker.sock:/var/run/docker.sock:ro", "/etc:/etc:ro"]
    """
    write(tmp_path / "audit", {"Dockerfile": ROOT_SERVICE, "compose.yaml": compose})
    [(severity, message)] = dw801(tmp_path / "audit")
    assert severity == "info" and "pid: host" in message and "needs root" in message
    nfs = 'FROM centos:7\nRUN yum -y install nfs-utils\nEXPOSE 2049/tcp 111/udp\nENTRYPOINT ["/run_nfs.sh"]\n'
    write(tmp_path / "nfs", {"Dockerfile": nfs})
    [(severity, message)] = dw801(tmp_path / "nfs")
    assert severity == "info" and "NFS server" in message


def test_dw801_is_advice_for_edge_proxy_images_and_load_generator_demos(tmp_path: Path) -> None:
    proxy = (
        "FROM alpine:3.20\nRUN apk --no-cache add ca-certificates\n"
        "COPY traefik /usr/local/bin/traefik\nCOPY entrypoint.sh /\nEXPOSE 80\n"
        'ENTRYPOINT ["/entrypoint.sh"]\nCMD ["traefik"]\n'
    )
    write(tmp_path / "proxy", {"Dockerfile": proxy})
    [(severity, message)] = dw801(tmp_path / "proxy")
    assert severity == "info" and "edge proxy image (traefik, EXPOSE 80)" in message
    # the same proxy on an unprivileged port has no reason to run as root
    write(tmp_path / "high", {"Dockerfile": proxy.replace("EXPOSE 80", "EXPOSE 8080")})
    [(severity, _)] = dw801(tmp_path / "high")
    assert severity == "warning"
    stress = "FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y stress\nCMD stress -c 2\n"
    write(tmp_path / "stress", {"Dockerfile": stress})
    [(severity, message)] = dw801(tmp_path / "stress")
    assert severity == "info" and "load generator" in message
    assert role(tmp_path / "stress", "Dockerfile") == (
        "job",
        "it runs stress, a load generator for a demo or a test",
    )
    assert {severity for _, _, severity in graded(tmp_path / "stress", "DW601")} == {"info"}


def test_dw801_skips_lambda_images_known_by_their_runtime_client(tmp_path: Path) -> None:
    dockerfile = """\
        FROM golang:1.22-alpine AS builder
        RUN go get github.com/aws/aws-lambda-go/lambda && go build -o /application .
        FROM scratch
        COPY --from=builder /application /
        CMD ["/application"]
    """
    write(tmp_path, {"Dockerfile": dockerfile})
    assert (role(tmp_path, "Dockerfile") or ("",))[0] == "function"
    assert graded(tmp_path, "DW801", "DW202") == []


def test_a_careful_service_stays_clean(tmp_path: Path) -> None:
    write(
        tmp_path, {"Dockerfile": CAREFUL, "app.py": "app = None\n", ".dockerignore": "*\n!app.py\n"}
    )
    assert [r for r in graded(tmp_path) if r[2] != "info"] == []


def test_an_image_compose_only_runs_interactively_is_a_tool(tmp_path: Path) -> None:
    dockerfile = 'FROM alpine:3.20\nHEALTHCHECK CMD exit 0\nENTRYPOINT ["/bin/sh", "audit.sh"]\n'
    compose = "services:\n  audit:\n    build: .\n    stdin_open: true\n    tty: true\n"
    write(tmp_path, {"Dockerfile": dockerfile, "compose.yaml": compose})
    kind, why = role(tmp_path, "Dockerfile") or ("", "")
    assert kind == "job" and "interactively" in why
    assert graded(tmp_path, "DW202", "DW204") == []
    write(tmp_path, {"compose.yaml": compose.replace("    tty: true\n", "")})
    assert role(tmp_path, "Dockerfile") is None
    assert [r[1] for r in graded(tmp_path, "DW202", "DW204")] == ["DW204"]
