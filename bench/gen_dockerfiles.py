"""Generate a deterministic corpus of varied, realistic Dockerfiles.

    python bench/gen_dockerfiles.py OUT_DIR [--count 500] [--seed 7]

Each file is built from the pieces real Dockerfiles are made of: ARG-resolved bases, several
package managers, pinned and unpinned installs, multi-stage builds, heredocs (with comments
right after them, which hadolint cannot parse), exec and shell forms, labels, users and
health checks. Used by bench/speed.py and bench/hadolint_agreement.py.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

BASES = [
    "python:3.11-slim",
    "python:3.12",
    "python:3.11-alpine",
    "debian:bookworm-slim",
    "ubuntu:22.04",
    "alpine:3.19",
    "node:20-slim",
    "golang:1.22",
    "centos:7",
    "fedora:39",
    "opensuse/leap:15.5",
    "python",
    "ubuntu:latest",
    "gcr.io/distroless/python3-debian12",
]
PY_PACKAGES = [
    "flask",
    "requests==2.31.0",
    "django>=4.2,<5",
    "gunicorn",
    "uvicorn[standard]==0.30.1",
    "numpy",
]
APT_PACKAGES = [
    "curl",
    "ca-certificates",
    "git=1:2.39.2-1.1",
    "build-essential",
    "libpq-dev",
    "wget",
    "gnupg",
]
APK_PACKAGES = ["curl", "bash=5.2.21-r0", "git", "build-base", "postgresql-dev"]


def apt_install(rng: random.Random) -> str:
    packages = " ".join(rng.sample(APT_PACKAGES, rng.randint(1, 4)))
    flags = rng.choice(
        ["-y --no-install-recommends", "-y", "", "-qq --no-install-recommends", "--yes"]
    )
    cleanup = rng.choice([" \\\n && rm -rf /var/lib/apt/lists/*", "", " && apt-get clean"])
    update = rng.choice(["apt-get update && ", "apt-get update \\\n && ", ""])
    return f"RUN {update}apt-get install {flags} {packages}{cleanup}".replace("  ", " ")


def apk_install(rng: random.Random) -> str:
    packages = " ".join(rng.sample(APK_PACKAGES, rng.randint(1, 3)))
    return f"RUN apk add {rng.choice(['--no-cache ', ''])}{packages}"


def yum_like(rng: random.Random, tool: str) -> str:
    yes = rng.choice(["-y ", ""])
    pkg = rng.choice(["httpd", "httpd-2.4.6", "python3", "gcc"])
    clean = rng.choice([f" && {tool} clean all", ""])
    return f"RUN {tool} install {yes}{pkg}{clean}"


def zypper(rng: random.Random) -> str:
    return rng.choice(
        [
            "RUN zypper install -y python3",
            "RUN zypper install python3=3.6",
            "RUN zypper -n install curl && zypper clean",
            "RUN zypper dist-upgrade",
        ]
    )


def pip_install(rng: random.Random) -> str:
    prefix = rng.choice(["pip", "pip3", "python -m pip", "python3 -m pip"])
    what = rng.choice(["-r requirements.txt", " ".join(rng.sample(PY_PACKAGES, 2)), "."])
    cache = rng.choice(["--no-cache-dir ", ""])
    return f"RUN {prefix} install {cache}{what}"


def heredoc_run(rng: random.Random) -> str:
    body = rng.choice(
        [
            "set -eux\napt-get update\napt-get install -y --no-install-recommends curl\nrm -rf /var/lib/apt/lists/*",
            "pip install --no-cache-dir flask==3.0.3\npython -c 'import flask'",
            "echo hello > /tmp/x\ncat /tmp/x | wc -l",
        ]
    )
    tail = rng.choice(["", "# configure the app next\n"])
    return f"RUN <<EOF\n{body}\nEOF\n{tail}".rstrip("\n")


def misc(rng: random.Random) -> str:
    return rng.choice(
        [
            "RUN cd /app && make",
            "RUN sudo apt-get install -y vim",
            "RUN npm install express",
            "RUN npm install express@4.19.2",
            "RUN gem install rails",
            "RUN go install golang.org/x/tools/cmd/goimports@v0.20.0",
            "RUN go install golang.org/x/tools/cmd/goimports",
            "RUN wget https://example.com/file.tgz && tar xzf file.tgz",
            "RUN curl -fsSL https://example.com/install.sh | sh",
            "RUN useradd -u 123456789 app",
            "RUN chmod 777 /app",
            "RUN ln -sf /bin/bash /bin/sh",
            "RUN apt update && apt install -y curl",
            "RUN echo done",
            "RUN ssh-keygen -A",
            "RUN yarn install",
        ]
    )


def stage_body(rng: random.Random, base: str) -> list[str]:
    lines: list[str] = []
    if rng.random() < 0.5:
        lines.append(rng.choice(["WORKDIR /app", "WORKDIR app", "WORKDIR $HOME/app"]))
    family = (
        "apk"
        if "alpine" in base
        else "yum"
        if "centos" in base
        else "dnf"
        if "fedora" in base
        else "zypper"
        if "suse" in base
        else "apt"
    )
    for _ in range(rng.randint(1, 5)):
        roll = rng.random()
        if roll < 0.35:
            lines.append(
                {"apk": apk_install, "apt": apt_install, "zypper": zypper}.get(
                    family, lambda r: yum_like(r, family)
                )(rng)
            )
        elif roll < 0.55:
            lines.append(pip_install(rng))
        elif roll < 0.65:
            lines.append(heredoc_run(rng))
        else:
            lines.append(misc(rng))
    if rng.random() < 0.6:
        lines.append(
            rng.choice(
                [
                    "COPY . .",
                    "COPY . /app",
                    "COPY src/ /app/src/",
                    "COPY a.txt b.txt /app",
                    "ADD app.py /app/",
                    "COPY requirements.txt .",
                ]
            )
        )
    return lines


def dockerfile(rng: random.Random) -> str:
    lines: list[str] = []
    base = rng.choice(BASES)
    if rng.random() < 0.3:
        lines.append(f"ARG BASE={base}")
        from_ref = "${BASE}"
    else:
        from_ref = base
    if rng.random() < 0.1:
        lines.append("MAINTAINER ops@example.com")
    multi = rng.random() < 0.4
    if multi:
        lines.append(f"FROM {from_ref} AS builder")
        lines.extend(stage_body(rng, base))
        final = rng.choice(["python:3.11-slim", "alpine:3.19", base])
        lines.append(f"FROM {final}")
        lines.append(
            rng.choice(
                [
                    "COPY --from=builder /app /app",
                    "COPY --from=0 /app /app",
                    "COPY --from=build /app /app",
                ]
            )
        )
        base = final
    else:
        lines.append(f"FROM {from_ref}")
    lines.extend(stage_body(rng, base))
    if rng.random() < 0.3:
        lines.append(
            rng.choice(
                [
                    "ENV PASSWORD=pR7vK2qLm9xT",
                    "ARG GITHUB_TOKEN",
                    "ENV API_KEY_FILE=/run/secrets/key",
                    "ENV GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305",
                ]
            )
        )
    if rng.random() < 0.5:
        lines.append(
            rng.choice(
                [
                    'LABEL maintainer="ops@example.com"',
                    "LABEL org.opencontainers.image.source=https://example.com/repo",
                    "LABEL version=1.0",
                ]
            )
        )
    if rng.random() < 0.4:
        lines.append(rng.choice(["USER app", "USER 10001", "USER root"]))
    if rng.random() < 0.3:
        lines.append(rng.choice(["EXPOSE 8000", "EXPOSE 22", "EXPOSE 70000", "EXPOSE 80/tcp 443"]))
    if rng.random() < 0.4:
        lines.append(
            rng.choice(
                [
                    "HEALTHCHECK CMD curl -f http://localhost:8000/ || exit 1",
                    'HEALTHCHECK --interval=30s CMD ["python", "-c", "print(1)"]',
                    "HEALTHCHECK NONE",
                ]
            )
        )
    lines.append(
        rng.choice(
            [
                'CMD ["python", "app.py"]',
                "CMD python app.py",
                'ENTRYPOINT ["gunicorn", "app:app"]',
                "ENTRYPOINT /entrypoint.sh",
                "CMD gunicorn app:app | tee log",
            ]
        )
    )
    return "\n".join(lines) + "\n"


def generate(out: Path, count: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        folder = out / f"df{index:04d}"
        folder.mkdir(exist_ok=True)
        path = folder / "Dockerfile"
        path.write_text(dockerfile(rng), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    paths = generate(args.out, args.count, args.seed)
    print(f"wrote {len(paths)} Dockerfiles under {args.out}")


if __name__ == "__main__":
    main()
