"""Where a function's handler lives, and whether Lambda would find it there.

`tasks.lottery.record_winners.handler` is the function `handler` of the module
`tasks/lottery/record_winners.py` (or a package's `__init__.py`). Lambda says a handler is missing
only when it is invoked (Runtime.HandlerNotFound), in the middle of a run; `python -m workflows
check` and deploy say it before.
"""

from __future__ import annotations

import ast
from pathlib import Path

from workflows.registry import ROOT, likely


def module_path(module: str, root: Path = ROOT) -> Path | None:
    """The file of a dotted module name under root, or None."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_missing(module: str, root: Path = ROOT) -> str:
    """Why a module that module_path does not find is missing."""
    folder = root.joinpath(*module.split("."))
    if folder.is_dir():
        return (
            f"handler module {module}: {folder.relative_to(root)}/ has no __init__.py "
            "(every folder of tasks/ is a package, which Lambda imports)"
        )
    parent, _, name = module.rpartition(".")
    where = folder.parent
    siblings = [p.stem for p in where.glob("*.py")] + [p.parent.name for p in where.glob("*/__init__.py")]
    close = likely(name, siblings)
    hint = f": did you mean {parent + '.' if parent else ''}{close}?" if close else ""
    return f"handler module {module} not found under {root / 'tasks'}{hint}"


def defines(path: Path, name: str) -> bool:
    """Whether a module may bind `name` at its top level: a def, an assignment or an import, also
    under an `if`, a `try` or a `with` (an optional dependency's fallback); a `*` import or a
    module `__getattr__` may give any name, so it is taken as given."""
    return _binds(ast.parse(path.read_text(), str(path)).body, name)


def _binds(body: list[ast.stmt], name: str) -> bool:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name in (
            name,
            "__getattr__",
        ):
            return True
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(n, ast.Name) and n.id == name for t in targets for n in ast.walk(t)):
                return True
        if isinstance(node, ast.Import | ast.ImportFrom) and any(
            a.name == "*" or (a.asname or a.name.split(".")[0]) == name for a in node.names
        ):
            return True
        nested = [getattr(node, field, []) for field in ("body", "orelse", "finalbody")]
        nested += [handler.body for handler in getattr(node, "handlers", [])]
        if isinstance(node, ast.If | ast.Try | ast.With) and any(_binds(b, name) for b in nested):
            return True
    return False


def _not_defined(handler: str, path: Path, root: Path) -> str:
    """The function the module does not define, with the top-level function it is likely a typo of."""
    function = handler.rsplit(".", 1)[-1]
    tree = ast.parse(path.read_text(), str(path))
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    close = likely(function, defined)
    hint = f": did you mean {close!r}?" if close else ""
    return f"handler {handler}: {path.relative_to(root)} defines no {function!r}{hint}"


def handler_problem(handler: str, root: Path = ROOT) -> str | None:
    """What Lambda would not find of `<module>.<function>`, or None."""
    module, _, function = handler.rpartition(".")
    if not module:
        return f"handler {handler!r}: not <module>.<function>"
    parts = module.split(".")
    # Packaging takes each parent package's __init__.py too, and refuses a folder without one.
    for parent in (".".join(parts[:i]) for i in range(1, len(parts))):
        if module_path(parent, root) is None:
            return module_missing(parent, root)
    path = module_path(module, root)
    if path is None:
        return module_missing(module, root)
    try:
        found = defines(path, function)
    except SyntaxError as error:
        return f"handler {handler}: {path.relative_to(root)} line {error.lineno}: {error.msg}"
    return None if found else _not_defined(handler, path, root)
