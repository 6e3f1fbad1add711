"""Command line: `python -m workflows <command>`.

build / check work on the definition files; the other commands talk to an environment.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from workflows import WORKFLOWS, definitions

Command = Callable[[argparse.Namespace], int]


def cmd_build(args: argparse.Namespace) -> int:
    for workflow in WORKFLOWS.values():
        changed = definitions.write(workflow)
        print(f"{'wrote' if changed else 'unchanged'} definitions/{workflow.definition_path.name}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    problems = [p for workflow in WORKFLOWS.values() for p in definitions.check(workflow)]
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{len(WORKFLOWS)} definitions up to date and valid")
    return 1 if problems else 0


def parser() -> argparse.ArgumentParser:
    from console import cli as executions  # the execution commands (list, start, describe...)

    root = argparse.ArgumentParser(prog="python -m workflows", description=__doc__)
    executions.add_common_options(root)
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="write definitions/<name>.asl.json from the Python builders").set_defaults(
        run=cmd_build
    )
    sub.add_parser("check", help="fail when a definition file is stale or invalid").set_defaults(
        run=cmd_check
    )
    executions.register(sub)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run: Command = args.run
    return run(args)
