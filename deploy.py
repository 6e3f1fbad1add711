"""Deploy the workflows to an environment: `python deploy.py --env staging|prod|local`.

A deploy of every workflow also removes what no workflow declares any more, but data (README).

--plan       print what would change (removals too), change nothing
--destroy    delete every resource tagged for the environment (asks unless --yes)
--seed-only  local only: restore the demo data and stop: the tables with a `seed` in the registry
             loaded again, and the lottery's past winners cleared (every employee can win
             again); what other runs recorded stays
--yes        answer yes: prod deploys and destroys ask for confirmation otherwise (on a terminal;
             without one they refuse, exit 2)

Exit 0 when done, 1 when a deploy fails or the question is answered no, 2 for bad options or
environment (no credentials, nothing answering, a question without a terminal).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

import infra
from infra.environments import access_problem
from infra.localstart import ensure_running, one_at_a_time
from workflows.registry import Workflow


def confirm(question: str, yes: bool, show: Callable[[], str] = lambda: "") -> bool:
    """Ask `question` on a terminal, after `show()` has printed what it asks about (and said
    what to add to the question); ConfigError without a terminal to ask on."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise infra.ConfigError(f"{question} Refusing without a terminal; pass --yes.")
    return input(f"{question}{show()} Type 'yes' to go on: ").strip().lower() == "yes"


class Removals:
    """What a prod deploy deletes, listed before the user confirms it: the deploy then makes those
    deletions only (not one that appeared since) and does not list them again."""

    def __init__(self, env: infra.Environment, only: list[str] | None) -> None:
        self.env, self.only = env, only
        self.listed: list[infra.Change] | None = None  # None until shown

    def show(self) -> str:
        """Print them; what to add to the question."""
        self.listed = [] if self.only else infra.removals(self.env)  # a --workflow deploy removes nothing
        n = len(self.listed)
        return f" It deletes {n} resource(s) no workflow declares (listed above)." if n else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", required=True, help="an environment of environments.toml")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--plan", action="store_true", help="show what would change; change nothing")
    mode.add_argument("--destroy", action="store_true", help="delete the environment's resources")
    mode.add_argument(
        "--seed-only",
        action="store_true",
        help="restore the demo data only (local): load it again, clear the lottery's past winners",
    )
    parser.add_argument(
        "--workflow", action="append", help="deploy only this workflow (repeatable); removes nothing"
    )
    parser.add_argument("--no-seed", action="store_true", help="local: skip loading demo data")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)
    try:
        env = infra.load(args.env)
        chosen = infra.selected(args.workflow)
        if args.seed_only and not env.is_local:
            raise infra.ConfigError(
                f"--seed-only loads the demo data into the local cloud only (--env local), not {env.name}"
            )
        with one_at_a_time(env) if env.is_local else contextlib.nullcontext():
            return _run(args, env, chosen)
    except infra.ConfigError as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        problem = access_problem(error)  # nothing answering, or no credentials: said as elsewhere
        if problem is None:
            raise
        print(f"deploy: {problem}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, env: infra.Environment, chosen: list[Workflow]) -> int:
    # a local cloud started here would be empty: seeding needs the one the tables were deployed to
    if env.is_local and not (args.plan or args.destroy or args.seed_only):
        ensure_running(env)
    if args.destroy and not args.yes:
        # what needs no answer first (credentials, the endpoint): not learnt only after a yes (a
        # deploy asks once its own checks, these among them, have passed)
        infra.names_for(env)
    if args.seed_only:
        infra.seed(env, chosen, restore=True)
    elif args.destroy:
        if not confirm(f"Delete every resource of {env.app}-{env.name} in {env.region}?", args.yes):
            return 1
        infra.destroy(env)
    else:
        removals = Removals(env, args.workflow)

        def agreed() -> list[infra.Change] | None:  # asked once deploy's checks have passed
            return removals.listed if confirm(f"Deploy to {env.name}?", args.yes, removals.show) else None

        asking = env.confirm and not args.plan and not args.yes
        try:
            infra.deploy(env, plan=args.plan, only=args.workflow, ask=agreed if asking else None)
        except infra.Declined:
            return 1
        if env.is_local and not (args.plan or args.no_seed):
            infra.seed(env, chosen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
