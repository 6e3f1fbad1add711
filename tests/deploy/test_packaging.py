"""Lambda zips: deterministic bytes, only the handler's own modules."""

from __future__ import annotations

import os
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from infra import packaging

RECORD = "tasks.lottery.record_winners.handler"
DRAW = "tasks.lottery.draw_winners.handler"


def test_the_same_sources_give_the_same_hash_whatever_the_file_times(tasks_copy: Path) -> None:
    first = packaging.build(RECORD)
    for path in tasks_copy.rglob("*.py"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
    assert packaging.build(RECORD).zip == first.zip


def test_a_zip_holds_the_handler_and_what_it_imports_only() -> None:
    files = set(packaging.build(RECORD).files)
    assert {"tasks/__init__.py", "tasks/lottery/__init__.py", "tasks/lottery/record_winners.py"} <= files
    assert {"tasks/lottery/schemas.py", "tasks/shared/handler.py", "tasks/shared/clients.py"} <= files
    assert "tasks/lottery/draw_winners.py" not in files
    assert not [
        f
        for f in files
        if f.startswith("tasks/") and f.split("/")[1] not in ("__init__.py", "shared", "lottery")
    ]
    archive = zipfile.ZipFile(BytesIO(packaging.build(RECORD).zip))
    assert {info.date_time for info in archive.infolist()} == {packaging.FIXED_TIME}


def test_changing_one_task_changes_only_its_package(tasks_copy: Path) -> None:
    before = {h: packaging.build(h).sha256 for h in (RECORD, DRAW)}
    (tasks_copy / "lottery" / "record_winners.py").write_text(
        (tasks_copy / "lottery" / "record_winners.py").read_text() + "\n#\n"
    )
    assert packaging.build(RECORD).sha256 != before[RECORD]
    assert packaging.build(DRAW).sha256 == before[DRAW]


def test_a_missing_handler_module_is_named() -> None:
    with pytest.raises(FileNotFoundError, match=r"tasks\.lottery\.nope"):
        packaging.build("tasks.lottery.nope.handler")


def test_a_handler_its_module_does_not_define_is_named() -> None:
    """Lambda would refuse it only when invoked, as Runtime.HandlerNotFound in the middle of a run."""
    with pytest.raises(FileNotFoundError, match=r"record_winners\.py defines no 'handle'"):
        packaging.build("tasks.lottery.record_winners.handle")


def test_a_task_folder_without_init_is_named(tasks_copy: Path) -> None:
    (tasks_copy / "lottery" / "__init__.py").unlink()
    with pytest.raises(FileNotFoundError, match=r"tasks/lottery/ has no __init__\.py"):
        packaging.build(RECORD)


@pytest.mark.parametrize(
    "source",
    [
        "from tasks.lottery.record_winners import *\n",
        "try:\n    from orjson import loads as handler\nexcept ImportError:\n    from json import loads as handler\n",
        "import os\nif os.environ.get('X'):\n    def handler(event, context): ...\nelse:\n    handler = print\n",
        "handler, other = print, print\n",
        "def __getattr__(name):\n    return print\n",
    ],
    ids=["star import", "try import", "if def", "tuple assignment", "module getattr"],
)
def test_a_handler_defined_otherwise_than_by_a_def_is_taken(tasks_copy: Path, source: str) -> None:
    (tasks_copy / "lottery" / "entry.py").write_text(source)
    assert "tasks/lottery/entry.py" in packaging.build("tasks.lottery.entry.handler").files
