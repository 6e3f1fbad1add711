"""`python -m workflows new <name>`: a new workflow that runs, from the templates beside this file.

It writes the workflow's module (one Lambda task, Do Work, with the alert, the rejection and the
error policy every workflow has), its task package and schemas, a unit test of the task and a
workflow test reaching every edge of the definition; lists it in WORKFLOWS; builds its
definition. It writes nothing when the name is not a workflow name, is taken, would make a
resource name longer than AWS allows in an environment (as deploy checks them), would replace a
name workflows/__init__.py binds or a builtin, or any of its files exists.

The templates are string.Template text with `%` as the delimiter (`$` begins every JSONPath):
`%name` (expense-approval), `%module` (expense_approval), `%title` (Expense approval), `%type`
(STANDARD or EXPRESS).
"""

from __future__ import annotations

import ast
import builtins
import importlib
import keyword
import re
import string
from pathlib import Path

from infra import environments
from infra.environments import ConfigError
from infra.names import Names
from workflows import WORKFLOWS, asl, definitions
from workflows.registry import DEFINITIONS_DIR, ROOT, Function, Workflow

TEMPLATES = Path(__file__).resolve().parent
NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
REGISTRY = ROOT / "workflows" / "__init__.py"
# pyproject's line length: an import longer is wrapped, as the formatter would
LINE_LENGTH = 110
# the one function workflow.py.tmpl declares
FUNCTION = "do-work"


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
    written. Refused (nothing written) for a name that is not one, is taken, that deploy would
    refuse, that would replace a name workflows/__init__.py binds, or whose files exist."""
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
    source = REGISTRY.read_text()
    if module in bound(source):  # `from workflows import get` then `def get`: one replaces the other
        raise Refused(
            f"{name!r}: workflows/__init__.py binds {module!r} already, which its import would replace"
        )
    if module in dir(builtins):  # hidden where workflows/__init__.py uses it
        raise Refused(f"{name!r}: importing {module!r} in workflows/__init__.py would hide Python's builtin")
    too_long(name)
    planned = files(module)
    package = ROOT / "workflows" / module  # would be imported instead of the module
    existing = [p for p in (*planned, package, DEFINITIONS_DIR / f"{name}.asl.json") if p.exists()]
    if existing:
        named = ", ".join(str(path.relative_to(ROOT)) for path in existing)
        raise Refused(f"{named} exist{'s' if len(existing) == 1 else ''} already: nothing written")
    registry = listed(source, module)

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


def too_long(name: str) -> None:
    """Refused when the workflow's resource names are longer than AWS allows in an environment of
    environments.toml, as deploy would find them: the longest environment is tried first."""
    workflow = Workflow(
        name=name,
        description=name,
        type=asl.StateMachineType.STANDARD,
        build=dict,
        input_schema={},
        functions=(Function(name=FUNCTION, handler="", description=""),),
    )
    for env_name in sorted(environments.names(), key=len, reverse=True):
        try:
            Names(environments.load(env_name), account="").check(workflow)  # no name holds the account
        except ConfigError as error:
            raise Refused(f"{name!r} is too long for environment {env_name!r}: {error}") from None


def bound(source: str) -> set[str]:
    """The names the module's own statements bind (imports, definitions, assignments)."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


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
