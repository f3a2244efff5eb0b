"""Images that need root, or where the image's USER changes nothing (DW801 asks).

- a host tool: a compose service or Kubernetes container that runs the image with the
  host's PID namespace or network, the Docker socket, `/etc` or `/` of the host, or
  privileged: it audits or manages the host, which needs root;
- a kernel NFS server (nfsd, rpcbind, exportfs): it runs as root by design;
- an edge proxy image (`_EDGE_PROXIES`: Traefik, Caddy, HAProxy, Envoy) that listens on a
  privileged port by default (EXPOSE 80/443): its common setup binds :80 and reads the
  root-owned Docker socket (Traefik's Docker provider), so the official images leave the
  user to the deployer, who runs it with a port mapping and a socket proxy;
- a load generator (`stress`, `stress-ng`) as the command: a throwaway demo with no
  input and no network, where root exposes nothing.

AWS Lambda images (which Lambda runs as its own non-root user) are not a service at all
(`_common.not_a_service`, kind "function").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockwise.project import Project
    from dockwise.sources.dockerfile import Dockerfile

# host paths whose bind mount makes a container a host tool
_HOST_PATHS = ("/var/run/docker.sock", "/run/docker.sock", "/etc", "/proc", "/sys", "/")
_NFS_PACKAGES = frozenset({"nfs-kernel-server", "nfs-ganesha", "nfs-ganesha-vfs"})
_NFS_PROGRAMS = frozenset({"rpc.nfsd", "nfsd", "exportfs", "rpc.mountd", "ganesha.nfsd"})


def root_needed(dockerfile: Dockerfile, project: Project) -> str | None:
    """Why this image needs root (a host tool, a kernel NFS server), or None."""
    return project.memo("root_needed", dockerfile, lambda: _root_needed(dockerfile, project))


def _root_needed(dockerfile: Dockerfile, project: Project) -> str | None:
    nfs = _nfs_server(dockerfile)
    if nfs is not None:
        return nfs
    own = _edge_proxy(dockerfile) or _load_generator(dockerfile) or _self_dropping(dockerfile)
    if own is not None:
        return own
    if not (project.discovery.compose_files or project.discovery.yaml_files):
        return None
    from dockwise.rules._common import service_of

    service = service_of(dockerfile, project)
    if service is None:
        return None
    for part in service.compose:
        raw = part.service.raw
        what = [f"{key}: host" for key in ("pid", "network_mode") if raw.get(key) == "host"]
        if raw.get("privileged") is True:
            what.append("privileged: true")
        for volume in part.service.volumes:
            if volume.type == "bind" and (volume.source or "").rstrip("/") in _HOST_PATHS:
                what.append(f"the host's {volume.source or '/'}")
            elif volume.type == "bind" and volume.source == "/":
                what.append("the host's /")
        if what:
            return (
                f"compose service {part.service.name} runs it with {', '.join(what[:3])}: "
                "a tool for the host, which needs root"
            )
    for container in service.containers:
        if container.container.security.privileged or container.workload.host_access:
            access = ", ".join(container.workload.host_access) or "privileged: true"
            return f"{container.label} runs it with {access}: a tool for the node, which needs root"
    return None


# reverse proxies whose official images run as root by design (the user left to the
# deployer): they bind :80/:443 and, for Traefik, read the root-owned Docker socket
_EDGE_PROXIES = frozenset({"traefik", "caddy", "haproxy", "envoy"})
_LOAD_GENERATORS = frozenset({"stress", "stress-ng"})


def _programs(dockerfile: Dockerfile) -> list[str]:
    from dockwise.rules._commands import process_commands

    return [
        word.rsplit("/", 1)[-1]
        for _, command in process_commands(dockerfile)
        for word in command.argv[:1]
    ]


def _edge_proxy(dockerfile: Dockerfile) -> str | None:
    from dockwise.rules._common import shipped_instructions

    proxy = next((p for p in _programs(dockerfile) if p in _EDGE_PROXIES), None)
    if proxy is None:
        return None
    for instruction in shipped_instructions(dockerfile, "EXPOSE"):
        for word in instruction.value:
            port = word.split("/", 1)[0]
            if port.isdigit() and int(port) < 1024:
                return (
                    f"an edge proxy image ({proxy}, EXPOSE {port}): it binds a privileged "
                    "port by default and its usual setup reads the root-owned Docker socket; "
                    "the user is left to the deployer"
                )
    return None


def _load_generator(dockerfile: Dockerfile) -> str | None:
    found = next((p for p in _programs(dockerfile) if p in _LOAD_GENERATORS), None)
    if found is None:
        return None
    return f"it runs {found}, a load generator: a throwaway demo where root exposes nothing"


def _nfs_server(dockerfile: Dockerfile) -> str | None:
    from dockwise.rules._common import shipped_instructions
    from dockwise.rules._packages import package_command, package_name

    for instruction in shipped_instructions(dockerfile, "EXPOSE"):
        if any(word.split("/", 1)[0] == "2049" for word in instruction.value):
            return "an NFS server (EXPOSE 2049): the kernel NFS server runs as root"
    for stage in reversed(dockerfile.shipped_chain()):
        for run in dockerfile.runs(stage):
            for command in run.commands:
                if command.name in _NFS_PROGRAMS:
                    return f"an NFS server ({command.name}): it runs as root"
                parsed = package_command(command)
                if parsed is None or not parsed.installs:
                    continue
                found = {package_name(word) for word in parsed.operands} & _NFS_PACKAGES
                if found:
                    return f"an NFS server ({min(found)}): it runs as root"
    return None


# database servers that never serve as root: mysqld/mariadbd switch to their `user =` (and
# refuse root without --user=root); postgres refuses to start as root
_SELF_DROPPING = {
    "mysqld": "mysqld switches to its own user (user = mysql) and refuses to run as root",
    "mysqld_safe": "mysqld switches to its own user (user = mysql) and refuses to run as root",
    "mariadbd": "mariadbd switches to its own user (user = mysql) and refuses to run as root",
    "postgres": "postgres refuses to run as root",
}


def _self_dropping(dockerfile: Dockerfile) -> str | None:
    """The image's CMD or ENTRYPOINT starts a database server that drops root itself
    (`ENTRYPOINT ["/entrypoint.sh"]` + `CMD ["mysqld"]`: the script execs its arguments)."""
    from dockwise.rules._common import shipped_instructions

    for kind in ("ENTRYPOINT", "CMD"):
        found = list(shipped_instructions(dockerfile, kind))
        if not found:
            continue
        last = found[-1]
        words = list(last.value) if last.json else last.script.split()
        program = str(words[0]).rsplit("/", 1)[-1] if words else ""
        if program in _SELF_DROPPING:
            return f"it starts {program}: {_SELF_DROPPING[program]}"
    return None
