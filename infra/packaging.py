"""Deterministic Lambda zips: the same sources give the same bytes, hence the same CodeSha256.

A function's zip holds its handler module and the `tasks` modules it imports, followed
transitively (tasks/shared and its own workflow folder only), plus the package `__init__` files
and the data files of those folders. A change to one task therefore changes only its function.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from workflows import handlers
from workflows.registry import ROOT

TASKS = ROOT / "tasks"
# 1980-01-01, the earliest date a zip can store: file times must not change the hash.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
SKIP_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class Package:
    zip: bytes
    files: tuple[str, ...]

    @property
    def sha256(self) -> str:
        return code_sha256(self.zip)


def code_sha256(zip_bytes: bytes) -> str:
    """Base64 SHA-256 of a zip, the form Lambda reports as CodeSha256 (functions and layers)."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()


_found: dict[tuple[Path, str], Path] = {}


def _module_path(module: str) -> Path | None:
    if (ROOT, module) in _found:  # only hits are kept: a module may appear, none disappears mid-deploy
        return _found[ROOT, module]
    path = handlers.module_path(module, ROOT)
    if path is not None:
        _found[ROOT, module] = path
    return path


_parsed: dict[tuple[Path, int, int], set[str]] = {}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports by absolute name, parsed once per version of the file
    (`from x import y` gives x and x.y: y may be a module)."""
    stat = path.stat()
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _parsed:
        _parsed[key] = _parse_imports(path)
    return _parsed[key]


def _imports(path: Path) -> set[str]:
    """The `tasks.*` modules a file imports."""
    return {m for m in imported_modules(path) if m.split(".")[0] == "tasks" and _module_path(m)}


def _statements(nodes: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement, nested ones too (an import inside a function): expressions never import."""
    for node in nodes:
        yield node
        for block in ("body", "orelse", "finalbody", "handlers"):
            yield from _statements(getattr(node, block, []))


def _parse_imports(path: Path) -> set[str]:
    found = set()
    for node in _statements(ast.parse(path.read_text(), str(path)).body):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def _closure(module: str) -> set[Path]:
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        parts = current.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # parent packages' __init__
        path = _module_path(current)
        if path is None:
            raise FileNotFoundError(handlers.module_missing(current, ROOT))
        todo += sorted(_imports(path))
    return {p for p in (_module_path(m) for m in seen) if p}


def _data_files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file() and p.suffix != ".py" and not skipped(p)}


def skipped(path: Path) -> bool:
    """Bytecode, which Python writes as it pleases: never packaged."""
    return "__pycache__" in path.parts or path.suffix in SKIP_SUFFIXES


def build(handler: str) -> Package:
    """The zip for a handler `tasks.<workflow>.<module>.handler`."""
    problem = handlers.handler_problem(handler, ROOT)
    if problem:  # Lambda would only say so when invoked (Runtime.HandlerNotFound), in the middle of a run
        raise FileNotFoundError(problem)
    files = _closure(handler.rsplit(".", 1)[0])
    for folder in {path.parent for path in files} - {TASKS}:
        files |= _data_files(folder)
    names = sorted(str(p.relative_to(ROOT)) for p in files)
    return Package(deterministic_zip({name: (ROOT / name).read_bytes() for name in names}), tuple(names))


def deterministic_zip(files: dict[str, bytes]) -> bytes:
    """A zip of `files` (archive name -> content) whose bytes depend on nothing else."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--, whatever the checkout says
            archive.writestr(info, files[name], compresslevel=9)
    return buffer.getvalue()
