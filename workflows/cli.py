"""Command line: `python -m workflows <command>`.

build / check / lint work on the definition files (exit 1 when they find a problem; lint exits 2
for a file it cannot read or a name that is neither a file nor a workflow); new writes a new
workflow's files (exit 2, nothing written, when it refuses the name); the other commands talk to an
environment, and take --env and --json.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from console.validation import NotText, text_of
from workflows import WORKFLOWS, definitions, scaffold
from workflows.registry import ROOT, Workflow, unknown

Command = Callable[[argparse.Namespace], int]


def cmd_build(args: argparse.Namespace) -> int:
    for workflow in WORKFLOWS.values():
        changed = definitions.write(workflow)
        print(f"{'wrote' if changed else 'unchanged'} definitions/{workflow.definition_path.name}")
    problems = definitions.registry_problems(WORKFLOWS)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def cmd_check(args: argparse.Namespace) -> int:
    problems = [p for workflow in WORKFLOWS.values() for p in definitions.check(workflow)]
    problems += definitions.registry_problems(WORKFLOWS)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{len(WORKFLOWS)} definitions up to date and valid")
    return 1 if problems else 0


def _lint_target(name: str) -> tuple[Path, Workflow | None] | str:
    """The file a lint argument names, and the registered workflow whose definition it is; or why
    it names neither. A workflow's name (no folder, no suffix) that is no file here is its file."""
    path = Path(name)
    if path.exists() or path.suffix or len(path.parts) > 1:
        return path, next((w for w in WORKFLOWS.values() if w.definition_path.name == path.name), None)
    if name in WORKFLOWS:
        return WORKFLOWS[name].definition_path, WORKFLOWS[name]
    return f"no such file, and no workflow named {unknown(name, WORKFLOWS)}"


def cmd_lint(args: argparse.Namespace) -> int:
    """Each file on its own, or a registered workflow's definition file by the workflow's name; a
    file named as a registered workflow's is linted as that workflow (its type, its Maps' item
    count) unless --type or --map-items say otherwise."""
    code = 0
    for name in args.files:
        target = _lint_target(name)
        if isinstance(target, str):
            print(f"{name}: {target}", file=sys.stderr)
            code = 2
            continue
        path, known = target
        kind = args.type or (known.type if known else "STANDARD")
        map_items = args.map_items if args.map_items is not None else known.max_map_items if known else 1
        try:
            text = text_of(path.read_bytes())
        except OSError as error:
            print(f"{name}: cannot read: {error.strerror}", file=sys.stderr)
            code = 2
            continue
        except NotText as error:
            print(f"{name}: cannot read: {error}", file=sys.stderr)
            code = 2
            continue
        problems = definitions.file_problems(text, standard=kind == "STANDARD", map_items=map_items)
        for problem in problems:
            print(f"{name}: {problem}", file=sys.stderr)
        if problems:
            code = max(code, 1)
        else:
            print(f"{name}: no problems")
    return code


def cmd_new(args: argparse.Namespace) -> int:
    try:
        written = scaffold.create(args.name, express=args.express)
    except scaffold.Refused as refusal:
        print(f"new: {refusal}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path.relative_to(ROOT)}")
    module = scaffold.module_of(args.name)
    print(
        "next: python -m workflows check && "
        f"PYFLOWS_COVERAGE_GATE={args.name} python -m pytest tests/unit/test_{module}_tasks.py "
        f"tests/workflows/test_{module}.py\n"
        'then replace Do Work with your states, as README.md\'s "Adding a workflow" says, and its '
        "tests' input and paths with yours (tests/workflows/policy_edges.py holds the failure paths "
        "every workflow has); a console already running shows the workflow once restarted (or run it "
        "with --reload)"
    )
    return 0


def parser() -> argparse.ArgumentParser:
    from console import cli as executions  # the execution commands (list, start, describe...)

    root = argparse.ArgumentParser(allow_abbrev=False, prog="python -m workflows", description=__doc__)
    executions.add_common_options(root)
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "build", allow_abbrev=False, help="write definitions/<name>.asl.json from the Python builders"
    ).set_defaults(run=cmd_build)
    checked = (
        "fail when a definition file is stale, invalid, or breaks the error policy, when a workflow "
        "module is not in WORKFLOWS, an example input is not valid input, a function's handler is "
        "not where Lambda would look for it, the registry names a resource, a function (a route's), "
        "a stream (a stream trigger's), a seed file or an IAM action that is not there, a sync route "
        "starts a Standard workflow, two workflows declare one route, or an alert's subject names "
        "another workflow"
    )
    sub.add_parser("check", allow_abbrev=False, help=checked, description=checked).set_defaults(run=cmd_check)
    lint_parser = sub.add_parser(
        "lint",
        allow_abbrev=False,
        help="check definition files (FILE.asl.json, or a workflow's by its name) on their own: graph, "
        "grammar, error policy",
    )
    lint_parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE|WORKFLOW",
        help="a definition file (.asl.json), or a registered workflow's name for its definition file",
    )
    lint_parser.add_argument(
        "--type", choices=("STANDARD", "EXPRESS"), help="default: the registered workflow's, else STANDARD"
    )
    lint_parser.add_argument(
        "--map-items",
        type=int,
        help="the most items a Map iterates (default: the registered workflow's, else 1)",
    )
    lint_parser.set_defaults(run=cmd_lint)
    new_parser = sub.add_parser(
        "new",
        allow_abbrev=False,
        help="write a new workflow that runs (one Lambda task, the alert, tests reaching every edge), "
        "list it in WORKFLOWS and build its definition",
    )
    new_parser.add_argument("name", help="lowercase words joined by hyphens: expense-approval")
    new_parser.add_argument("--express", action="store_true", help="an Express workflow (default Standard)")
    new_parser.set_defaults(run=cmd_new)
    executions.register(sub)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run: Command = args.run
    return run(args)
