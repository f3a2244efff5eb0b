"""The report of examples/naive, made by the real pipeline (project loader, every rule), with
the sample image and usage objects of tests/report/fixtures when asked for. Also a command:
`python tests/report/naive_report.py docs/report-naive.png` renders the HTML report in
headless Chromium and saves the screenshot the README shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from msgspec.structs import replace

from dockwise.config import find_config, load_config
from dockwise.engine import check_project
from dockwise.project import load_project
from dockwise.report import Report
from dockwise.rules import all_rules

ROOT = Path(__file__).resolve().parents[2]
NAIVE = ROOT / "examples" / "naive"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# secret values planted in the naive example and in the sample image's history
PLANTED_SECRETS = [
    "Xk9fQ2mLw7Rt",
    "Zr8vTq3nPw5Ld",
    "9Tq2xLr7Vb0Wm4Yc8Pz1Ks6Ja3Hd5Fg2Nu0Ee7Ri",
    "sk_live_51HqLyjWDarjtT1zdp7dcXnjK0p3xYh6rQ2vB8mN4sT7uZ9wE",
    "AAAEDq8yUJKX2Zb1rZpL0QhZ8m4f3r6yW9tG2kDvN1cXsA7",
]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--hide-scrollbars",
]


def ci_prefix(folder: Path) -> str:
    """How the CI formats prefix paths found under `folder`: its path from the working
    directory ("" when it is the working directory or outside it)."""
    relative = os.path.relpath(folder, Path.cwd()).replace(os.sep, "/")
    return "" if relative == "." or relative.startswith("..") else relative + "/"


def sample(name: str) -> dict[str, object]:
    """An `image` or `usage` object shaped as issues 7 and 10 define them (sample-image.json
    has a build arg holding a credential in a layer's history, as real images do)."""
    return json.loads((FIXTURES / f"sample-{name}.json").read_text(encoding="utf-8"))


def naive_report(*, image: bool = False, usage: bool = False) -> Report:
    rules = all_rules()
    project = load_project(NAIVE, load_config(find_config(NAIVE)))
    outcome = check_project(project, rules)

    def source_lines(path: str) -> list[str] | None:
        file = NAIVE / path
        return file.read_text(encoding="utf-8").splitlines() if file.is_file() else None

    return Report(
        findings=outcome.findings,
        rules={r.id: r.meta for r in rules},
        problems=outcome.problems,
        source_lines=source_lines,
        files_checked=len(project.dockerfiles) + len(project.discovery.compose_files),
        inputs=["examples/naive"],
        image=sample("image") if image else None,
        usage=sample("usage") if usage else None,
    )


def chromium(binary: str, url: str, *args: str) -> str:
    result = subprocess.run(
        [binary, *CHROMIUM_FLAGS, *args, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def screenshot(binary: str, html: Path, png: Path, size: str = "1280,2000") -> None:
    chromium(binary, html.as_uri(), f"--screenshot={png}", f"--window-size={size}")


def main(argv: list[str]) -> None:
    """`naive_report.py OUT.png [IMAGE.json]`: IMAGE.json is `dockwise image --format json` of
    the naive example's image (scripts/build-examples exports it); without it the sample."""
    import shutil
    import tempfile

    from dockwise.report import render

    out = Path(argv[0] if argv else "docs/report-naive.png").resolve()
    report = naive_report(image=len(argv) < 2)
    if len(argv) > 1:
        image = json.loads(Path(argv[1]).read_text(encoding="utf-8"))["image"]
        report = replace(report, image=image)
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "report.html"
        page.write_text(render(report, "html"), encoding="utf-8")
        screenshot(shutil.which("chromium") or "chromium", page, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
