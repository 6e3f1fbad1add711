"""`python -m workflows new <name>`: a new workflow that runs, from the templates beside this file.

It writes the workflow's module (one Lambda task, Do Work, with the alert, the rejection and the
error policy every workflow has), its task package and schemas, a unit test of the task and a
workflow test reaching every edge of the definition; lists it in WORKFLOWS; builds its
definition. It writes nothing when the name is not a workflow name, is taken, or any of its files
exists.

The templates are string.Template text with `%` as the delimiter (`$` begins every JSONPath):
`%name` (expense-approval), `%module` (expense_approval), `%title` (Expense approval), `%type`
(STANDARD or EXPRESS).
"""

from __future__ import annotations

import ast
import importlib
import keyword
import re
import string
from pathlib import Path

from workflows import WORKFLOWS, definitions
from workflows.registry import DEFINITIONS_DIR, ROOT

TEMPLATES = Path(__file__).resolve().parent
NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
REGISTRY = ROOT / "workflows" / "__init__.py"
# pyproject's line length: an import longer is wrapped, as the formatter would
LINE_LENGTH = 110


class Template(string.Template):
    delimiter = "%"


class Refused(Exception):
    """Nothing was written; the message says why."""


def module_of(name: str) -> str:
    return name.replace("-", "_")


def files(module: str) -> dict[Path, str | None]:
    """Each file of a new workflow -> its template (None: empty)."""
    return {
        ROOT / "workflows" / f"{module}.py": "workflow.py.tmpl",
        ROOT / "tasks" / module / "__init__.py": None,  # Lambda imports the folder as a package
        ROOT / "tasks" / module / "schemas.py": "schemas.py.tmpl",
        ROOT / "tasks" / module / "do_work.py": "task.py.tmpl",
        ROOT / "tests" / "unit" / f"test_{module}_tasks.py": "test_tasks.py.tmpl",
        ROOT / "tests" / "workflows" / f"test_{module}.py": "test_workflow.py.tmpl",
    }


def create(name: str, *, express: bool = False) -> list[Path]:
    """Write the workflow's files, list it in WORKFLOWS and build its definition; the files
    written. Refused (nothing written) for a name that is not one, is taken, or whose files exist."""
    module = module_of(name)
    if not NAME.fullmatch(name):
        raise Refused(
            f"{name!r} is not a workflow name: lowercase words of letters and digits joined by "
            "single hyphens, beginning with a letter (expense-approval)"
        )
    if keyword.iskeyword(module):
        raise Refused(f"{name!r} is a Python keyword: no module can be named {module!r}")
    if name in WORKFLOWS:
        raise Refused(f"{name!r} is taken: WORKFLOWS (workflows/__init__.py) lists it")
    planned = files(module)
    package = ROOT / "workflows" / module  # would be imported instead of the module
    existing = [p for p in (*planned, package, DEFINITIONS_DIR / f"{name}.asl.json") if p.exists()]
    if existing:
        named = ", ".join(str(path.relative_to(ROOT)) for path in existing)
        raise Refused(f"{named} exist{'s' if len(existing) == 1 else ''} already: nothing written")
    registry = listed(REGISTRY.read_text(), module)

    fields = {
        "name": name,
        "module": module,
        "title": name.replace("-", " ").capitalize(),
        "type": "EXPRESS" if express else "STANDARD",
    }
    for path, template in planned.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = Template((TEMPLATES / template).read_text()).substitute(fields) if template else ""
        path.write_text(text)
    REGISTRY.write_text(registry)
    importlib.invalidate_caches()  # the module was written after the import system last looked
    workflow = importlib.import_module(f"workflows.{module}").WORKFLOW
    definitions.write(workflow)
    return [*planned, REGISTRY, workflow.definition_path]


def listed(source: str, module: str) -> str:
    """workflows/__init__.py's text with `module` imported and its WORKFLOW last in WORKFLOWS."""
    tree = ast.parse(source)
    imports = [
        node
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "workflows" and not node.level
    ]
    listings = [
        node.iter
        for node in ast.walk(tree)
        if isinstance(node, ast.comprehension)
        and isinstance(node.iter, ast.Tuple)
        and all(ast.unparse(element).endswith(".WORKFLOW") for element in node.iter.elts)
    ]
    if len(imports) != 1 or len(listings) != 1:
        raise Refused(
            "workflows/__init__.py does not have the one `from workflows import ...` and the one "
            "tuple of `<module>.WORKFLOW`s to add the workflow to: nothing written"
        )
    [imported], [listing] = imports, listings
    # the tuple first: it comes after the import, whose text may change in length
    line = source.splitlines()[listing.lineno - 1]
    indent = line[: len(line) - len(line.lstrip())]
    members = [*(ast.unparse(element) for element in listing.elts), f"{module}.WORKFLOW"]
    source = _replaced(
        source, listing, "(\n" + "".join(f"{indent}    {m},\n" for m in members) + f"{indent})"
    )
    names = sorted({alias.name for alias in imported.names} | {module})
    one_line = f"from workflows import {', '.join(names)}"
    wrapped = "from workflows import (\n" + "".join(f"    {n},\n" for n in names) + ")"
    return _replaced(source, imported, one_line if len(one_line) <= LINE_LENGTH else wrapped)


def _replaced(source: str, node: ast.stmt | ast.expr, text: str) -> str:
    """`source` with the text of `node` (parsed from it) replaced by `text`."""
    offsets = [0]
    for line in source.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    assert node.end_lineno is not None and node.end_col_offset is not None
    begin = offsets[node.lineno - 1] + node.col_offset
    end = offsets[node.end_lineno - 1] + node.end_col_offset
    return source[:begin] + text + source[end:]
