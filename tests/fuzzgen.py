"""Generators of hostile project files for the fuzz tests and bench/fuzz.py (issue 6).

Each generator takes a `random.Random` and returns a file tree (relative path -> bytes) or
one text: compose documents, Kubernetes manifests, Python app code, and trees that combine
a Dockerfile, compose, manifests and app code so the cross-check rules run. The values are
chosen to break loaders and rules: wrong types, nulls, huge numbers, aliases, cycles,
interpolation edge cases, syntax errors, odd server flags. Plain `random` keeps them
usable both from hypothesis (`st.randoms()`) and from the bench campaign."""

from __future__ import annotations

import random
from pathlib import Path

Tree = dict[str, bytes]

# ---------------------------------------------------------------------------------------
# values of every wrong type
# ---------------------------------------------------------------------------------------

ODD_YAML = [
    "null",
    "~",
    "''",
    "0",
    "-1",
    "5",
    "3.5",
    "1e999",
    "-.inf",
    ".nan",
    "true",
    "no",
    "0x" + "f" * 3600,  # over Python's int-string limit
    "9" * 5000,
    "9" * 400,  # an int no float holds
    "-" + "9" * 400,
    "-" + "9" * 30,
    "[]",
    "{}",
    "[1, [2, [3, [4]]]]",
    "{a: {b: {c: [1, {d: null}]}}}",
    "[a, 5, null, [b]]",
    "{a: 1, b: [2]}",
    "!!set {a, b}",
    "!!binary aGk=",
    "!!str 5",
    "!!float 1",
    "!custom x",
    "!reset null",
    "!reset []",
    "!override [a]",
    "!override {a: 1}",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    '"a\\0b"',
    '"\\x00\\x01"',
    '"\\u202e\\ufeff"',
    "'$${X}'",
    "'${'",
    "'${A:-${B}}'",
    "'${A:-${B:-${C:-d}}}'",
    "'${A:?must be set}'",
    "'${A:+x}'",
    "'${A-}'",
    "'$$'",
    "'${UNTERMINATED'",
    "'${A:-${B'",
    "'${}'",
    "'${-x}'",
    "'$'",
    "'$A$B$'",
    "'-'",
    "':'",
    "' '",
    "{a: 1, a: 2}",
    "{[a, b]: c}",
    "{? x}",
    '"' + "x" * 3000 + '"',
    "'" + "\t" * 2000 + "'",  # a run of tabs inside a value (a backtracking regex, once)
    "'" + "9" * 20000 + "'",  # a digit run with no unit where a duration goes
    "'" + "1s" * 2000 + "'",
]

_SERVER_COMMANDS = [
    ["gunicorn", "app.main:app", "--bind", "0.0.0.0:8000"],
    ["gunicorn", "app.main:app", "--bind"],
    ["gunicorn", "-w", "abc", "app.main:app"],
    ["gunicorn", "-w", "-1", "-b", ":", "app.main:app"],
    ["gunicorn", "-b", "[::1", "app.main:app"],
    ["gunicorn", "-b", "unix:", "app.main:app"],
    ["gunicorn", "--bind=0.0.0.0:99999999999", "app.main:app"],
    ["gunicorn", "-c", "gunicorn.conf.py", "app.main:app"],
    ["gunicorn", "-c", "../../etc/passwd", "app.main:app"],
    ["gunicorn", "--config", "python:app.conf", "app.main:app"],
    ["gunicorn", "--graceful-timeout", "nan", "--timeout", "1e999", "app.main:app"],
    ["gunicorn", "--access-logfile", "-", "--error-logfile", "/var/log/x.log", "app.main:app"],
    ["gunicorn", "--chdir", "../..", "-k", "uvicorn.workers.UvicornWorker", "main:app"],
    ["gunicorn", "app.main:create_app()", "--workers", "99999999999999999999999"],
    ["gunicorn", "app.main:"],
    ["gunicorn", ":app"],
    ["gunicorn"],
    ["uvicorn", "main:app", "--port", "99999999999"],
    ["uvicorn", "main:app", "--port", "-1", "--host"],
    ["uvicorn", "main:app", "--port", "0x50", "--workers", "abc"],
    ["uvicorn", "--factory", "app.main:create_app", "--uds"],
    ["uvicorn", "app.main:app", "--reload", "--log-config", "logging.ini"],
    ["uvicorn"],
    ["granian", "--interface", "asgi", "main:app", "--port"],
    ["daphne", "-b", "0.0.0.0", "-p", "abc", "proj.asgi:application"],
    ["hypercorn", "main:app", "--bind", "0.0.0.0:notaport"],
    ["uwsgi", "--http", ":99999", "--module", "app.main:app"],
    ["uwsgi", "--http", "--module"],
    ["uwsgi", "--ini", "uwsgi.ini"],
    ["python", "-m", "app.main"],
    ["python", "-m"],
    ["python", "-u", "app/main.py"],
    ["python", "manage.py", "runserver", "0.0.0.0:99999999"],
    ["python", "manage.py", "runserver", "[::]:"],
    ["python3.11", "-X", "dev", "-W"],
    ["celery", "-A", "proj", "worker", "--loglevel", "info"],
    ["celery", "-A"],
    ["flask", "run", "--port", "abc"],
    ["fastapi", "run", "main.py", "--port", "99999999999"],
    ["sh", "-c", "exec gunicorn app.main:app --bind 0.0.0.0:$PORT"],
    ["sh", "-c", "gunicorn app.main:app -b ${HOST:-0.0.0.0}:${PORT:-${OTHER}}"],
    ["sh", "-c", "'unterminated"],
    ["bash", "-c"],
    ["./entrypoint.sh", "gunicorn", "app.main:app"],
    ["tini", "--", "uvicorn", "main:app"],
    ["dumb-init", "python", "-m", "app"],
    ["gunicorn", "-w", "²", "--graceful-timeout", "①", "-b", "0.0.0.0:٨٠٨٠", "app.main:app"],
    ["uvicorn", "main:app", "--port", "9" * 5000, "--workers", "9" * 400],
    ["python", "manage.py", "runserver", "0.0.0.0:²"],
    ["flask", "run", "--port=" + "9" * 5000],
    [],
    [""],
    ["\x00"],
]

# numbers int() refuses although str.isdigit() accepts them, and numbers no float holds
ODD_NUMBERS = ["²", "①", "٨٠٨٠", "8000²", "9" * 400, "9" * 5000, "0" * 30 + "1"]

_PORTS = [
    "8000",
    "80",
    "0",
    "-1",
    "65536",
    "99999999999",
    "abc",
    "http",
    "1e999",
    "8000.5",
    "",
    *ODD_NUMBERS,
]


def _pick(rng: random.Random, items: list[str]) -> str:
    return items[rng.randrange(len(items))]


def _odd(rng: random.Random) -> str:
    return _pick(rng, ODD_YAML)


def _flow(words: list[str]) -> str:
    """A YAML flow list of strings (JSON quoting is valid YAML)."""
    import json

    return json.dumps(words)


def server_command(rng: random.Random) -> list[str]:
    return list(_SERVER_COMMANDS[rng.randrange(len(_SERVER_COMMANDS))])


# ---------------------------------------------------------------------------------------
# compose
# ---------------------------------------------------------------------------------------


def _compose_value(rng: random.Random, key: str) -> str:
    """A flow value for a service key: usually odd, sometimes what compose expects."""
    if rng.random() < 0.45:
        return _odd(rng)
    command = server_command(rng)
    good = {
        "image": ["python:3.11-slim", "'${IMAGE:-app}:${TAG}'", "registry:5000/a/b@sha256:abc"],
        "build": [".", "./missing", "/", "..", "{context: ., target: final}", "'${CTX}'"],
        "command": [_flow(command), " ".join(command) or "''"],
        "entrypoint": [_flow(command), "['tini', '--']", "''"],
        "environment": ["{PORT: 8000, DEBUG: 'true'}", "[PORT=8000, 'A', 'B=${A:-${B}}']"],
        "env_file": [".env", "[.env, {path: missing.env, required: false}]", "[{}]"],
        "healthcheck": [
            "{test: [CMD, curl, -f, 'http://localhost:8000/health'], interval: 10s}",
            "{test: 'curl -f http://localhost:99999999/', retries: 1e999, timeout: 1.5h}",
            "{test: [NONE]}",
            "{test: [], disable: yes, interval: abc, start_period: -5s}",
            "{test: [CMD-SHELL], interval: 9999999999999999999999h}",
        ],
        "deploy": [
            "{resources: {limits: {cpus: '0.5', memory: 512M}}}",
            "{resources: {limits: {cpus: abc, memory: 99999999999999999999999G, pids: -1}}}",
            "{resources: {reservations: {memory: 1e999}}}",
            "{resources: [limits]}",
            "{replicas: abc, resources: {limits: null}}",
        ],
        "mem_limit": ["512m", "1e999g", "abc", "-1", "0"],
        "mem_reservation": ["1g", "99999999999999999999999999t"],
        "cpus": ["0.5", "abc", "1e999", "-2"],
        "logging": [
            "{driver: json-file, options: {max-size: 10m, max-file: '3'}}",
            "{driver: [a], options: [a, b]}",
            "{driver: none, options: {max-size: {}, max-file: null}}",
        ],
        "user": ["root", "'0:0'", "1000", "'${UID}:${GID}'", "'app:'", "':'", "'²'", "'①:²'"],
        "privileged": ["true", "'yes'", "1"],
        "init": ["true", "'false'"],
        "read_only": ["true", "'true'"],
        "stop_grace_period": ["30s", "1m30s", "abc", "-1s", "99999999999999999999h"],
        "stop_signal": ["SIGTERM", "SIGNOPE", "9", "''"],
        "ports": [
            "['8000:8000', '127.0.0.1:80:8000/udp', '[::1]:8000:8000', '[::1', ':', '']",
            "[8000, {target: 8000, published: '99999999999', protocol: sctp}, {target: []}]",
            "['${PORT:-8000}:${PORT}', '1-99999:1-2', 'a:b:c:d:e']",
        ],
        "expose": ["[8000, '9000/tcp', abc, 99999999999, '²', '٨٠٨٠']"],
        "secrets": ["[db_password, {source: api_key, target: /run/x}, {source: []}, {}]"],
        "volumes": [
            "['./data:/data:ro', '/var/run/docker.sock:/var/run/docker.sock', 'C:\\x:/y', ':']",
            "[{type: bind, source: ., target: /app, read_only: yes}, {type: []}, {}]",
        ],
        "depends_on": [
            "[db, cache, db]",
            "{db: {condition: service_healthy}, cache: null, x: {condition: []}}",
            "{db: {condition: service_started, required: abc, restart: []}}",
        ],
        "profiles": ["[debug, 5, null]"],
        "extends": [
            "{service: web}",
            "{service: other, file: other.yaml}",
            "{service: web, file: compose.yaml}",
            "{service: missing, file: missing.yaml}",
            "other",
            "{file: []}",
        ],
        "working_dir": ["/app", "../..", "''"],
        "tty": ["true"],
        "stdin_open": ["true"],
        "cap_add": ["[ALL, SYS_ADMIN]", "[NET_BIND_SERVICE]"],
        "security_opt": ["['no-new-privileges:true', 'seccomp:unconfined']"],
        "network_mode": ["host", "'service:db'"],
        "pid": ["host"],
        "ipc": ["host"],
        "restart": ["always", "on-failure:abc"],
        "labels": ["{a: b}", "[a=b, 'c']"],
        "x-dockwise-extends": ["[a, 5]", "abc"],
    }.get(key)
    if not good:
        return _odd(rng)
    return _pick(rng, good)


_SERVICE_KEYS = [
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "healthcheck",
    "deploy",
    "mem_limit",
    "mem_reservation",
    "cpus",
    "logging",
    "user",
    "privileged",
    "init",
    "read_only",
    "stop_grace_period",
    "stop_signal",
    "ports",
    "expose",
    "secrets",
    "volumes",
    "depends_on",
    "profiles",
    "extends",
    "working_dir",
    "tty",
    "stdin_open",
    "cap_add",
    "security_opt",
    "network_mode",
    "pid",
    "ipc",
    "restart",
    "labels",
    "x-dockwise-extends",
]

_BLOCK_KEYS = {
    "build": ["context", "dockerfile", "dockerfile_inline", "target", "args"],
    "healthcheck": [
        "test",
        "interval",
        "timeout",
        "start_period",
        "start_interval",
        "retries",
        "disable",
    ],
    "logging": ["driver", "options"],
    "deploy": ["resources", "replicas"],
}


def _service(rng: random.Random, name: str, names: list[str]) -> list[str]:
    lines = [f"  {name}:"]
    if rng.random() < 0.05:
        return [f"  {name}: {_odd(rng)}"]
    keys = rng.sample(_SERVICE_KEYS, rng.randint(1, min(12, len(_SERVICE_KEYS))))
    for key in keys:
        if key in _BLOCK_KEYS and rng.random() < 0.4:
            lines.append(f"    {key}:")
            for sub in rng.sample(_BLOCK_KEYS[key], rng.randint(1, len(_BLOCK_KEYS[key]))):
                lines.append(f"      {sub}: {_compose_value(rng, sub)}")
            continue
        value = _compose_value(rng, key)
        if key == "extends" and rng.random() < 0.5:  # extends cycles inside one file
            value = "{service: " + _pick(rng, names) + "}"
        if key == "depends_on" and rng.random() < 0.3:
            value = "[" + ", ".join(rng.sample(names, min(len(names), 2))) + "]"
        lines.append(f"    {key}: {value}")
    if rng.random() < 0.15:
        lines.append("    <<: *common")
    return lines


def compose_text(rng: random.Random, names: list[str] | None = None) -> str:
    names = names or rng.sample(["web", "api", "worker", "db", "other"], rng.randint(1, 3))
    lines: list[str] = []
    if rng.random() < 0.2:
        lines.append(f"version: {_odd(rng)}")
    if rng.random() < 0.3:
        lines += [
            "x-common: &common",
            f"  image: {_compose_value(rng, 'image')}",
            f"  environment: {_compose_value(rng, 'environment')}",
        ]
    if rng.random() < 0.1:  # alias bomb, small enough to load
        lines.append("x-bomb:")
        lines.append("  a0: &a0 [x, x, x, x]")
        for i in range(1, rng.randint(2, 7)):
            lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 4) + "]")
    if rng.random() < 0.05:
        lines.append("x-self: &self [a, *self]")
    if rng.random() < 0.3:
        include = _pick(
            rng,
            [
                "[compose.yaml]",
                "[missing.yaml]",
                "[other.yaml, other.yaml]",
                "[{path: other.yaml, env_file: missing.env, project_directory: ..}]",
                "[{path: [a, b]}, {}, 5, null]",
                "other.yaml",
                "[/etc/passwd]",
                "['${INC}']",
            ],
        )
        lines.append(f"include: {include}")
    if rng.random() < 0.05:
        lines.append(f"services: {_odd(rng)}")
    else:
        lines.append("services:")
        if "&common" not in "\n".join(lines) and rng.random() < 0.5:
            lines[-1:] = ["x-common: &common {image: x}", "services:"]
        for name in names:
            lines += _service(rng, name, names)
        if rng.random() < 0.1:
            lines.append(f"  {_odd(rng)}: {{image: x}}")
    for section in ("secrets", "configs", "volumes", "networks"):
        if rng.random() < 0.15:
            value = _pick(
                rng,
                [
                    _odd(rng),
                    "{db_password: {file: ./secret.txt}, api_key: {environment: KEY}}",
                    "{x: {external: true}, y: null, z: []}",
                    "{x: {file: /etc/shadow}}",
                ],
            )
            lines.append(f"{section}: {value}")
    text = "\n".join(lines) + "\n"
    if "*common" in text and "&common" not in text:
        text = "x-common: &common {image: x}\n" + text
    return text


def compose_tree(rng: random.Random) -> Tree:
    """compose.yaml (and what it includes or extends), a .env, a Dockerfile."""
    files: Tree = {
        "compose.yaml": compose_text(rng).encode(),
        "Dockerfile": dockerfile_text(rng).encode(),
    }
    if rng.random() < 0.5:
        files["other.yaml"] = compose_text(rng, ["web", "other"]).encode()
    if rng.random() < 0.4:
        files[".env"] = _pick(
            rng,
            [
                "PORT=8000\nIMAGE=app\nTAG=1\n",
                "A=${B}\nB=${A}\n",
                'export X=\'unterminated\nY="a\\\nb"\n',
                "=\n==\n\x00=1\nA\n",
                "INC=compose.yaml\nCTX=/\n",
                "P=" + "${P}" * 200 + "\n",
            ],
        ).encode()
    if rng.random() < 0.1:
        files["compose.override.yaml"] = compose_text(rng).encode()
    return files


# ---------------------------------------------------------------------------------------
# Kubernetes manifests
# ---------------------------------------------------------------------------------------

WORKLOAD_KINDS = [
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "PodTemplate",
]


def _k8s_value(rng: random.Random, key: str) -> str:
    if rng.random() < 0.35:
        return _odd(rng)
    port = _pick(rng, _PORTS)
    good = {
        "image": ["app:1", "python:3.11-slim", "'{{ .Values.image }}'", "'${IMAGE}'"],
        "command": [_flow(server_command(rng)), "[sh, -c]"],
        "args": [_flow(server_command(rng)[1:]), "['--port', '99999999999']"],
        "env": [
            "[{name: PORT, value: '8000'}, {name: DB_PASSWORD, value: hunter2}]",
            "[{name: A, valueFrom: {secretKeyRef: {name: s, key: k}}}, {name: []}, {}, 5]",
            "[{name: X, value: 5}, {name: Y, value: null}, {name: Z, value: [1]}]",
        ],
        "envFrom": ["[{secretRef: {name: s}}, {configMapRef: null}, {}]"],
        "ports": [
            f"[{{containerPort: {port or 0}, name: http}}, {{containerPort: 8000}}]",
            "[{containerPort: abc, protocol: []}, {name: 5}, 8000]",
        ],
        "livenessProbe": [
            f"{{httpGet: {{path: /health, port: {port or 'http'}}}, periodSeconds: 10}}",
            "{httpGet: {path: [], port: []}, initialDelaySeconds: 1e999}",
            "{tcpSocket: {port: http}, failureThreshold: -1, timeoutSeconds: abc}",
            "{exec: {command: [curl, -f, 'http://localhost:99999999/']}}",
            "{exec: {command: 'curl -f http://localhost/'}}",
            "{grpc: {port: 99999999999}}",
            "{httpGet: null, exec: [], tcpSocket: 5}",
        ],
        "resources": [
            "{limits: {cpu: 500m, memory: 512Mi}, requests: {cpu: '0.1', memory: 1Gi}}",
            "{limits: {cpu: abc, memory: 1e999Ei}, requests: {cpu: -1, memory: 99999999999999999999999999999Ei}}",
            "{limits: [cpu], requests: 5}",
            "{limits: {memory: 1.5.5Gi, cpu: 0x10}}",
        ],
        "securityContext": [
            "{runAsUser: 0, runAsNonRoot: true, privileged: true, readOnlyRootFilesystem: false}",
            "{runAsUser: abc, allowPrivilegeEscalation: 'false', capabilities: {add: [ALL], drop: all}}",
            "{capabilities: [ALL], runAsUser: 99999999999999999999999, runAsGroup: -1}",
            "{capabilities: {add: null, drop: [5, null]}}",
            "{runAsUser: '²', runAsGroup: '٨', runAsNonRoot: 'true'}",
        ],
        "lifecycle": [
            "{preStop: {exec: {command: [sleep, '5']}}}",
            "{preStop: {sleep: {seconds: abc}}}",
            "{preStop: {httpGet: {path: /stop, port: 99999999999}}}",
            "{preStop: [sleep]}",
            "{preStop: {exec: {command: [sleep, '²']}}}",
            "{preStop: {exec: {command: [sleep, '" + "9" * 5000 + "']}}}",
        ],
        "volumeMounts": ["[{name: s, mountPath: /run/secrets}, {name: []}]"],
    }.get(key)
    if not good:
        return _odd(rng)
    return _pick(rng, good)


_CONTAINER_KEYS = [
    "image",
    "command",
    "args",
    "env",
    "envFrom",
    "ports",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "resources",
    "securityContext",
    "lifecycle",
    "volumeMounts",
]


def _container(rng: random.Random, indent: str) -> list[str]:
    if rng.random() < 0.05:
        return [f"{indent}- {_odd(rng)}"]
    lines = [f"{indent}- name: {_pick(rng, ['app', 'web', _odd(rng)])}"]
    for key in rng.sample(_CONTAINER_KEYS, rng.randint(1, len(_CONTAINER_KEYS))):
        probe = "livenessProbe" if key.endswith("Probe") else key
        lines.append(f"{indent}  {key}: {_k8s_value(rng, probe)}")
    return lines


def _pod_spec_lines(rng: random.Random, indent: str) -> list[str]:
    lines = []
    if rng.random() < 0.05:
        return [f"{indent}containers: {_odd(rng)}"]
    for key in ("initContainers", "containers"):
        if key == "initContainers" and rng.random() < 0.7:
            continue
        lines.append(f"{indent}{key}:")
        for _ in range(rng.randint(1, 2)):
            lines += _container(rng, indent + "  ")
    for key, values in (
        (
            "terminationGracePeriodSeconds",
            ["30", "abc", "-1", "99999999999999999999", "1e999", "9" * 400],
        ),
        ("hostNetwork", ["true", "'true'"]),
        ("hostPID", ["true"]),
        ("securityContext", ["{runAsNonRoot: true, runAsUser: 1000}", "{runAsUser: []}"]),
        (
            "volumes",
            [
                "[{name: s, secret: {secretName: db}}, {name: h, hostPath: {path: /}}]",
                "[{secret: []}, {}, 5]",
            ],
        ),
    ):
        if rng.random() < 0.3:
            value = _odd(rng) if rng.random() < 0.4 else _pick(rng, values)
            lines.append(f"{indent}{key}: {value}")
    return lines


def _workload(rng: random.Random, kind: str, indent: str = "") -> list[str]:
    api = {
        "Deployment": "apps/v1",
        "StatefulSet": "apps/v1",
        "DaemonSet": "apps/v1",
        "ReplicaSet": "apps/v1",
        "Job": "batch/v1",
        "CronJob": "batch/v1",
    }.get(kind, "v1")
    if rng.random() < 0.05:
        api = _odd(rng)
    name = _pick(rng, ["web", "app", "api", "worker", _odd(rng)])
    lines = [f"{indent}apiVersion: {api}", f"{indent}kind: {kind}"]
    lines += [f"{indent}metadata:", f"{indent}  name: {name}"]
    if rng.random() < 0.2:
        lines.append(f"{indent}  namespace: {_odd(rng)}")
    if rng.random() < 0.05:
        lines.append(f"{indent}spec: {_odd(rng)}")
        return lines
    lines.append(f"{indent}spec:")
    if kind == "Pod":
        return lines + _pod_spec_lines(rng, indent + "  ")
    if kind == "CronJob":
        lines += [
            f"{indent}  schedule: '* * * * *'",
            f"{indent}  jobTemplate:",
            f"{indent}    spec:",
            f"{indent}      template:",
            f"{indent}        spec:",
        ]
        return lines + _pod_spec_lines(rng, indent + "          ")
    if kind == "PodTemplate":
        lines[-1] = f"{indent}template:"
        lines += [f"{indent}  spec:"]
        return lines + _pod_spec_lines(rng, indent + "    ")
    if rng.random() < 0.8:
        lines += [f"{indent}  selector: {{matchLabels: {{app: web}}}}"]
    lines += [f"{indent}  template:", f"{indent}    spec:"]
    return lines + _pod_spec_lines(rng, indent + "      ")


def _secret(rng: random.Random) -> list[str]:
    return [
        "apiVersion: v1",
        "kind: Secret",
        "metadata: {name: db}",
        f"type: {_pick(rng, ['Opaque', _odd(rng)])}",
        f"data: {_pick(rng, ['{password: aHVudGVyMg==}', '{x: not-base64!}', _odd(rng)])}",
        f"stringData: {_pick(rng, ['{password: hunter2, token: ghp_' + 'a' * 36 + '}', _odd(rng)])}",
    ]


_OTHER_DOCUMENTS = [
    "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80, targetPort: http}]}",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {gunicorn.conf.py: 'bind = 5'}",
    "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: x.example.com}\n"
    "spec: {group: example.com, names: {kind: Rollout}, versions: [{name: v1, schema: {}}]}",
    "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\n"
    "spec: {template: {spec: {containers: [{name: a, image: b, ports: abc}]}}}",
    "apiVersion: v1\nkind: List\nitems: 5",
    "apiVersion: v1\nkind: List\nitems: [5, null, {kind: Pod}]",
    "kind: Deployment",
    "apiVersion: []\nkind: {}",
    "apiVersion: v1\nkind: 5",
    "- a\n- b",
    "just text",
    "{{- if .Values.enabled }}\napiVersion: v1\nkind: Pod\n{{- end }}",
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ include "x" . | nindent 4 }}',
    "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: {{ .Values.image }}",
]


def manifest_text(rng: random.Random) -> str:
    """One manifest file: several documents of every workload kind, Lists, Secrets, CRDs,
    Helm template text, broken YAML."""
    documents = []
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        if choice < 0.6:
            documents.append("\n".join(_workload(rng, _pick(rng, WORKLOAD_KINDS))))
        elif choice < 0.72:
            items = ["apiVersion: v1", "kind: List", "items:"]
            for _ in range(rng.randint(1, 3)):
                body = _workload(rng, _pick(rng, WORKLOAD_KINDS), "  ")
                body[0] = "- " + body[0][2:]
                items += body
            documents.append("\n".join(items))
        elif choice < 0.82:
            documents.append("\n".join(_secret(rng)))
        else:
            documents.append(_pick(rng, _OTHER_DOCUMENTS))
    separator = _pick(rng, ["\n---\n", "\n---\n", "\n--- \n# comment\n", "\n...\n---\n"])
    text = separator.join(documents) + "\n"
    if rng.random() < 0.2:
        text = "---\n" + text
    if rng.random() < 0.05:
        text = text.replace("\n", "\r\n")
    if rng.random() < 0.05:
        text += "\x00\n"
    if rng.random() < 0.05:
        text = text.replace("  ", "\t", 1)
    return text


def manifests_tree(rng: random.Random) -> Tree:
    files: Tree = {"Dockerfile": dockerfile_text(rng).encode()}
    for i in range(rng.randint(1, 3)):
        name = _pick(
            rng, ["deploy.yaml", "k8s/app.yml", f"k8s/m{i}.yaml", "chart/templates/d.yaml"]
        )
        files[name] = manifest_text(rng).encode()
    return files


# ---------------------------------------------------------------------------------------
# Python app code
# ---------------------------------------------------------------------------------------

_DECORATORS = [
    '@app.get("/health")',
    "@app.get()",
    "@app.get(123)",
    "@app.get(None)",
    '@app.get(path=f"/x{y}")',
    "@app.get(*paths)",
    "@app.get(**options)",
    '@app.route("/a", methods=["GET", 5])',
    '@app.route(b"/bytes")',
    '@app.route("/" * 3)',
    '@router.get("/items/{id}")',
    '@router.api_route("/x", methods=None)',
    '@router.get("")',
    '@bp.route("/bp")',
    '@(app.get)("/paren")',
    '@app.get("/a")("/b")',
    "@lambda f: f",
    "@app",
    '@app.websocket("/ws")',
    '@app.get("/" + "x" * 5000)',
    '@unknown.get("/u")',
    "@app.get(lambda: 1)",
]

_PY_BLOCKS = [
    "from fastapi import FastAPI, APIRouter\napp = FastAPI()\nrouter = APIRouter(prefix='/r')\n",
    "from fastapi import FastAPI, APIRouter\napp = FastAPI(root_path=5)\nrouter = APIRouter(prefix=None)\n",
    "from flask import Flask, Blueprint\napp = Flask(__name__)\nbp = Blueprint('b', __name__, url_prefix=5)\n",
    "from starlette.applications import Starlette\nfrom starlette.routing import Route, Mount\n"
    "app = Starlette(routes=[Route('/health', h), Mount('/m', routes=[Route(5, h)]), Mount(app=app)])\n",
    "app.include_router(router)\nrouter.include_router(router)\n",
    "app.include_router(unknown_router, prefix=123)\n",
    "app.include_router(*routers)\napp.include_router()\n",
    "from app.other import router as other\napp.include_router(other, prefix='/o')\n",
    "from . import main\nrouter.include_router(main.router)\n",
    "from .. import x\nfrom ...... import y\n",
    "app.mount('/sub', app)\napp.mount(None, None)\napp.mount()\n",
    "app.register_blueprint(bp, url_prefix=None)\napp.register_blueprint(bp)\napp.register_blueprint()\n",
    "app.add_url_rule('/r', view_func=v)\napp.add_url_rule(5)\napp.add_api_route(path=[], endpoint=f)\n",
    "import logging\nlogging.basicConfig(filename='/var/log/app.log')\n",
    "import logging\nlogging.basicConfig(filename=5, stream=None)\nh = logging.FileHandler()\n",
    "import logging.config\nlogging.config.dictConfig({'handlers': {'f': {'class': 'logging.FileHandler', 'filename': 5}}})\n",
    "import logging.config\nlogging.config.dictConfig(CONFIG)\nlogging.config.fileConfig(5)\n",
    "LOGGING = {'version': 1, 'handlers': {'f': {'class': 'logging.handlers.RotatingFileHandler', 'filename': f'{x}'}}, 'root': []}\n",
    "LOGGING = {'handlers': 5, 1: 2, **extra}\n",
    "import uvicorn\nif __name__ == '__main__':\n    uvicorn.run(app, host='0.0.0.0', port=99999999999)\n",
    "if __name__ == '__main__':\n    app.run(port='abc', host=None, debug=True)\n",
    "if __name__ == '__main__':\n    app.run(*a, **k)\n",
    "def create_app():\n    app = FastAPI()\n    return app\n",
    "@app.middleware('http')\nasync def request_id(request, call_next):\n    request.headers.get('X-Request-ID')\n",
    "import os\nPORT = int(os.environ.get('PORT', 'abc'))\n",
    "print 'python 2'\n",
    "exec 'code'\n",
    "def f(:\n",
    "class X(\n",
    "\tif True:\n        pass\n",
    "x = '''unterminated\n",
    "async def f():\n    yield from x\n",
    "lambda: (yield)\n",
    "return 5\n",
    "match x:\n    case {'a': 1}: pass\n",
    "def f[T](x: T) -> T: ...\n",
]


def _deep(rng: random.Random) -> str:
    depth = rng.choice([50, 120, 300, 1000])
    kind = rng.randrange(4)
    if kind == 0:
        return "x = " + "(" * depth + "1" + ")" * depth + "\n"
    if kind == 1:
        return (
            "".join("    " * i + "if x:\n" for i in range(min(depth, 120)))
            + "    " * min(depth, 120)
            + "pass\n"
        )
    if kind == 2:
        return "x = " + "[" * depth + "]" * depth + "\n"
    return "x = " + "-" * depth * 10 + "1\n"  # deep unary chain


def python_text(rng: random.Random) -> str:
    parts = []
    if rng.random() < 0.1:
        parts.append(
            _pick(rng, ["# -*- coding: latin-1 -*-\n", "# coding: nonexistent\n", "\ufeff"])
        )
    for _ in range(rng.randint(1, 6)):
        roll = rng.random()
        if roll < 0.35:
            decorators = "\n".join(rng.sample(_DECORATORS, rng.randint(1, 3)))
            parts.append(
                f"{decorators}\n{_pick(rng, ['async def', 'def'])} view():\n    return 'ok'\n"
            )
        elif roll < 0.9:
            parts.append(_pick(rng, _PY_BLOCKS))
        elif roll < 0.95:
            parts.append(_deep(rng))
        else:
            parts.append(_pick(rng, ["\x00", "\r", "\f", "\\\n", "#" * 1000 + "\n", "\udcff"]))
    if rng.random() < 0.03:  # a big file
        parts.append(
            "".join(f'@app.get("/r{i}")\ndef r{i}():\n    return {i}\n' for i in range(3000))
        )
    return "".join(parts)


def _django_files(rng: random.Random) -> Tree:
    urls = _pick(
        rng,
        [
            "from django.urls import path, include, re_path\n"
            "urlpatterns = [path('a/', include('app.urls')), path('health/', v)]\n",
            "from django.urls import path, include\n"
            "urlpatterns = [path('x/', include('proj.urls')), path(include), path(5, v)]\n",
            "from django.urls import path, include, re_path\n"
            "urlpatterns = [re_path(r'^(?P<x>', v), re_path(r'^a/$', include(('app.urls', 'ns'))),"
            " path('m/', include(['a', 5]))]\n",
            "from django.urls import path, include\nurlpatterns = [path('u/', include(unknown))]\n"
            "urlpatterns += [path('', include('app.urls', namespace=5))]\n",
            "urlpatterns = 5\n",
            "urlpatterns = [*other, path('x', include('app.urls'))]\n",
        ],
    )
    settings = _pick(
        rng,
        [
            "ROOT_URLCONF = 'proj.urls'\nLOGGING = {'handlers': {'f': {'filename': '/tmp/a.log'}}}\n",
            "ROOT_URLCONF = 5\n",
            "ROOT_URLCONF = 'app.urls'\nDEBUG = True\nALLOWED_HOSTS = ['*']\n",
            "ROOT_URLCONF = f'{x}.urls'\n",
        ],
    )
    return {
        "proj/__init__.py": b"",
        "proj/settings.py": settings.encode(),
        "proj/urls.py": urls.encode(),
        "proj/wsgi.py": b"import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n"
        b"from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
        "app/urls.py": _pick(
            rng,
            [
                urls,
                "from django.urls import include, path\nurlpatterns=[path('', include('proj.urls'))]\n",
            ],
        ).encode(),
        "manage.py": b"import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n",
    }


_GUNICORN_CONF = [
    "bind = '0.0.0.0:8000'\nworkers = 2\n",
    "import multiprocessing, os\nbind = os.environ.get('BIND', '0.0.0.0:8000')\n"
    "workers = multiprocessing.cpu_count() * 2 + 1\n",
    "bind = ['0.0.0.0:99999999999', 5]\nworkers = 'abc'\n",
    "bind = 5\nworkers = True\ngraceful_timeout = 1e999\naccesslog = 5\nerrorlog = []\n",
    "bind = []\nworkers = -1\ngraceful_timeout = float('nan')\n",
    "bind = ''\nworkers = 10**400\n",
    "workers = " + "9" * 400 + "\ngraceful_timeout = " + "9" * 400 + "\n",
    "bind = (':',)\nworkers = 99999999999999999999999999999\ngraceful_timeout = -5\n",
    "bind = b'0.0.0.0:80'\nlogconfig = {}\naccesslog = '/var/log/access.log'\n",
    "bind = {'a': 1}\nworkers = None\n",
    "bind = 'unix:/tmp/x.sock'\nbind = '[::]:'\n",
    "def f(:\n",
    "bind = '0.0.0.0:' + str(8000)\nworkers: int = 4\nbind, workers = 1, 2\n",
    "x = " + "(" * 300 + ")" * 300 + "\n",
]


def python_tree(rng: random.Random) -> Tree:
    """App code a Dockerfile's CMD reaches: FastAPI, Flask, Starlette or Django, with odd
    routers, decorators, includes, logging and a gunicorn.conf.py."""
    files: Tree = {}
    encoding = "utf-8" if rng.random() < 0.9 else _pick(rng, ["latin-1", "utf-16"])
    for name in ("app/main.py", "main.py", "app/other.py"):
        if name == "main.py" or rng.random() < 0.7:
            text = python_text(rng)
            if encoding != "utf-8":
                text = text.replace("\udcff", "\xff")
            files[name] = text.encode(
                encoding, "surrogateescape" if encoding == "utf-8" else "replace"
            )
    files["app/__init__.py"] = _pick(
        rng, ["", "from .main import app\n", "from . import *\n"]
    ).encode()
    if rng.random() < 0.3:
        files.update(_django_files(rng))
    if rng.random() < 0.5:
        files["gunicorn.conf.py"] = _pick(rng, _GUNICORN_CONF).encode()
    if rng.random() < 0.2:
        files["logging.ini"] = _pick(
            rng,
            [
                "[handlers]\nkeys=file\n[handler_file]\nclass=FileHandler\nargs=('/var/log/a.log',)\n",
                "[handler_x]\nargs=(\n",
                "\x00[\n",
            ],
        ).encode()
    command = server_command(rng)
    files["Dockerfile"] = dockerfile_text(rng, command).encode()
    return files


# ---------------------------------------------------------------------------------------
# Dockerfiles and whole trees
# ---------------------------------------------------------------------------------------


def dockerfile_text(rng: random.Random, command: list[str] | None = None) -> str:
    import json

    command = command if command is not None else server_command(rng)
    port = _pick(rng, _PORTS)
    lines = [
        _pick(rng, ["FROM python:3.11-slim", "FROM python:3.11-slim AS final", "FROM ${BASE}"]),
        "WORKDIR " + _pick(rng, ["/app", "/", "''", "$X"]),
        "COPY . .",
    ]
    if rng.random() < 0.5:
        lines.append(f"EXPOSE {port or '8000'}")
    if rng.random() < 0.3:
        lines.append(
            _pick(
                rng,
                [
                    "ENV FLASK_APP=app.main",
                    "ENV PORT=" + (port or "8000"),
                    "ENV DJANGO_SETTINGS_MODULE=proj.settings",
                ],
            )
        )
    if rng.random() < 0.4:
        lines.append(
            _pick(
                rng,
                [
                    f"HEALTHCHECK CMD curl -f http://localhost:{port}/health || exit 1",
                    'HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen(\'http://localhost:8000/x\')"]',
                    "HEALTHCHECK NONE",
                    "HEALTHCHECK --interval=abc CMD",
                ],
            )
        )
    if rng.random() < 0.3:
        lines.append(
            _pick(rng, ["USER app", "USER 0", "USER ${U}", "USER", "USER ²", "USER " + "9" * 400])
        )
    if rng.random() < 0.3:
        number = _pick(rng, ODD_NUMBERS)
        lines.append(
            _pick(
                rng,
                [
                    f"EXPOSE {number} {number}-{number}/tcp",
                    f"STOPSIGNAL {number}",
                    f"COPY --from={number} /a /b",
                    f"RUN useradd -u {number} app && chown {number}:{number} /app",
                    f"ENV WEB_CONCURRENCY={number} PORT={number} GUNICORN_CMD_ARGS='-w {number}'",
                    f"HEALTHCHECK --retries={number} --interval={number}s CMD nc -z localhost {number}",
                    "HEALTHCHECK CMD python -c \"import socket; socket.create_connection(('localhost', "
                    + number
                    + '))"',
                    f"RUN chmod {number} /app && ulimit -n {number}",
                ],
            )
        )
    if command and rng.random() < 0.3:
        lines.append("ENTRYPOINT " + json.dumps(command[:1]))
        lines.append("CMD " + json.dumps(command[1:]))
    elif rng.random() < 0.7:
        lines.append("CMD " + json.dumps(command))
    else:
        lines.append("CMD " + " ".join(command))
    return "\n".join(lines) + "\n"


_COHERENT_COMMANDS = [
    ["gunicorn", "app.main:app", "--bind", "0.0.0.0:8000"],
    ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"],
    ["gunicorn", "-c", "gunicorn.conf.py", "app.main:app"],
    ["gunicorn", "proj.wsgi:application", "-b", ":8000"],
    ["gunicorn", "proj.wsgi", "-b", ":8000"],
    ["gunicorn", "app.main:create_app()", "-b", "0.0.0.0:8000"],
    ["python", "-m", "app.main"],
    ["python", "manage.py", "runserver", "0.0.0.0:8000"],
    ["sh", "-c", "exec uvicorn app.main:app --port ${PORT:-8000} --host 0.0.0.0"],
]

_HEALTH_PATHS = ["/health", "/healthz", "/r/items/1", "/o/x", "/a/health/", "/", "", "/x?y=1#z"]

_COHERENT_APP = """\
from fastapi import FastAPI, APIRouter
from app.other import router as other
app = FastAPI()
router = APIRouter(prefix=PREFIX)
inner = APIRouter()

@router.get("/items/{id}")
def item(id): ...

@inner.get(INNER)
def inner_route(): ...

@app.get("/health")
def health(): ...

router.include_router(inner, prefix="/i")
inner.include_router(router)
app.include_router(router)
app.include_router(other, prefix=OTHER)
app.include_router(missing.router)
"""


def _coherent_app(rng: random.Random) -> bytes:
    odd = ["'/r'", "None", "5", "f'/{x}'", "'/' * 2", "''", "'r'"]
    text = _COHERENT_APP.replace("PREFIX", _pick(rng, odd))
    text = text.replace("INNER", _pick(rng, odd)).replace("OTHER", _pick(rng, odd))
    lines = text.splitlines(keepends=True)
    for _ in range(rng.randint(0, 3)):  # drop or duplicate a line
        i = rng.randrange(len(lines))
        if rng.random() < 0.5:
            del lines[i]
        else:
            lines.insert(i, lines[i])
    return "".join(lines).encode()


def _coherent(rng: random.Random, files: Tree) -> list[str]:
    """Make the service's parts agree (port 8000, an app with routers) so the cross-checks
    between health checks, server commands and routes run; returns the server command."""
    command = list(_pick_list(rng, _COHERENT_COMMANDS))
    path = _pick(rng, _HEALTH_PATHS)
    files["app/main.py"] = _coherent_app(rng)
    files["app/other.py"] = (
        b"from fastapi import APIRouter\nrouter = APIRouter()\n"
        b"from app.main import router as back\nrouter.include_router(back)\n"
        b"@router.get('/x')\ndef x(): ...\n"
    )
    files["Dockerfile"] = (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nEXPOSE 8000\n"
        f"HEALTHCHECK CMD curl -f http://localhost:8000{path} || exit 1\n"
        f"CMD {_flow(command)}\n"
    ).encode()
    return command


def _pick_list(rng: random.Random, items: list[list[str]]) -> list[str]:
    return items[rng.randrange(len(items))]


def combined_tree(rng: random.Random) -> Tree:
    """A Dockerfile, app code, a compose file and manifests that run it, with server
    commands everywhere so the cross-check rules join them."""
    files = python_tree(rng)
    command = _coherent(rng, files) if rng.random() < 0.5 else server_command(rng)
    path = _pick(rng, _HEALTH_PATHS)
    health = _compose_value(rng, "healthcheck")
    if rng.random() < 0.5:
        health = f"{{test: [CMD, curl, -f, 'http://localhost:8000{path}']}}"
    files["compose.yaml"] = (
        "services:\n  web:\n    build: .\n    image: web:latest\n"
        + f"    command: {_flow(command)}\n"
        + f"    ports: {_compose_value(rng, 'ports')}\n"
        + f"    healthcheck: {health}\n"
        + "".join(
            f"    {key}: {_compose_value(rng, key)}\n"
            for key in rng.sample(_SERVICE_KEYS, rng.randint(0, 5))
            if key not in ("build", "image", "command", "ports", "healthcheck", "extends")
        )
    ).encode()
    manifest = "\n".join(_workload(rng, _pick(rng, ["Deployment", "Pod", "StatefulSet"])))
    if rng.random() < 0.5:
        manifest = (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
            "  selector: {matchLabels: {app: web}}\n  template:\n    spec:\n      containers:\n"
            f"      - name: web\n        image: web:latest\n        args: {_flow(command)}\n"
            f"        ports: [{{containerPort: 8000, name: {_pick(rng, ['http', 'web', '5'])}}}]\n"
            f"        livenessProbe: {{httpGet: {{path: '{path}', port: {_pick(rng, _PORTS) or 'http'}}}}}\n"
            f"        readinessProbe: {{httpGet: {{path: '{path}', port: 8000}}}}\n"
            f"        startupProbe: {{exec: {{command: [curl, -f, 'localhost:8000{path}']}}}}\n"
        )
    files["k8s/deployment.yaml"] = (manifest + "\n").encode()
    if rng.random() < 0.3:
        files["entrypoint.sh"] = _pick(
            rng,
            [
                "#!/bin/sh\nexec gunicorn app.main:app --bind 0.0.0.0:${PORT:-8000}\n",
                '#!/bin/sh\nexec "$@"\n',
                "#!/bin/sh\n$(\n",
                "#!/bin/sh\n. ./entrypoint.sh\nexec ./entrypoint.sh\n",
            ],
        ).encode()
    return files


def write_tree(root: Path, files: Tree) -> None:
    for relpath, data in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


GENERATORS = {
    "compose": compose_tree,
    "manifests": manifests_tree,
    "python": python_tree,
    "combined": combined_tree,
}


# ---------------------------------------------------------------------------------------
# mutations of real files (bench/fuzz.py feeds the corpus through these)
# ---------------------------------------------------------------------------------------

_YAML_SNIPPETS = [
    "null",
    "~",
    "[]",
    "{}",
    "*a",
    "&a ",
    "<<: *a",
    "!!set ",
    "!reset ",
    "!override ",
    "? ",
    "- ",
    ": ",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "\t",
    "'",
    '"',
    "#",
    "${",
    "${A:-${B}}",
    "$$",
    "{{ .Values.x }}",
    "0x" + "f" * 3600,
    "1e999",
    "\x00",
    "\ufeff",
    "\r",
]


def mutate_yaml(text: str, rng: random.Random) -> bytes:
    """Line edits, type swaps (a value replaced by an odd one), indentation shifts."""
    lines = text.splitlines(keepends=True) or ["\n"]
    for _ in range(rng.randint(1, 5)):
        i = rng.randrange(len(lines))
        line = lines[i]
        op = rng.randrange(8)
        if op == 0 and len(lines) > 1:
            del lines[i]
        elif op == 1:
            lines.insert(i, line)
        elif op == 2 and ":" in line:  # a value of another type
            key, _, _ = line.partition(":")
            lines[i] = f"{key}: {_pick(rng, ODD_YAML)}\n"
        elif op == 3:  # indentation shift
            lines[i] = _pick(rng, ["  ", "", "\t", "    "]) + line.lstrip(" ")
        elif op == 4:
            k = rng.randrange(len(line) + 1)
            lines[i] = line[:k] + _pick(rng, _YAML_SNIPPETS) + line[k:]
        elif op == 5 and ":" in line:  # a key with an anchor, later aliased
            key, _, value = line.partition(":")
            lines[i] = f"{key}: &a{value}"
            lines.insert(rng.randrange(len(lines) + 1), f"{key.strip() or 'x'}: *a\n")
        elif op == 6:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines[i] = line.replace(" ", "", 1)
    return "".join(lines).encode("utf-8", "surrogatepass")


_PY_SNIPPETS = [
    "(",
    ")",
    ":",
    "\n    ",
    "\t",
    "'",
    '"""',
    "\\",
    "\x00",
    "@app.get()\n",
    "@router.get(5)\n",
    "app.include_router(router)\n",
    "urlpatterns = [path('', include(__name__))]\n",
    "print 'x'\n",
    "lambda",
    "yield",
    "await ",
    "async ",
    "*",
    "**",
    "global x\n",
]


def mutate_python(text: str, rng: random.Random) -> bytes:
    lines = text.splitlines(keepends=True) or ["\n"]
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        line = lines[i]
        op = rng.randrange(6)
        if op == 0 and len(lines) > 1:
            del lines[i]
        elif op == 1:
            lines.insert(i, line)
        elif op == 2:
            k = rng.randrange(len(line) + 1)
            lines[i] = line[:k] + _pick(rng, _PY_SNIPPETS) + line[k:]
        elif op == 3:
            lines.insert(i, _pick(rng, _PY_BLOCKS))
        elif op == 4:
            lines.insert(i, _pick(rng, _DECORATORS) + "\n")
        else:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines).encode("utf-8", "surrogatepass")


def tree_with_compose(compose: bytes, rng: random.Random) -> Tree:
    return {"compose.yaml": compose, "Dockerfile": dockerfile_text(rng).encode()}


def tree_with_manifest(manifest: bytes, rng: random.Random) -> Tree:
    return {"k8s/deploy.yaml": manifest, "Dockerfile": dockerfile_text(rng).encode()}


def tree_with_python(source: bytes, relpath: str, rng: random.Random) -> Tree:
    """The file as the entry module a Dockerfile's server command runs, and as a sibling."""
    files = combined_tree(rng) if rng.random() < 0.3 else python_tree(rng)
    files["app/main.py"] = source
    if relpath.endswith(("urls.py", "settings.py", "gunicorn.conf.py")):
        files[
            {"urls.py": "proj/urls.py", "settings.py": "proj/settings.py"}.get(
                relpath.rpartition("/")[2], "gunicorn.conf.py"
            )
        ] = source
    return files


# ---------------------------------------------------------------------------------------
# long runs of one character in one field: where a backtracking regex goes superlinear
# ---------------------------------------------------------------------------------------

RUN_CHARACTERS = ["9", "a", " ", "\t", "/", ":", "$", "{", "%", "\\", "-", ".", "=", "@", "*"]
RUN_CHARACTERS += ["[", ",", "a1", "1.", "${", "0x", "/a", "a:", "-a", "=a", "1s", "ab ", "'"]

_RUN_COMPOSE = [
    "image: '{v}'",
    "command: '{v}'",
    "entrypoint: '{v}'",
    "stop_grace_period: '{v}'",
    "mem_limit: '{v}'",
    "cpus: '{v}'",
    "ports: ['{v}']",
    "expose: ['{v}']",
    "user: '{v}'",
    "stop_signal: '{v}'",
    "environment: {{A: '{v}'}}",
    "env_file: '{v}'",
    "volumes: ['{v}']",
    "healthcheck: {{test: 'curl {v}', interval: '{v}', retries: '{v}'}}",
    "logging: {{driver: json-file, options: {{max-size: '{v}', max-file: '{v}'}}}}",
    "build: {{context: ., target: '{v}', args: {{A: '{v}'}}}}",
    "deploy: {{resources: {{limits: {{memory: '{v}', cpus: '{v}'}}}}}}",
]
_RUN_K8S = [
    "image: '{v}'",
    "args: ['{v}']",
    "command: ['sh', '-c', '{v}']",
    "env: [{{name: A, value: '{v}'}}]",
    "resources: {{limits: {{memory: '{v}', cpu: '{v}'}}}}",
    "livenessProbe: {{httpGet: {{path: '{v}', port: '{v}'}}}}",
    "livenessProbe: {{exec: {{command: ['sh', '-c', '{v}']}}}}",
    "ports: [{{containerPort: 80, name: '{v}'}}]",
    "lifecycle: {{preStop: {{exec: {{command: [sleep, '{v}']}}}}}}",
]
_RUN_DOCKERFILE = [
    "HEALTHCHECK --interval={v} --timeout={v} --retries={v} CMD curl {v}",
    "EXPOSE {v}",
    "USER {v}",
    "STOPSIGNAL {v}",
    "ENV A={v}",
    "LABEL a={v}",
    "RUN {v}",
    "CMD {v}",
    "WORKDIR {v}",
    "COPY --chown={v} {v} /a",
    "ARG A={v}",
    'CMD ["gunicorn", "-b", "{v}", "app:app"]',
    "RUN pip install {v}",
    "RUN apt-get install -y {v}",
    "FROM {v}",
    "CMD uvicorn main:app --port {v} --host {v}",
]
_RUN_PYTHON = [
    "@app.get('{v}')\ndef f(): ...",
    "urlpatterns = [path('{v}', v)]",
    "logging.basicConfig(filename='{v}')",
    "x = '{v}'",
    "import {v}",
    "# {v}",
]


def long_run_tree(rng: random.Random, length: int = 3000) -> Tree:
    """One field of a compose file, a manifest, a Dockerfile or a module holding a long run
    of one character (or pair): what a backtracking regex turns quadratic or worse."""
    unit = _pick(rng, RUN_CHARACTERS)
    value = unit * max(1, length // len(unit))
    quoted = value.replace("'", "''")
    where = rng.randrange(4)
    dockerfile = "FROM python:3.11-slim\nUSER 1000\nCOPY . .\n"
    dockerfile += 'CMD ["gunicorn", "app.main:app", "-b", ":8000"]\n'
    if where == 0:
        field = _pick(rng, _RUN_COMPOSE).format(v=quoted)
        compose = f"services:\n  web:\n    build: .\n    {field}\n"
        return {"Dockerfile": dockerfile.encode(), "compose.yaml": compose.encode()}
    if where == 1:
        field = _pick(rng, _RUN_K8S).format(v=quoted)
        manifest = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        manifest += f"  - name: a\n    image: web\n    {field}\n"
        return {"Dockerfile": dockerfile.encode(), "k8s/pod.yaml": manifest.encode()}
    if where == 2:
        line = _pick(rng, _RUN_DOCKERFILE).format(v=value.replace("\\", "/"))
        return {"Dockerfile": f"FROM python:3.11-slim\n{line}\nUSER 1\n".encode()}
    line = _pick(rng, _RUN_PYTHON).format(v=value.replace("'", "").replace("\\", ""))
    module = f"from flask import Flask\nimport logging\napp = Flask(__name__)\n{line}\n"
    return {"Dockerfile": dockerfile.encode(), "app/main.py": module.encode()}


GENERATORS["long runs"] = long_run_tree
