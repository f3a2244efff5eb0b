"""Security of Kubernetes containers (DW823-DW828): root, privileges, a writable root
filesystem, floating image tags. Pod-level `securityContext` is inherited (runAsNonRoot,
runAsUser); init containers and the containers of Jobs and CronJobs are checked too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from msgspec.structs import replace

from dockwise.findings import Hit, Related, Severity
from dockwise.lazyre import lazy_compile
from dockwise.model.roles import THROWAWAY, TRIAL, container_role, node_agent
from dockwise.rules._examples import deployment, manifest
from dockwise.rules._image_user import ImageUser, image_user
from dockwise.rules._scopes import at_line, container_rule

if TYPE_CHECKING:
    from dockwise.model.service import ContainerPart, Service
    from dockwise.project import Project


_POD_NONROOT = """\
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
"""
_HARDENED = """\
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
"""


# --- what the container is for (dockwise.model.roles) ---------------------------------------


def _milder(hits: Iterator[Hit], part: ContainerPart, project: Project) -> Iterator[Hit]:
    """The hits as advice (info) for a development, test or CI manifest, a bare demo Pod, or
    a container that serves nothing (it sleeps, loops a shell, is the pause image)."""
    reason = container_role(part, project).note(THROWAWAY)
    for hit in hits:
        if reason is None or hit.severity == Severity.INFO:
            yield hit
        else:
            yield replace(hit, message=f"{hit.message} ({reason})", severity=Severity.INFO)


# --- who the container runs as -------------------------------------------------------------


def _run_as(part: ContainerPart) -> tuple[bool | None, int | None, int | None]:
    """(runAsNonRoot, runAsUser, line of the setting that decides) with the container's
    own securityContext over the pod's."""
    own, pod = part.container.security, part.workload.pod_security
    non_root = own.run_as_non_root if own.run_as_non_root is not None else pod.run_as_non_root
    user = own.run_as_user if own.run_as_user is not None else pod.run_as_user
    line = None
    for context in (own, pod):
        for key in ("runAsUser", "runAsNonRoot"):
            line = line or context.line_of(key)
    return non_root, user, line


def _user_related(user: ImageUser) -> tuple[Related, ...]:
    if user.path is None:
        return ()
    what = f"USER {user.user}" if user.user else "the image's user"
    return (Related(user.path, user.line, what),)


_ROOT_FIX = (
    "Set `securityContext: {runAsNonRoot: true, runAsUser: 10001}` on the pod or container, "
    "and give the image that user (`USER 10001`)."
)


@container_rule(
    "DW823",
    lesson="security",
    severity="warning",
    batch=True,
    init=True,
    title="Container may run as root",
    why="""
        Without `runAsNonRoot: true` or a non-zero `runAsUser` (on the container or
        inherited from the pod), the container runs as whatever user its image names, root
        for most images: a bug in the app gives the attacker root in the container and a
        shorter way out through any kernel or runtime flaw. `runAsNonRoot: true` makes the
        kubelet refuse to start a root container, so the guarantee no longer depends on
        each image.

        When the image is built here and its Dockerfile already sets a non-root USER, or
        the public image is known to run as a non-root user or to drop privileges itself,
        the finding is advice (info): the fix is to declare it. `runAsUser: 0` or
        `runAsNonRoot: false` is reported whatever the image.
    """,
    fix=_ROOT_FIX,
    bad=deployment(),
    good=deployment(pod=_POD_NONROOT),
    also=[
        "kube-score:container-security-context-user-group-id",
        "polaris:runAsRootAllowed",
        "kube-linter:run-as-non-root",
        "checkov:CKV_K8S_23",
    ],
)
def may_run_as_root(part: ContainerPart, service: Service, project: Project) -> Iterator[Hit]:
    yield from _milder(_may_run_as_root(part, service, project), part, project)


def _may_run_as_root(part: ContainerPart, service: Service, project: Project) -> Iterator[Hit]:
    non_root, uid, line = _run_as(part)
    container = part.container
    name = f"container {container.name} of {part.workload.label}"
    if uid == 0:
        hit = at_line(part.path, line, f"{name} sets runAsUser: 0: it runs as root", fix=_ROOT_FIX)
        task = _root_task(part)
        if task is not None:
            hit = replace(hit, message=f"{hit.message} ({task})", severity=Severity.INFO)
        yield hit
        return
    if non_root is True or (uid is not None and uid > 0):
        return
    if part.workload.patch:
        return  # a Kustomize patch: the base it patches may set it
    if non_root is False:
        yield at_line(
            part.path, line, f"{name} sets runAsNonRoot: false and no runAsUser", fix=_ROOT_FIX
        )
        return
    user = image_user(service, container.image, project)
    hit = at_line(
        part.path,
        container.line,
        f"{name} sets neither runAsNonRoot nor runAsUser",
        fix=_ROOT_FIX,
        related=_user_related(user),
    )
    needs_root = _root_task(part)
    if needs_root is not None:
        yield replace(hit, message=f"{hit.message} ({needs_root})", severity=Severity.INFO)
    elif user.kind == "nonroot":
        if user.uid is not None:
            fix = f"Declare it: `securityContext: {{runAsNonRoot: true, runAsUser: {user.uid}}}`."
            said = f"its image runs as USER {user.user}"
        elif user.user:
            fix = (
                f"Declare the UID of user {user.user}: `runAsUser: <uid>` with "
                "`runAsNonRoot: true` (runAsNonRoot alone cannot verify a user name), or make "
                "the Dockerfile's USER numeric."
            )
            said = f"its image runs as USER {user.user}"
        else:
            fix = "Declare it: `securityContext: {runAsNonRoot: true, runAsUser: <uid>}`."
            said = user.why or "its image runs as a non-root user"
        yield replace(
            hit,
            message=f"{hit.message}; {said}, but nothing guarantees it",
            fix=fix,
            severity=Severity.INFO,
        )
    elif user.kind in ("drops", "workers"):
        said = user.why or "the image starts as root and drops privileges"
        yield replace(hit, message=f"{hit.message}; {said}", severity=Severity.INFO)
    elif user.kind == "root" and user.built_here:
        yield replace(hit, message=f"{hit.message}; its image runs as root ({user.why})")
    else:
        yield hit


_ROOT_TASKS = ("chown", "chmod", "sysctl", "/proc/sys", "mount ", "iptables", "modprobe")


def _root_task(part: ContainerPart) -> str | None:
    """Why the container plausibly needs root: an init container fixing ownership or tuning
    the node, a node agent with host access."""
    container, workload = part.container, part.workload
    argv = " ".join((*(container.command or ()), *(container.args or ())))
    if container.init and any(task in argv for task in _ROOT_TASKS):
        return "an init container doing root's work (chown, sysctl): pod fsGroup covers ownership"
    if workload.kind == "DaemonSet" and workload.host_access:
        return f"a node agent with {', '.join(workload.host_access)}: it may need root"
    return None


@container_rule(
    "DW824",
    lesson="security",
    severity="error",
    batch=True,
    init=True,
    title="runAsNonRoot contradicts the image's user",
    why="""
        With `runAsNonRoot: true` and no `runAsUser`, the kubelet checks the image's USER
        before starting the container: an image that runs as root, or whose USER is a name
        rather than a UID (the kubelet cannot tell a name is not root), is refused with
        `CreateContainerConfigError` and the pod never starts. Checked only against a
        Dockerfile this project builds, whose USER dockwise can read.
    """,
    fix="""
        Make the Dockerfile's USER numeric and non-root (`USER 10001`), or add
        `runAsUser: 10001` next to `runAsNonRoot: true`.
    """,
    bad={
        "Dockerfile": """\
FROM python:3.11-slim
RUN useradd --uid 10001 app
USER app
CMD ["python", "-m", "http.server"]
""",
        "deploy/web.yaml": manifest(
            pod="      securityContext:\n        runAsNonRoot: true\n", image="web:1.0"
        ),
        "Makefile": "image:\n\tdocker build -t web:1.0 .\n",
    },
    good={
        "Dockerfile": """\
FROM python:3.11-slim
RUN useradd --uid 10001 app
USER 10001
CMD ["python", "-m", "http.server"]
""",
        "deploy/web.yaml": manifest(
            pod="      securityContext:\n        runAsNonRoot: true\n", image="web:1.0"
        ),
        "Makefile": "image:\n\tdocker build -t web:1.0 .\n",
    },
)
def non_root_contradiction(
    part: ContainerPart, service: Service, project: Project
) -> Iterator[Hit]:
    non_root, uid, line = _run_as(part)
    if non_root is not True or uid is not None or service.dockerfile is None:
        return
    user = image_user(service, part.container.image, project)
    if not user.built_here:
        return
    name = f"container {part.container.name} of {part.workload.label}"
    if user.kind == "root":
        problem = f"its image runs as root ({user.why})"
    elif user.kind == "nonroot" and user.user and user.uid is None:
        problem = f"its image's USER {user.user} is a name, which the kubelet cannot verify"
    else:
        return
    yield at_line(
        part.path,
        line,
        f"{name} sets runAsNonRoot: true without runAsUser, but {problem}: the kubelet "
        "refuses to start it (CreateContainerConfigError)",
        related=(
            Related(user.path or "", user.line, f"USER {user.user}" if user.user else "no USER"),
        ),
    )


# --- privileges ----------------------------------------------------------------------------

_CAPABILITY_WARNED = frozenset({"SYS_ADMIN", "CAP_SYS_ADMIN", "ALL"})
# images of services the kernel provides: an in-kernel NFS server needs privileged
_KERNEL_SERVICE_IMAGE = lazy_compile(r"(?i)(?:^|/)(?:volume-nfs|nfs-server|nfsd|iscsi-target)\b")
# manifests of a policy demo (PodSecurityPolicy, admission control) hold the privileged pod
# the policy exists to reject
_POLICY_DEMO = lazy_compile(
    r"(?i)(?:^|[/_-])(?:podsecuritypolicy|pod-?security|psp|admission|gatekeeper|kyverno|opa)"
    r"(?:$|[/_.-])"
)
# sysctls the kernel keeps per network/IPC namespace (settable as pod securityContext.sysctls)
_NAMESPACED_SYSCTL = lazy_compile(r"^(?:net\.|kernel\.(?:shm|msg|sem)|fs\.mqueue\.)")
_SYSCTL_KEY = lazy_compile(r"\b((?:vm|kernel|fs|net)\.[A-Za-z0-9_.-]+)|/proc/sys/([a-z]+/[\w/.-]+)")
_INSTALLER = lazy_compile(r"chroot\s+/host|nsenter\b|/host/|modprobe|insmod|apt-get|install")


@container_rule(
    "DW825",
    lesson="security",
    severity="error",
    batch=True,
    init=True,
    title="Privileged container",
    why="""
        `privileged: true` gives the container every capability and every device of the
        node and switches off seccomp and AppArmor: root in it is root on the node. An
        application never needs it: an error. Where the privilege is the job and no
        narrower form exists, it is advice (info): node agents, drivers and installers
        (DaemonSets or pods with host access named so, `chroot /host` installers), and
        containers that tune the node (a sysctl the kernel does not namespace, such as
        `vm.max_map_count`, or any sysctl with `hostNetwork`); also the privileged example of
        a PodSecurityPolicy or admission demo and test manifests. A sysctl the kernel keeps
        per pod (`net.core.somaxconn`) belongs in pod `securityContext.sysctls` instead: a
        warning. Services the kernel provides (an NFS server image) and bare demo Pods are
        warnings. Adding `SYS_ADMIN` or `ALL` capabilities is nearly the same and reported
        alike.
    """,
    fix="""
        Remove `privileged: true`; add only the capabilities the process needs
        (`capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}`), or use pod
        `securityContext.sysctls` for namespaced sysctls.
    """,
    bad=deployment(
        container="          securityContext:\n            privileged: true\n", pod=_POD_NONROOT
    ),
    good=deployment(container=_HARDENED, pod=_POD_NONROOT),
    also=[
        "kube-score:container-security-context-privileged",
        "polaris:runAsPrivileged",
        "kube-linter:privileged-container",
        "checkov:CKV_K8S_16",
        "checkov:CKV_K8S_39",
    ],
)
def privileged_container(part: ContainerPart, service: Service, project: Project) -> Iterator[Hit]:
    security = part.container.security
    name = f"container {part.container.name} of {part.workload.label}"
    if security.privileged is True:
        line = security.line_of("privileged") or security.line
        hit = at_line(part.path, line, f"{name} is privileged: root in it is root on the node")
    else:
        added = [c for c in security.capabilities_add if c.upper() in _CAPABILITY_WARNED]
        if not added:
            return
        line = security.line_of("capabilities") or security.line
        hit = at_line(
            part.path,
            line,
            f"{name} adds capability {added[0]}: nearly as powerful as privileged",
        )
    severity, reason = _privilege_needed(part, project)
    if reason is not None:
        yield replace(hit, message=f"{hit.message} ({reason})", severity=severity)
    else:
        yield hit


def _privilege_needed(part: ContainerPart, project: Project) -> tuple[Severity, str | None]:
    """How much the privilege is worth reporting, and why: info where it is the job (node
    agents, installers, node tuning, test manifests, a policy demo's negative example),
    warning where a narrower form may exist or the kernel provides the service."""
    role = container_role(part, project)
    trial = role.note(TRIAL)
    if trial is not None:
        return Severity.INFO, trial
    if _POLICY_DEMO.search(part.path):
        return Severity.INFO, "the privileged example of a policy demo, there to be rejected"
    container, workload = part.container, part.workload
    argv = " ".join((*(container.command or ()), *(container.args or ())))
    tuning = _node_tuning(argv, "hostNetwork" in workload.host_access)
    if tuning is not None:
        return tuning
    if container.init and "ulimit" in argv:
        return Severity.INFO, "it raises the node's limits (ulimit): privileged is its job"
    agent = node_agent(part)
    if agent is not None:
        installer = _INSTALLER.search(argv)
        what = "an installer on the node" if installer else agent
        return Severity.INFO, f"{what}: privileged is its job"
    if container.image and _KERNEL_SERVICE_IMAGE.search(container.image):
        return Severity.WARNING, "a kernel service (NFS server): it needs privileged"
    demo = role.note(THROWAWAY)
    if demo is not None:
        return Severity.WARNING, demo
    return Severity.ERROR, None


def _node_tuning(argv: str, host_network: bool) -> tuple[Severity, str] | None:
    """A container that sets sysctls: info when only privileged can (a sysctl the kernel
    does not namespace, or the node's own network with hostNetwork), a warning with the
    narrower form when pod securityContext.sysctls can set them; None when it sets none."""
    if "sysctl" not in argv and "/proc/sys" not in argv:
        return None
    keys = [m.group(1) or m.group(2).replace("/", ".") for m in _SYSCTL_KEY.finditer(argv)]
    node_level = [k for k in keys if not _NAMESPACED_SYSCTL.search(k)]
    if node_level:
        return Severity.INFO, (
            f"it tunes the node ({node_level[0]} is not namespaced): privileged is its job"
        )
    if keys and host_network:
        return Severity.INFO, (
            f"it tunes the node's network ({keys[0]} with hostNetwork): privileged is its job"
        )
    return Severity.WARNING, (
        "it tunes sysctls: pod securityContext.sysctls sets namespaced ones without privileges"
    )


@container_rule(
    "DW826",
    lesson="security",
    severity="warning",
    batch=True,
    init=True,
    title="Privilege escalation not switched off",
    why="""
        Unless `allowPrivilegeEscalation: false`, a process in the container can gain more
        privileges than its parent through setuid binaries (sudo, su, ping on some images)
        or file capabilities: a non-root container is one exploit away from root. Setting
        it sets `no_new_privs`, which costs nothing for a web service. When the container
        may run as root anyway, fixing that comes first and this is advice (info);
        privileged containers are reported by DW825 only.
    """,
    fix="Set `securityContext: {allowPrivilegeEscalation: false}` on the container.",
    bad=deployment(pod=_POD_NONROOT),
    good=deployment(container=_HARDENED, pod=_POD_NONROOT),
    also=[
        "polaris:privilegeEscalationAllowed",
        "kube-linter:privilege-escalation-container",
        "checkov:CKV_K8S_20",
    ],
)
def privilege_escalation(part: ContainerPart, service: Service, project: Project) -> Iterator[Hit]:
    yield from _milder(_privilege_escalation(part), part, project)


def _privilege_escalation(part: ContainerPart) -> Iterator[Hit]:
    security = part.container.security
    if security.allow_privilege_escalation is False or security.privileged is True:
        return
    if part.workload.patch:
        return  # a Kustomize patch: the base it patches may set it
    name = f"container {part.container.name} of {part.workload.label}"
    line = security.line_of("allowPrivilegeEscalation") or part.container.line
    hit = at_line(part.path, line, f"{name} does not set allowPrivilegeEscalation: false")
    non_root, uid, _ = _run_as(part)
    if non_root is True or (uid is not None and uid > 0):
        yield hit
    else:
        yield replace(
            hit, message=f"{hit.message} (it may run as root: see DW823)", severity=Severity.INFO
        )


@container_rule(
    "DW827",
    lesson="security",
    severity="info",
    batch=True,
    init=True,
    title="Root filesystem is writable",
    why="""
        With a writable root filesystem an attacker who gets code execution can replace the
        app's files, drop tools and persist until the pod restarts. `readOnlyRootFilesystem:
        true` stops that, with `emptyDir` volumes for the folders the app writes (`/tmp`,
        caches). Advice (info), not a warning: a writable filesystem is no hole by itself,
        and dockwise cannot see every path the app writes, so the change needs a test run.
    """,
    fix="""
        Set `readOnlyRootFilesystem: true` and mount an `emptyDir` where the app writes
        (`/tmp`, cache folders).
    """,
    bad=deployment(pod=_POD_NONROOT),
    good=deployment(container=_HARDENED, pod=_POD_NONROOT),
    also=[
        "kube-score:container-security-context-readonlyrootfilesystem",
        "polaris:notReadOnlyRootFilesystem",
        "kube-linter:no-read-only-root-fs",
        "checkov:CKV_K8S_22",
    ],
)
def writable_root_filesystem(
    part: ContainerPart, service: Service, project: Project
) -> Iterator[Hit]:
    security = part.container.security
    if security.read_only_root_filesystem is True or part.workload.patch:
        return
    line = security.line_of("readOnlyRootFilesystem") or part.container.line
    yield at_line(
        part.path,
        line,
        f"container {part.container.name} of {part.workload.label} has a writable root "
        "filesystem (readOnlyRootFilesystem is not true)",
    )


# --- image tags ----------------------------------------------------------------------------

# a reference someone fills in before applying: ${TAG}, $(VERSION), <tag>, __TAG__, PROJECT_ID
_PLACEHOLDER = lazy_compile(
    r"\$|\{\{|<[^>]*>|__[A-Z0-9_]+__|(?:^|[/:._-])[A-Z][A-Z0-9]*_[A-Z0-9_]+(?:$|[/:._-])"
    r"|(?:^|/)[A-Z][A-Z0-9_]{3,}(?:$|/)"
)


@container_rule(
    "DW828",
    lesson="security",
    severity="warning",
    batch=True,
    init=True,
    title="Image without a tag or with :latest",
    why="""
        An untagged image is `:latest`, and `:latest` names whatever was pushed last: two
        nodes can run different code under one Deployment, a rollback redeploys the same
        moving tag, and nobody can tell from the manifest what runs. kubelet also pulls
        `:latest` on every start. A digest (`@sha256:...`) pins the image and passes.
        References with placeholders (`${TAG}`, `<tag>`, `PROJECT_ID`) are filled in
        before use and pass; an image this project builds itself, referenced untagged or
        `:latest` (a local kind/minikube loop), is advice (info).
    """,
    fix="Name a version (`ghcr.io/acme/web:1.4.2`) or pin a digest (`@sha256:...`).",
    bad=deployment(image="nginx", pod=_POD_NONROOT, container=_HARDENED),
    good=deployment(image="nginx:1.27-alpine", pod=_POD_NONROOT, container=_HARDENED),
    also=[
        "kube-score:container-image-tag",
        "polaris:tagNotSpecified",
        "kube-linter:latest-tag",
        "checkov:CKV_K8S_14",
    ],
)
def floating_image_tag(part: ContainerPart, service: Service, project: Project) -> Iterator[Hit]:
    yield from _milder(_floating_image_tag(part, service, project), part, project)


def _floating_image_tag(part: ContainerPart, service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.sources.imageref import parse_image_ref

    image = part.container.image
    if not image or "@" in image or _PLACEHOLDER.search(image):
        return
    ref = parse_image_ref(image)
    if ref.tag is not None and ref.tag != "latest":
        return
    said = "has no tag (:latest)" if ref.tag is None else "uses :latest"
    hit = at_line(
        part.path,
        part.container.image_line,
        f"image {image} of container {part.container.name} {said}",
    )
    if service.dockerfile is not None:
        yield replace(
            hit,
            message=f"{hit.message}; {service.dockerfile.relpath} builds it here",
            fix="Tag each build (the commit or a version) and let the deploy set it "
            "(`kustomize edit set image`, skaffold, `helm --set image.tag`).",
            related=(Related(service.dockerfile.relpath, None, "builds this image"),),
            severity=Severity.INFO,
        )
    else:
        yield hit
