"""Command line: `python -m workflows <command>`.

build / check / lint work on the definition files (exit 1 when they find a problem); the other
commands talk to an environment, and take --env and --json.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from workflows import WORKFLOWS, definitions

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


def cmd_lint(args: argparse.Namespace) -> int:
    """Each file on its own; a file named as a registered workflow's is linted as that workflow
    (its type, its Maps' item count) unless --type or --map-items say otherwise."""
    code = 0
    for name in args.files:
        path = Path(name)
        known = next((w for w in WORKFLOWS.values() if w.definition_path.name == path.name), None)
        kind = args.type or (known.type if known else "STANDARD")
        map_items = args.map_items if args.map_items is not None else known.max_map_items if known else 1
        try:
            text = path.read_text()
        except OSError as error:
            print(f"{name}: cannot read: {error.strerror}", file=sys.stderr)
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


def parser() -> argparse.ArgumentParser:
    from console import cli as executions  # the execution commands (list, start, describe...)

    root = argparse.ArgumentParser(prog="python -m workflows", description=__doc__)
    executions.add_common_options(root)
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="write definitions/<name>.asl.json from the Python builders").set_defaults(
        run=cmd_build
    )
    checked = (
        "fail when a definition file is stale, invalid, or breaks the error policy, when a workflow "
        "module is not in WORKFLOWS, an example input is not valid input, a function's handler is "
        "not where Lambda would look for it, or the registry names a resource, a seed file or an IAM "
        "action that is not there"
    )
    sub.add_parser("check", help=checked, description=checked).set_defaults(run=cmd_check)
    lint_parser = sub.add_parser(
        "lint", help="check definition files (FILE.asl.json) on their own: graph, grammar, error policy"
    )
    lint_parser.add_argument("files", nargs="+", metavar="FILE", help="a definition file (.asl.json)")
    lint_parser.add_argument(
        "--type", choices=("STANDARD", "EXPRESS"), help="default: the registered workflow's, else STANDARD"
    )
    lint_parser.add_argument(
        "--map-items",
        type=int,
        help="the most items a Map iterates (default: the registered workflow's, else 1)",
    )
    lint_parser.set_defaults(run=cmd_lint)
    executions.register(sub)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run: Command = args.run
    return run(args)
