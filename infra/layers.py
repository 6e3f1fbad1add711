"""The dependencies layer, `<app>-<env>-dependencies`: the third-party packages that the task
Lambdas import and that neither Lambda's Python runtime nor the Powertools layer provides.

Its requirements are derived from the imports under tasks/ and pinned, with the distributions
they require in turn, to the versions installed here: the layer holds what the tests ran with.
pip installs them for Lambda's platform into a deterministic zip, cached under build/layers/ by
the pins, and a new layer version is published only when the zip differs from the latest one.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra import packaging as code
from infra.functions import RUNTIME
from infra.plan import Action, Context
from workflows.registry import ROOT

# What the python3.11 runtime provides: AWS documents that its Python runtimes include the SDK
# for Python (Boto3), which brings botocore, s3transfer, jmespath, dateutil, six and urllib3.
RUNTIME_MODULES = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3"})
# What the public Powertools layer provides, of what the functions may import: Powertools
# documents its layer as built with its extras (tracer: aws_xray_sdk; parser: pydantic; and
# validation's fastjsonschema, which nothing here uses) and their dependencies (its own jmespath
# is the runtime's too).
POWERTOOLS_MODULES = frozenset(
    {
        "aws_lambda_powertools",
        "aws_xray_sdk",
        "wrapt",
        "pydantic",
        "pydantic_core",
        "annotated_types",
        "typing_inspection",
        "typing_extensions",
    }
)
PROVIDED = RUNTIME_MODULES | POWERTOOLS_MODULES

PYTHON_VERSION = RUNTIME.removeprefix("python")  # "3.11"
# python3.11 runs on Amazon Linux 2 (glibc 2.26) on x86_64: manylinux2014 wheels, as AWS's
# guide to Python layers installs them.
PLATFORM = "manylinux2014_x86_64"
# The markers that choose a requirement, as they evaluate there (the rest as they do here).
TARGET = {
    "python_version": PYTHON_VERSION,
    "python_full_version": f"{PYTHON_VERSION}.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
}
CACHE = ROOT / "build" / "layers"
COMPONENT = "dependencies"


class LayerError(Exception):
    """The dependencies layer cannot be built; the message says what and why."""


@dataclass(frozen=True)
class Layer:
    pins: tuple[str, ...]
    zip: bytes

    @property
    def sha256(self) -> str:
        return code.code_sha256(self.zip)


def third_party_imports() -> dict[str, Path]:
    """Each top-level module imported under tasks/ that the layer must provide -> a file importing it."""
    found: dict[str, Path] = {}
    for path in sorted(code.TASKS.rglob("*.py")):
        for module in sorted(code.imported_modules(path)):
            top = module.split(".")[0]
            if top not in sys.stdlib_module_names and top not in PROVIDED and not _first_party(top):
                found.setdefault(top, path)
    return found


def _first_party(module: str) -> bool:
    """A package of this repository (tasks, or infra in an operator's command under tasks/)."""
    return (ROOT / module / "__init__.py").is_file() or (ROOT / f"{module}.py").is_file()


@cache
def _owners() -> dict[str, list[str]]:
    """Top-level module -> the installed distributions providing it (installs do not change mid-run)."""
    return dict(importlib.metadata.packages_distributions())


def requirements() -> list[str]:
    """`name==version` of every distribution the layer holds: those providing the third-party
    imports and, transitively, those they require on Lambda, less what Lambda already provides."""
    owners = _owners()
    provided = {canonicalize_name(d) for m in PROVIDED for d in owners.get(m, [])}
    todo: list[tuple[str, frozenset[str], str]] = []  # (distribution, its extras wanted, who needs it)
    for module, path in third_party_imports().items():
        where = str(path.relative_to(code.ROOT))
        if module not in owners:
            raise LayerError(f"{where} imports {module!r}, which no installed distribution provides")
        todo += [(dist, frozenset(), where) for dist in owners[module]]
    pins: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        dist, extras, needed_by = todo.pop()
        name = canonicalize_name(dist)
        if name in provided or (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            installed = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise LayerError(f"{needed_by} requires {dist!r}, which is not installed") from None
        pins[name] = installed.version
        wanted = ("", *extras)
        for line in installed.requires or []:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({**TARGET, "extra": e}) for e in wanted):
                todo.append((requirement.name, frozenset(requirement.extras), name))
    return sorted(f"{name}=={version}" for name, version in pins.items())


def build() -> Layer:
    """The layer's zip for the current requirements: from the cache, or built with pip (network)."""
    pins = requirements()
    key = hashlib.sha256("\n".join([PLATFORM, PYTHON_VERSION, *pins]).encode()).hexdigest()[:20]
    cached = CACHE / f"{COMPONENT}-{key}.zip"
    if not cached.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            _install(pins, Path(tmp) / "python")
            content = _zip(Path(tmp))
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".part")
        partial.write_bytes(content)
        partial.replace(cached)  # whole or absent, even when two builds race
    return Layer(tuple(pins), cached.read_bytes())


def _install(pins: list[str], target: Path) -> None:
    # Every distribution is pinned above, so pip installs exactly those (--no-deps): nothing the
    # runtime or Powertools already provides is installed twice.
    command = [
        *(sys.executable, "-m", "pip", "install", "--target", str(target)),
        *("--platform", PLATFORM, "--implementation", "cp", "--python-version", PYTHON_VERSION),
        *("--only-binary=:all:", "--no-deps", "--no-compile", "--quiet", "--disable-pip-version-check"),
        *pins,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = "\n".join(done.stderr.strip().splitlines()[-10:])
        raise LayerError(
            f"building the {COMPONENT} layer ({', '.join(pins)}) for {PLATFORM}, Python "
            f"{PYTHON_VERSION}: pip exited with {done.returncode}:\n{last}"
        )


def _zip(root: Path) -> bytes:
    # Console scripts are of no use in a layer and their first line names this machine's Python:
    # left out, and out of the RECORD files, any machine builds the same bytes from the same pins.
    files = {}
    for path in root.rglob("*"):
        name = path.relative_to(root).as_posix()
        if not path.is_file() or code.skipped(path) or name.startswith("python/bin/"):
            continue
        content = path.read_bytes()
        if name.endswith(".dist-info/RECORD"):
            lines = content.decode().splitlines(keepends=True)
            content = "".join(line for line in lines if not line.startswith("../../bin/")).encode()
        files[name] = content
    return code.deterministic_zip(files)


def layer_name(ctx: Context) -> str:
    return ctx.env.resource_name(COMPONENT)


def ensure(ctx: Context, layer: Layer) -> str:
    """Publish the layer unless its latest version has the same code; the version ARN to use
    (under --plan, the ARN the next version will have)."""
    lam, name = ctx.client("lambda"), layer_name(ctx)
    versions = _versions(ctx)
    latest = max(versions, key=lambda v: v["Version"], default=None)
    if latest is not None:
        # ListLayerVersions leaves out CodeSha256: GetLayerVersion has it.
        current = lam.get_layer_version(LayerName=name, VersionNumber=latest["Version"])
        if current["Content"]["CodeSha256"] == layer.sha256:
            ctx.same("layer", name)
            return str(latest["LayerVersionArn"])
    action = Action.CREATE if latest is None else Action.UPDATE
    detail = f"{len(layer.pins)} distributions, {len(layer.zip) // 1024 + 1} KiB"
    if not ctx.change("layer", name, action, detail):
        number = latest["Version"] + 1 if latest else 1
        return ctx.names.arn("lambda", f"layer:{name}:{number}")
    published = lam.publish_layer_version(  # a zip under 50 MB can be sent inline
        LayerName=name,
        Description=" ".join(layer.pins)[:256],  # Lambda's limit
        Content={"ZipFile": layer.zip},
        CompatibleRuntimes=[RUNTIME],
        CompatibleArchitectures=["x86_64"],
    )
    ctx.say(f"    {name}: version {published['Version']}")
    return str(published["LayerVersionArn"])


def _versions(ctx: Context) -> list[dict[str, Any]]:
    pages = ctx.client("lambda").get_paginator("list_layer_versions").paginate(LayerName=layer_name(ctx))
    return [version for page in pages for version in page["LayerVersions"]]


def destroy(ctx: Context) -> None:
    """Delete every version of the environment's layer (layers carry no tags: its name is its owner)."""
    lam, name = ctx.client("lambda"), layer_name(ctx)
    for version in _versions(ctx):
        if ctx.change("layer version", f"{name}:{version['Version']}", Action.DELETE):
            lam.delete_layer_version(LayerName=name, VersionNumber=version["Version"])
