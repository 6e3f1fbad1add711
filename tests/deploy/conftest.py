"""One deployment shared by the deploy tests: the registry's workflows plus a probe workflow
with every kind of resource and trigger, into its own environment on the session's local cloud."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import infra
from infra import packaging
from infra.environments import Environment
from infra.plan import Context
from tests.deploy.probe import probe
from tests.deploy.stubs import staging_context
from workflows import WORKFLOWS
from workflows.registry import Workflow


def environment(endpoint: str, name: str) -> Environment:
    return dataclasses.replace(infra.load("local"), name=name, endpoint=endpoint)


@dataclasses.dataclass
class Deployment:
    env: Environment
    workflows: list[Workflow]
    first: infra.Result
    tasks: Path  # the copy of tasks/ the functions are packaged from: tests edit it, not tasks/
    cloud: Any

    def deploy(self, **kwargs: Any) -> tuple[infra.Result, str]:
        """Deploy `workflows` (or others given) as the whole of the environment (what else it
        holds is removed)."""
        lines: list[str] = []
        kwargs.setdefault("complete", True)
        kwargs.setdefault("workflows", self.workflows)
        result = infra.deploy(self.env, out=lines.append, **kwargs)
        return result, "\n".join(lines)

    def client(self, service: str) -> Any:
        return self.env.client(service)


def copy_of_tasks(root: Path, patch: pytest.MonkeyPatch) -> Path:
    """A copy of tasks/ under `root`, which packaging then builds from: tests may change its files."""
    shutil.copytree(packaging.TASKS, root / "tasks", ignore=shutil.ignore_patterns("__pycache__"))
    patch.setattr(packaging, "ROOT", root)
    patch.setattr(packaging, "TASKS", root / "tasks")
    return root / "tasks"


@pytest.fixture
def tasks_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copy_of_tasks(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def deployment(
    local_cloud: Any, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Deployment]:
    """Per test module, into the environment its ENVIRONMENT names (default dtest), in an emptied
    local cloud: what another file's tests left (run before it in its worker) is not this one's."""
    local_cloud.reset()
    root = tmp_path_factory.mktemp("src")
    env = environment(local_cloud.endpoint, getattr(request.module, "ENVIRONMENT", "dtest"))
    workflows = [*WORKFLOWS.values(), probe(root / "definitions")]
    with pytest.MonkeyPatch.context() as patch:
        copy_of_tasks(root, patch)
        first = infra.deploy(env, workflows=workflows, out=lambda line: None)
        yield Deployment(env, workflows, first, root / "tasks", local_cloud)


@pytest.fixture
def slept() -> list[float]:
    """The waits a deploy step asked for, instead of sleeping them."""
    return []


@pytest.fixture
def ctx(slept: list[float]) -> Context:
    return staging_context(slept)
