"""`python -m workflows new`, run in a copy of the checkout: a new workflow of each type passes
check, lint, the type-check and its own tests with every edge reached; a name it cannot take is
refused, nothing written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NEW = {"expense-approval": "expense_approval", "quick-thing": "quick_thing"}  # name -> module
LONG = "expense-approval-for-the-travel-of-staff"  # 40 characters


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("checkout") / "pyflows"
    shutil.copytree(
        REPO,
        copy,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "__pycache__", "*_cache", ".localcloud", "build", "test-output", "*.egg-info"
        ),
    )
    # the dependencies layer deploy builds with pip: from the checkout's cache, not built again
    (REPO / "build").mkdir(exist_ok=True)
    (copy / "build").symlink_to(REPO / "build")
    return copy


def run(checkout: Path, *args: str, gate: str = "") -> subprocess.CompletedProcess[str]:
    """A command of the copy's Python code (its folder first on the path), without this session's
    local cloud or coverage gate."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYFLOWS_", "AWS_"))}
    env["PYFLOWS_COVERAGE_GATE"] = gate
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=checkout, env=env, capture_output=True, text=True, timeout=300
    )


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file()
        and not any(part.endswith("_cache") for part in p.parts)  # __pycache__, .mypy_cache
        and not p.is_relative_to(root / "build")
    }


@pytest.mark.slow
def test_a_new_workflow_of_each_type_passes_check_lint_and_its_tests_reaching_every_edge(
    checkout: Path,
) -> None:
    standard = run(checkout, "workflows", "new", "expense-approval")
    express = run(checkout, "workflows", "new", "quick-thing", "--express")

    assert standard.returncode == 0, standard.stderr
    assert express.returncode == 0, express.stderr
    assert standard.stdout.splitlines()[:8] == [
        "wrote workflows/expense_approval.py",
        "wrote tasks/expense_approval/__init__.py",
        "wrote tasks/expense_approval/schemas.py",
        "wrote tasks/expense_approval/do_work.py",
        "wrote tests/unit/test_expense_approval_tasks.py",
        "wrote tests/workflows/test_expense_approval.py",
        "wrote workflows/__init__.py",
        "wrote definitions/expense-approval.asl.json",
    ]
    assert "type=asl.StateMachineType.STANDARD" in (checkout / "workflows/expense_approval.py").read_text()
    assert "type=asl.StateMachineType.EXPRESS" in (checkout / "workflows/quick_thing.py").read_text()

    check = run(checkout, "workflows", "check")
    assert check.returncode == 0, check.stderr
    assert check.stdout == "7 definitions up to date and valid\n"

    written = ["workflows/__init__.py"]
    for module in NEW.values():
        written += [f"workflows/{module}.py", f"tasks/{module}"]
        written += [f"tests/unit/test_{module}_tasks.py", f"tests/workflows/test_{module}.py"]
    for lint in (["ruff", "check", "--no-cache"], ["ruff", "format", "--no-cache", "--check"]):
        found = run(checkout, *lint, *written)
        assert found.returncode == 0, found.stdout + found.stderr
    types = run(checkout, "mypy", "workflows", "tasks")
    assert types.returncode == 0, types.stdout

    tests = [f"tests/unit/test_{m}_tasks.py" for m in NEW.values()]
    tests += [f"tests/workflows/test_{m}.py" for m in NEW.values()]
    tested = run(checkout, "pytest", "-q", "-p", "no:cacheprovider", *tests, gate=",".join(NEW))
    assert tested.returncode == 0, tested.stdout[-3000:]
    coverage = tested.stdout[tested.stdout.find("workflow path coverage") :]
    assert "expense-approval state 7/7  choice 0/0  catch 5/5  retry 4/4" in coverage, coverage
    assert "quick-thing      state 7/7  choice 0/0  catch 5/5  retry 4/4" in coverage, coverage


def test_a_name_it_cannot_take_is_refused_with_nothing_written(checkout: Path) -> None:
    (checkout / "tests/unit/test_leftover_tasks.py").write_text("")
    before = files(checkout)
    refusals = {
        "Expense_Approval": "'Expense_Approval' is not a workflow name: lowercase words",
        "expense--approval": "'expense--approval' is not a workflow name",
        "2fa-reset": "'2fa-reset' is not a workflow name",
        "class": "'class' is a Python keyword: no module can be named 'class'",
        "lottery": "'lottery' is taken: WORKFLOWS (workflows/__init__.py) lists it",
        "lint": "workflows/lint.py exists already: nothing written",
        "leftover": "tests/unit/test_leftover_tasks.py exists already: nothing written",
        "get": "'get': workflows/__init__.py binds 'get' already, which its import would replace",
        "sorted": "'sorted': importing 'sorted' in workflows/__init__.py would hide Python's builtin",
        # the role of its schedule, <app>-<env>-<name>-scheduler, two characters over IAM's 64
        LONG: f"{LONG!r} is too long for environment 'staging': workflow {LONG}: name "
        f"'pyflows-staging-{LONG}-scheduler' is 66 characters, AWS allows 64",
    }

    for name, why in refusals.items():
        refused = run(checkout, "workflows", "new", name)

        assert (refused.returncode, refused.stdout) == (2, ""), name
        assert refused.stderr.startswith(f"new: {why}"), refused.stderr
    assert files(checkout) == before
