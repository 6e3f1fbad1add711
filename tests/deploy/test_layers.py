"""The dependencies layer: derived requirements, a deterministic zip, and every handler importing
with nothing but what AWS gives it (its zip, the layer, the runtime and the Powertools layer).

Building the layer needs PyPI the first time; later builds come from build/layers/.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from infra import functions, layers, packaging
from infra.environments import load
from infra.names import Names
from infra.plan import Context
from workflows import WORKFLOWS


def test_requirements_pin_the_installed_versions_of_what_tasks_import() -> None:
    imports = layers.third_party_imports()
    assert {"jsonschema", "talipp"} <= set(imports)
    assert imports["jsonschema"].is_relative_to(packaging.TASKS)
    assert "jsonschema" in {m.split(".")[0] for m in packaging.imported_modules(imports["jsonschema"])}
    pins = layers.requirements()
    for distribution in ("jsonschema", "talipp", "referencing"):  # referencing: jsonschema's own
        assert f"{distribution}=={importlib.metadata.version(distribution)}" in pins
    names = {pin.split("==")[0] for pin in pins}
    # What the runtime and the Powertools layer provide is not installed again.
    assert not names & {"boto3", "botocore", "aws-lambda-powertools", "pydantic", "typing-extensions"}
    assert not names & {"pyflows", "moto"}  # nor the project, nor what only the tests use


def test_an_import_that_no_installed_distribution_provides_is_named(tasks_copy: Path) -> None:
    (tasks_copy / "lottery" / "extra.py").write_text("import surely_not_installed_anywhere\n")
    with pytest.raises(layers.LayerError, match=r"tasks/lottery/extra\.py imports 'surely_not_installed"):
        layers.requirements()


def test_two_builds_give_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layers, "CACHE", tmp_path / "first")
    first = layers.build()
    monkeypatch.setattr(layers, "CACHE", tmp_path / "second")
    assert layers.build().zip == first.zip
    archive = zipfile.ZipFile(BytesIO(first.zip))
    names = archive.namelist()
    assert {"python/jsonschema/__init__.py", "python/talipp/__init__.py"} <= set(names)
    assert names == sorted(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith("python/bin/")]
    assert {info.date_time for info in archive.infolist()} == {packaging.FIXED_TIME}
    assert {info.external_attr >> 16 for info in archive.infolist()} == {0o100644}


def test_a_cached_build_does_not_run_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layers, "CACHE", tmp_path)
    built = layers.build()

    def no_pip(pins: list[str], target: Path) -> None:
        raise AssertionError("pip ran although the zip was cached")

    monkeypatch.setattr(layers, "_install", no_pip)
    assert layers.build() == built


def test_pip_failing_says_what_was_being_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layers, "CACHE", tmp_path / "cache")
    # No index and an empty wheel folder: pip finds nothing, as without a network.
    (tmp_path / "no-wheels").mkdir()
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "no-wheels"))
    with pytest.raises(layers.LayerError) as raised:
        layers.build()
    message = str(raised.value)
    assert "dependencies layer" in message and "manylinux2014_x86_64" in message
    assert f"talipp=={importlib.metadata.version('talipp')}" in message
    assert "No matching distribution" in message  # pip's own words
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


# Imports each handler module from its own zip, the layer and the stand-in for AWS's runtime and
# Powertools layer, with the standard library only: no site-packages (-S), no environment (-I).
IMPORT_EACH = """
import importlib, json, os, sys
layer, aws, functions = sys.argv[1], sys.argv[2], json.load(sys.stdin)
stdlib, failures = list(sys.path), {}
for fn in functions:
    for name in [m for m in sys.modules if m == "tasks" or m.startswith("tasks.")]:
        del sys.modules[name]  # each function sees only its own zip's tasks modules
    sys.path[:] = [fn["code"], layer, aws, *stdlib]
    os.environ.clear()
    os.environ.update(fn["environment"])
    try:
        importlib.import_module(fn["module"])
    except BaseException as error:
        failures[fn["module"]] = f"{type(error).__name__}: {error}"
print(json.dumps(failures))
"""


def provided_by_aws(folder: Path) -> Path:
    """A folder holding only the runtime's and the Powertools layer's packages (links to the venv's)."""
    folder.mkdir()
    owners = importlib.metadata.packages_distributions()
    for module in sorted(layers.PROVIDED):
        spec = importlib.util.find_spec(module)
        assert spec and spec.origin, module
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        (folder / source.name).symlink_to(source)
        for distribution in owners[module]:
            files = importlib.metadata.distribution(distribution).files or []
            metadata = next(f for f in files if f.name == "METADATA")
            info = Path(str(importlib.metadata.distribution(distribution).locate_file(metadata))).parent
            if not (folder / info.name).exists():
                (folder / info.name).symlink_to(info)
    return folder


def test_every_handler_imports_with_only_what_aws_provides(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    zipfile.ZipFile(BytesIO(layers.build().zip)).extractall(layer)
    aws = provided_by_aws(tmp_path / "aws")
    env = dataclasses.replace(load("staging"), region="eu-west-1")
    ctx = Context(env, Names(env, "123456789012"))
    specs = []
    for wf in WORKFLOWS.values():
        for fn in wf.functions:
            code = tmp_path / "functions" / f"{wf.name}-{fn.name}"
            zipfile.ZipFile(BytesIO(packaging.build(fn.handler).zip)).extractall(code)
            variables = functions.configuration(ctx, wf, fn, "arn:aws:iam::1:role/r")["Environment"]
            specs.append(
                {
                    "code": str(code),
                    "module": fn.handler.rsplit(".", 1)[0],
                    "environment": {**variables["Variables"], "AWS_REGION": env.region},
                }
            )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", IMPORT_EACH, str(layer / "python"), str(aws)],
        input=json.dumps(specs),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout.splitlines()[-1]) == {}
    assert len(specs) == sum(len(wf.functions) for wf in WORKFLOWS.values()) > 20
