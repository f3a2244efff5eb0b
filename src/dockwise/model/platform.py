"""Where an image is deployed, when the project says so: the platforms that run a container
without Docker's HEALTHCHECK (they ignore it and probe the service themselves).

Read once per Dockerfile (`Project.memo`), from what is beside it:
- the Dockerfile itself: SageMaker's labels or inference toolkit (SageMaker probes `/ping`);
- deployment files in its folder and the folders above it, up to the repository root (or
  three levels without one): an AWS CDK app (`cdk.json`: ECS, Fargate, Lambda, Batch and
  App Runner take health checks from the task definition or the service), ECS task
  definitions and Copilot manifests, AWS SAM and Serverless Framework files (Lambda),
  App Runner's `apprunner.yaml`, Fly.io's `fly.toml`, a Cloud Run service (`service.yaml`
  of kind `serving.knative.dev` Service), a script or task file that runs
  `gcloud run deploy` (tasks.py, noxfile.py, a Makefile, cloudbuild.yaml, *.sh);
- the names of those folders: a folder named for its platform (`cdkpipeline-ecs/`,
  `aws-cdk-examples/`, `fargate-service/`, `cloud-run-template/`) says where what is
  below it is deployed, when the deployment files themselves are elsewhere.

Kubernetes (which also ignores HEALTHCHECK) is judged by the health rules from the
manifests themselves.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct

from dockwise.lazyre import lazy_compile
from dockwise.model.link import MAX_PARENT_LEVELS, repository_root

if TYPE_CHECKING:
    from dockwise.project import Project
    from dockwise.sources.dockerfile import Dockerfile

_SAGEMAKER = lazy_compile(r"com\.amazonaws\.sagemaker|sagemaker[-_](?:inference|training)")
# file names that say on their own which platform deploys what is beside them
_NAMED = {
    "cdk.json": "an AWS CDK app (ECS, Lambda and Batch take health checks from the task "
    "definition or service, not from the image)",
    "apprunner.yaml": "AWS App Runner (it runs its own health check)",
    "copilot": "AWS Copilot on ECS (health checks come from the service manifest)",
    "serverless.yml": "the Serverless Framework on AWS Lambda",
    "serverless.yaml": "the Serverless Framework on AWS Lambda",
    "samconfig.toml": "AWS SAM on Lambda",
    "fly.toml": "Fly.io (health checks come from fly.toml)",
}
_TASK_DEFINITION = lazy_compile(r"(?i)^(?:.*[-_.])?task[-_]?def(?:inition)?s?(?:[-_.].*)?\.json$")
# small files whose content says it: a SAM template, a Cloud Run service
_CONTENT = {
    "template.yaml": ("AWS::Serverless", "AWS SAM on Lambda"),
    "template.yml": ("AWS::Serverless", "AWS SAM on Lambda"),
    "service.yaml": ("serving.knative.dev", "Cloud Run (it probes the container itself)"),
    "service.yml": ("serving.knative.dev", "Cloud Run (it probes the container itself)"),
}
_MAX_READ = 64 * 1024
# scripts that deploy what is beside them: `gcloud run deploy` in a task file or Makefile
_DEPLOY_SCRIPTS = frozenset(
    {"tasks.py", "noxfile.py", "makefile", "cloudbuild.yaml", "cloudbuild.yml"}
)
_DEPLOY_COMMANDS = (
    (
        re.compile(r"gcloud\s+(?:beta\s+)?run\s+deploy\b"),
        "Cloud Run (it probes the container itself)",
    ),
)
# a folder named for the platform it deploys to (`cdkpipeline-ecs/`, `aws-cdk-examples/`,
# `cloud-run-template/`): the words of its name, read like a deployment file
_FOLDER_WORDS = (
    (("ecs",), "Amazon ECS (health checks come from the task definition; folder {name}/)"),
    (("fargate",), "AWS Fargate (health checks come from the task definition; folder {name}/)"),
    (("cdk",), "an AWS CDK app (health checks come from the task definition or service; "
     "folder {name}/)"),
    (("cloud", "run"), "Cloud Run (it probes the container itself; folder {name}/)"),
    (("cloudrun",), "Cloud Run (it probes the container itself; folder {name}/)"),
    (("apprunner",), "AWS App Runner (it runs its own health check; folder {name}/)"),
)  # fmt: skip
_WORDS = lazy_compile(r"[-_.]+")


class Platform(Struct, frozen=True):
    what: str  # "Amazon SageMaker (it probes /ping)"
    where: str  # the file that says so


def deployment_platform(dockerfile: Dockerfile, project: Project) -> Platform | None:
    """A platform that deploys this image and ignores its HEALTHCHECK, or None."""
    return project.memo("platform", dockerfile, lambda: _platform(dockerfile, project))


def _platform(dockerfile: Dockerfile, project: Project) -> Platform | None:
    if _SAGEMAKER.search(dockerfile.text):
        return Platform("Amazon SageMaker (it probes /ping itself)", dockerfile.relpath)
    if not dockerfile.path.is_absolute() or not dockerfile.path.is_file():
        return None  # read from stdin: nothing beside it to read
    folder = dockerfile.path.resolve().parent
    # a folder checked as a whole is the project; one file checked alone has its
    # repository (or a few folders) around it
    top: Path | None = project.root.resolve()
    if project.single_file or top is None or (folder != top and top not in folder.parents):
        top = repository_root(folder)
    # what each folder says, shared by the Dockerfiles below it (a folder is listed once)
    listed: dict[Path, tuple[str, Path] | None] = project.memo("platform_folders", project, dict)
    levels = 0
    while True:
        if folder not in listed:
            listed[folder] = _in_folder(folder)
        found = listed[folder]
        if found is not None:
            what, path = found
            return Platform(what, project.relpath(path))
        levels += 1
        if folder == top or folder.parent == folder:
            return None
        if top is None and levels > MAX_PARENT_LEVELS:
            return None
        folder = folder.parent


def _folder_name(folder: Path) -> str | None:
    """The platform a folder's name says (`evidently-ecs`, `cloud-run-template`), or None."""
    words = [w for w in _WORDS.split(folder.name.lower()) if w]
    for wanted, what in _FOLDER_WORDS:
        for index in range(len(words) - len(wanted) + 1):
            if tuple(words[index : index + len(wanted)]) == wanted:
                return what.format(name=folder.name)
    return None


def _in_folder(folder: Path) -> tuple[str, Path] | None:
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return None
    found = _in_files(folder, names)
    if found is not None:
        return found
    named = _folder_name(folder)
    return (named, folder) if named is not None else None


def _deploy_script(name: str) -> bool:
    lowered = name.lower()
    return lowered in _DEPLOY_SCRIPTS or lowered.endswith(".sh")


def _in_files(folder: Path, names: list[str]) -> tuple[str, Path] | None:
    for name in names:
        if _deploy_script(name):
            text = _read(folder / name)
            for pattern, what in _DEPLOY_COMMANDS:
                if text is not None and pattern.search(text):
                    return what, folder / name
            continue
        if name in _NAMED:
            return _NAMED[name], folder / name
        if _TASK_DEFINITION.match(name):
            return "Amazon ECS (health checks come from the task definition)", folder / name
        if name in _CONTENT:
            marker, what = _CONTENT[name]
            text = _read(folder / name)
            if text is not None and marker in text:
                return what, folder / name
    return None


def _read(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            return handle.read(_MAX_READ).decode("utf-8", "replace")
    except OSError:
        return None
