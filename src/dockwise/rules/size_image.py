"""Size rules on a built image (DW130-DW138): what the layers store that the final filesystem
does not show, caches and build tools that ship, and the size gates a team sets.

Every rule reads ImageFacts (imagescan/facts.py), made by one pass over the layers; the
Dockerfile line behind a layer is named when the image is checked with its project."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from dockwise.findings import Hit, Related
from dockwise.rules._image_examples import SLIM_FILES, image_example, layer, slim_app_image
from dockwise.rules._scopes import at_image, image_rule

if TYPE_CHECKING:
    from dockwise.imagescan.facts import HiddenFile, ImageFacts, LayerFacts, WasteItem
    from dockwise.model.service import Service
    from dockwise.project import Project

MIB = 1024 * 1024
# hidden bytes worth a finding: one stored-in/hidden-by pair of layers
MIN_HIDDEN_BYTES = MIB
MIN_CACHE_BYTES = 64 * 1024
MIN_APT_BYTES = 1 * MIB
MIN_TOOLCHAIN_BYTES = 10 * MIB
MIN_PACKAGE_EXTRAS_BYTES = 5 * MIB


def _layer_label(facts: ImageFacts, index: int) -> str:
    layer = _layer(facts, index)
    if layer is None:
        return f"layer {index}"
    command = " ".join(layer.created_by.split())
    for prefix in ("/bin/sh -c #(nop) ", "/bin/sh -c "):
        if command.startswith(prefix):
            command = command[len(prefix) :]
    if command.endswith("# buildkit"):
        command = command[: -len("# buildkit")].rstrip()
    if len(command) > 60:
        command = command[:57] + "..."
    return f"layer {index} (`{command}`)" if command else f"layer {index}"


def _layer(facts: ImageFacts, index: int) -> LayerFacts | None:
    for found in facts.layers:
        if found.index == index:
            return found
    return None


def _origin(
    project: Project, service: Service, facts: ImageFacts, index: int, what: str
) -> tuple[Related, ...]:
    """The Dockerfile line that made a layer, when the image was read with its project."""
    from dockwise.imagescan.join import related_line

    layer = _layer(facts, index)
    if layer is None:
        return ()
    return related_line(project, service, layer.history_index, what)


def _files(hidden: list[HiddenFile], count: int = 3) -> str:
    top = sorted(hidden, key=lambda h: (-h.size, h.path))[:count]
    shown = ", ".join(f"/{h.path} ({_size(h.size)})" for h in top)
    more = len(hidden) - len(top)
    return shown + (f" and {more} more" if more > 0 else "")


# databases every package install rewrites whole (dpkg's status, debconf's templates, the
# linker cache, logs): storing them again is the price of a second install, not a mistake
_BOOKKEEPING = (
    "var/lib/dpkg/",
    "var/cache/debconf/",
    "var/log/",
    "var/cache/ldconfig/",
    "etc/ld.so.cache",
    "var/lib/apt/extended_states",
    "var/lib/rpm/",
    "var/lib/dnf/",
    "lib/apk/db/",
    "etc/apk/",
)


def _hidden_groups(
    facts: ImageFacts, hows: tuple[str, ...], skip: tuple[str, ...] = ()
) -> Iterator[tuple[int, int, list[HiddenFile], int]]:
    """(stored in, hidden by, files, bytes) for each pair of layers worth a finding."""
    groups: dict[tuple[int, int], list[HiddenFile]] = {}
    for hidden in facts.hidden:
        if hidden.how in hows and not hidden.path.startswith(skip):
            groups.setdefault((hidden.stored_in, hidden.hidden_by), []).append(hidden)
    for (stored, hider), files in sorted(groups.items()):
        total = sum(h.size for h in files)
        if total >= MIN_HIDDEN_BYTES:
            yield stored, hider, files, total


_DELETED_BAD = image_example(
    config={"User": "app", "Cmd": ["python", "-m", "app"]},
    layers=[
        layer("COPY rootfs / # buildkit", files=SLIM_FILES),
        layer(
            "RUN /bin/sh -c curl -o /tmp/model.tgz https://example.com/model.tgz # buildkit",
            files={"/tmp/model.tgz": {"size": 3 * MIB}},
        ),
        layer(
            "RUN /bin/sh -c tar -xzf /tmp/model.tgz -C /app && rm /tmp/model.tgz # buildkit",
            files={"/app/model.bin": {"size": 200_000}},
            delete=["/tmp/model.tgz"],
        ),
    ],
)
_DELETED_GOOD = image_example(
    config={"User": "app", "Cmd": ["python", "-m", "app"]},
    layers=[
        layer("COPY rootfs / # buildkit", files=SLIM_FILES),
        layer(
            "RUN /bin/sh -c curl -o /tmp/model.tgz https://example.com/model.tgz "
            "&& tar -xzf /tmp/model.tgz -C /app && rm /tmp/model.tgz # buildkit",
            files={"/app/model.bin": {"size": 200_000}},
        ),
    ],
)


@image_rule(
    "DW130",
    lesson="size",
    severity="warning",
    title="Files a later layer deletes still ship in the image",
    why="""
    Each layer is a tar archive the image keeps forever. `RUN rm` in a later layer only adds
    a whiteout that hides the file: its bytes are still downloaded with the image and still
    extractable with `docker save`. Downloading a 3 MB archive in one RUN and deleting it in
    the next costs the image those 3 MB.
    """,
    fix="""
    Delete the file in the same RUN that creates it (or use a cache or tmpfs mount, or a build
    stage whose files do not ship).
    """,
    bad=_DELETED_BAD,
    good=_DELETED_GOOD,
    also=("dive:wasted",),
)
def deleted_files_still_ship(
    facts: ImageFacts, service: Service, project: Project
) -> Iterator[Hit]:
    from dockwise.imagescan.facts import DELETED, DIR_DELETED, OPAQUE

    for stored, hider, files, total in _hidden_groups(facts, (DELETED, DIR_DELETED, OPAQUE)):
        related = _origin(project, service, facts, stored, "the layer that stores the files")
        related += _origin(project, service, facts, hider, "the layer that deletes them")
        yield at_image(
            service,
            f"{_size(total)} stored by {_layer_label(facts, stored)} and deleted by "
            f"{_layer_label(facts, hider)} still ship: {_files(files)}",
            fix="delete the files in the RUN that creates them, or build them in a stage "
            "that does not ship",
            related=related,
        )


@image_rule(
    "DW131",
    lesson="size",
    severity="warning",
    title="A later layer stores the same files again",
    why="""
    A layer that changes a file an earlier layer stored (`chmod -R`, `chown -R`, a second
    `pip install` of the same packages, a COPY over files already copied) stores the whole
    file again; the earlier copy stays in its layer, hidden but still downloaded.
    """,
    fix="""
    Set modes and owners where the files are made (`COPY --chown=app --chmod=755`), and
    install or write each file once.
    """,
    bad=slim_app_image(
        layer("COPY app /app # buildkit", files={"/app/data.bin": {"size": 2 * MIB}}),
        layer(
            "RUN /bin/sh -c chown -R app /app # buildkit",
            files={"/app/data.bin": {"size": 2 * MIB}},
        ),
    ),
    good=slim_app_image(
        layer(
            "COPY --chown=app app /app # buildkit",
            files={"/app/data.bin": {"size": 2 * MIB}},
        ),
    ),
)
def files_stored_again(facts: ImageFacts, service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.imagescan.facts import OVERWRITTEN

    for stored, hider, files, total in _hidden_groups(facts, (OVERWRITTEN,), _BOOKKEEPING):
        related = _origin(project, service, facts, stored, "the layer that stores the files")
        related += _origin(project, service, facts, hider, "the layer that stores them again")
        where = (
            "by a later entry of the same layer"
            if stored == hider
            else f"again by {_layer_label(facts, hider)}"
        )
        yield at_image(
            service,
            f"{_size(total)} stored by {_layer_label(facts, stored)} are stored {where}: "
            f"{_files(files)}",
            related=related,
        )


def _items(facts: ImageFacts, *kinds: str) -> list[WasteItem]:
    return [item for item in facts.waste if item.kind in kinds]


def _item_hit(
    facts: ImageFacts,
    service: Service,
    project: Project,
    items: list[WasteItem],
    what: str,
    fix: str | None = None,
) -> Hit:
    total = sum(item.size for item in items)
    files = sum(item.files for item in items)
    main = max(items, key=lambda item: item.size)
    folders = ", ".join(f"/{item.path}" for item in items[:3])
    if len(items) > 3:
        folders += f" and {len(items) - 3} more"
    return at_image(
        service,
        f"{what}: {_size(total)} in {files} files ({folders}), "
        f"mostly from {_layer_label(facts, main.layer)}",
        fix=fix,
        related=_origin(project, service, facts, main.layer, "the layer that stores them"),
    )


_PIP_LAYERS = [
    layer("COPY rootfs / # buildkit", files=SLIM_FILES),
    layer("COPY requirements.txt /app/ # buildkit", files={"/app/requirements.txt": "flask\n"}),
]


@image_rule(
    "DW132",
    lesson="size",
    severity="warning",
    title="The image ships pip's or uv's download cache",
    why="""
    `pip install` and `uv pip install` keep every wheel they download in a cache
    (`~/.cache/pip`, `~/.cache/uv`). In an image nothing ever reads it again: it only adds
    its size to every pull.
    """,
    fix="""
    `pip install --no-cache-dir` (or `PIP_NO_CACHE_DIR=1`, `UV_NO_CACHE=1`), or a cache mount:
    `RUN --mount=type=cache,target=/root/.cache/pip pip install ...`.
    """,
    bad=image_example(
        config={"User": "app", "Cmd": ["python", "-m", "app"]},
        layers=[
            *_PIP_LAYERS,
            layer(
                "RUN /bin/sh -c pip install -r /app/requirements.txt # buildkit",
                files={
                    "/usr/local/lib/python3.11/site-packages/flask/app.py": {"size": 60_000},
                    "/root/.cache/pip/http-v2/a/b/c/d/e/0123": {"size": 400_000},
                },
            ),
        ],
    ),
    good=image_example(
        config={"User": "app", "Cmd": ["python", "-m", "app"]},
        layers=[
            *_PIP_LAYERS,
            layer(
                "RUN /bin/sh -c pip install --no-cache-dir -r /app/requirements.txt # buildkit",
                files={"/usr/local/lib/python3.11/site-packages/flask/app.py": {"size": 60_000}},
            ),
        ],
    ),
    also=("hadolint:DL3042",),
)
def package_cache_ships(facts: ImageFacts, service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.imagescan.facts import PIP_CACHE, UV_CACHE

    items = _items(facts, PIP_CACHE, UV_CACHE)
    if items and sum(item.size for item in items) >= MIN_CACHE_BYTES:
        tools = " and ".join(sorted({"pip" if i.kind == PIP_CACHE else "uv" for i in items}))
        yield _item_hit(facts, service, project, items, f"{tools}'s download cache ships")


@image_rule(
    "DW133",
    lesson="size",
    severity="warning",
    title="The image ships apt's package lists or downloaded packages",
    why="""
    `apt-get update` downloads package lists (`/var/lib/apt/lists`, often 20 MB and more)
    and `apt-get install` keeps the .deb files it fetched (`/var/cache/apt`). A running
    container never needs them; removing them in a later RUN does not help (the bytes stay
    in the earlier layer).
    """,
    fix="""
    End the RUN that installs with `&& rm -rf /var/lib/apt/lists/*` (and `apt-get clean`),
    or use cache mounts for /var/lib/apt and /var/cache/apt.
    """,
    bad=slim_app_image(
        layer(
            "RUN /bin/sh -c apt-get update && apt-get install -y libpq5 # buildkit",
            files={
                "/usr/lib/x86_64-linux-gnu/libpq.so.5": {"size": 300_000},
                "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4": {  # noqa: E501
                    "size": 2 * MIB
                },
            },
        ),
    ),
    good=slim_app_image(
        layer(
            "RUN /bin/sh -c apt-get update && apt-get install -y libpq5 "
            "&& rm -rf /var/lib/apt/lists/* # buildkit",
            files={"/usr/lib/x86_64-linux-gnu/libpq.so.5": {"size": 300_000}},
        ),
    ),
    also=("hadolint:DL3009",),
)
def apt_lists_ship(facts: ImageFacts, service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.imagescan.facts import APT_CACHE, APT_LISTS

    items = _items(facts, APT_LISTS, APT_CACHE)
    if items and sum(item.size for item in items) >= MIN_APT_BYTES:
        yield _item_hit(facts, service, project, items, "apt's package lists or cache ship")


_GCC = "/usr/lib/gcc/x86_64-linux-gnu/12"


@image_rule(
    "DW134",
    lesson="size",
    severity="info",
    title="A compiler and development headers ship in the final image",
    why="""
    gcc, binutils and `-dev` headers are needed to build wheels that have no binary for the
    platform, never to run them. Left in the final image they add tens of megabytes (and
    tools an attacker can use).
    """,
    fix="""
    Build wheels in a builder stage (`pip wheel -w /wheels ...`) and install only the
    wheels in a final stage that never gets build-essential, or purge the build packages in
    the same RUN that used them.
    """,
    bad=slim_app_image(
        layer(
            "RUN /bin/sh -c apt-get install -y build-essential libpq-dev # buildkit",
            files={
                f"{_GCC}/cc1": {"size": 11 * MIB},
                "/usr/include/postgresql/libpq-fe.h": {"size": 30_000},
            },
        ),
    ),
    good=slim_app_image(
        layer(
            "COPY --from=builder /wheels /wheels # buildkit",
            files={"/wheels/psycopg2-2.9.9-cp311-linux_x86_64.whl": {"size": 500_000}},
        ),
    ),
)
def toolchain_ships(facts: ImageFacts, service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.imagescan.facts import COMPILER, HEADERS

    compilers = _items(facts, COMPILER)
    if not any(
        path.endswith(("/cc1", "/cc1plus"))
        for folder in ("usr/lib/gcc", "usr/libexec/gcc")
        for path, _ in facts.under(folder)
    ):
        return
    items = compilers + _items(facts, HEADERS)
    if sum(item.size for item in items) >= MIN_TOOLCHAIN_BYTES:
        yield _item_hit(facts, service, project, items, "a compiler and headers ship")


@image_rule(
    "DW135",
    lesson="size",
    severity="info",
    title="Packages' own tests and docs ship in site-packages",
    why="""
    Some wheels carry their test suites and documentation (pandas, numpy, scipy, many
    vendored libraries): megabytes an application never imports.
    """,
    fix="""
    Remove them in the RUN that installs (`find /usr/local/lib/python3*/site-packages
    -name tests -type d -prune -exec rm -rf {} +`), or in a builder stage before copying
    site-packages to the final stage.
    """,
    bad=slim_app_image(
        layer(
            "RUN /bin/sh -c pip install --no-cache-dir pandas # buildkit",
            files={
                "/usr/local/lib/python3.11/site-packages/pandas/core/frame.py": {"size": 400_000},
                "/usr/local/lib/python3.11/site-packages/pandas/tests/frame/test_api.py": {
                    "size": 6 * MIB
                },
            },
        ),
    ),
    good=slim_app_image(
        layer(
            "RUN /bin/sh -c pip install --no-cache-dir pandas "
            "&& rm -rf /usr/local/lib/python3.11/site-packages/pandas/tests # buildkit",
            files={
                "/usr/local/lib/python3.11/site-packages/pandas/core/frame.py": {"size": 400_000},
            },
        ),
    ),
)
def package_extras_ship(facts: ImageFacts, service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.imagescan.facts import PACKAGE_DOCS, PACKAGE_TESTS

    items = _items(facts, PACKAGE_TESTS, PACKAGE_DOCS)
    if items and sum(item.size for item in items) >= MIN_PACKAGE_EXTRAS_BYTES:
        yield _item_hit(facts, service, project, items, "packages' tests and docs ship")


@image_rule(
    "DW136",
    lesson="size",
    severity="warning",
    title="A .git folder ships in the image",
    why="""
    A `.git` folder copied with the source holds the project's whole history: it can be
    many times the size of the code, and it keeps every file ever committed, deleted
    secrets included, readable by anyone who pulls the image.
    """,
    fix="Add `.git` to `.dockerignore` (or COPY only the folders the application needs).",
    bad=slim_app_image(
        layer(
            "COPY . /app # buildkit",
            files={
                "/app/app.py": "print('hi')\n",
                "/app/.git/HEAD": "ref: refs/heads/main\n",
                "/app/.git/objects/pack/pack-1.pack": {"size": 90_000},
            },
        ),
    ),
    good=slim_app_image(
        layer("COPY . /app # buildkit", files={"/app/app.py": "print('hi')\n"}),
    ),
)
def git_folder_ships(facts: ImageFacts, service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.imagescan.facts import GIT

    items = _items(facts, GIT)
    if items:
        yield _item_hit(
            facts, service, project, items, ".git ships", fix="add .git to .dockerignore"
        )


def _interpreters(facts: ImageFacts) -> set[str]:
    """The `cpython-3XY` tags of the Python interpreters the image has."""
    tags: set[str] = set()
    for folder in ("usr/bin", "usr/local/bin", "opt/conda/bin"):
        for path, _ in facts.under(folder):
            name = path.rpartition("/")[2]
            version = name[len("python") :]
            if name.startswith("python3.") and version.replace(".", "").isdigit():
                major, _, minor = version.partition(".")
                tags.add(f"cpython-{major}{minor}")
    return tags


@image_rule(
    "DW137",
    lesson="size",
    severity="warning",
    title="Bytecode for a Python the image does not have",
    why="""
    Python only reads `__pycache__/*.cpython-3XY.pyc` files made for its own version. Files
    made by another Python (usually a developer's `__pycache__` copied with the source) are
    never read: they only add bytes, and show that the build context is not filtered.
    """,
    fix="Add `__pycache__` and `*.pyc` to `.dockerignore`.",
    bad=slim_app_image(
        layer(
            "COPY . /app # buildkit",
            files={
                "/app/app.py": "print('hi')\n",
                "/app/__pycache__/app.cpython-312.pyc": {"size": 4_000},
            },
        ),
    ),
    good=slim_app_image(
        layer(
            "COPY . /app # buildkit",
            files={
                "/app/app.py": "print('hi')\n",
                "/app/__pycache__/app.cpython-311.pyc": {"size": 4_000},
            },
        ),
    ),
)
def foreign_bytecode(facts: ImageFacts, service: Service, project: Project) -> Iterator[Hit]:
    have = _interpreters(facts)
    if not have:
        return  # no interpreter found where dockwise looks: it cannot know
    stale: dict[str, list[int]] = {}
    for path, entry in facts.files.items():
        if "__pycache__/" not in path or not path.endswith(".pyc"):
            continue
        tag = path.rsplit(".", 2)[-2] if path.count(".") >= 2 else ""
        if not tag.startswith("cpython-") or tag in have:
            continue
        folder = path.partition("/__pycache__/")[0]
        found = stale.setdefault(folder, [0, 0, entry.layer])
        found[0] += entry.size
        found[1] += 1
    if not stale:
        return
    total = sum(v[0] for v in stale.values())
    files = sum(v[1] for v in stale.values())
    folders = sorted(stale, key=lambda k: -stale[k][0])
    layer_index = stale[folders[0]][2]
    shown = ", ".join(f"/{folder}" for folder in folders[:3])
    yield at_image(
        service,
        f"{files} bytecode files ({_size(total)}) for a Python the image does not have "
        f"({', '.join(sorted(have))} here) in {shown}, from {_layer_label(facts, layer_index)}",
        related=_origin(project, service, facts, layer_index, "the layer that stores them"),
    )


@image_rule(
    "DW138",
    lesson="size",
    severity="error",
    title="The image breaks its size budget or dive's CI thresholds",
    why="""
    A size budget (`--max-size 200MB`, `max-size` in `[tool.dockwise.image]`) and dive's CI
    thresholds (`lowestEfficiency`, `highestWastedBytes`, `highestUserWastedPercent`, also
    read from `.dive-ci`) keep an image from growing unnoticed. dockwise checks them with its
    own exact figures: wasted bytes are the bytes the final filesystem does not show.
    """,
    fix="""
    Look at the largest layers and files (`dockwise image IMAGE`) and the other size
    findings; raise the budget only on purpose.
    """,
    bad=slim_app_image(
        layer("COPY model.bin /app/ # buildkit", files={"/app/model.bin": {"size": 3 * MIB}}),
    ),
    good=slim_app_image(
        layer("COPY app.py /app/ # buildkit", files={"/app/app.py": "print('hi')\n"}),
    ),
    example_config={"image": {"max-size": "10MB", "lowest-efficiency": "0.9"}},
)
def size_gates(facts: ImageFacts, service: Service, project: Project) -> Iterator[Hit]:
    gates = project.config.image_gates
    broken: list[str] = []
    if gates.max_size is not None and facts.size_bytes > gates.max_size:
        broken.append(
            f"size {_size(facts.size_bytes)} is over the budget of {_size(gates.max_size)}"
        )
    if gates.lowest_efficiency is not None and facts.efficiency < gates.lowest_efficiency:
        broken.append(f"efficiency {facts.efficiency:.1%} is under {gates.lowest_efficiency:.1%}")
    if gates.highest_wasted_bytes is not None and facts.wasted_bytes > gates.highest_wasted_bytes:
        broken.append(
            f"wasted bytes {_size(facts.wasted_bytes)} are over {_size(gates.highest_wasted_bytes)}"
        )
    if (
        gates.highest_user_wasted_percent is not None
        and facts.user_wasted_percent > gates.highest_user_wasted_percent
    ):
        broken.append(
            f"wasted bytes are {facts.user_wasted_percent:.1%} of the layers above the base, "
            f"over {gates.highest_user_wasted_percent:.1%}"
        )
    if broken:
        yield at_image(service, "; ".join(broken))


def _size(count: int) -> str:
    from dockwise.imagescan.facts import human_bytes

    return human_bytes(count)
