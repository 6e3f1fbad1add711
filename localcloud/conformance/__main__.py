"""python -m localcloud.conformance [--cases DIR] [--feature F] [--match S] [--json] [--record]

Runs the AWS-recorded cases on an in-process local cloud and prints the score by feature, then
every miss with its reason. --record writes the figures to localcloud/conformance/baseline.json
(the floor tests/fidelity enforces); --json prints the outcomes as JSON instead of the table.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings

from localcloud.conformance import runner


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(allow_abbrev=False, prog="python -m localcloud.conformance")
    ap.add_argument(
        "--cases", help=f"corpus directory (default ${runner.CORPUS_ENV} or {runner.DEFAULT_CORPUS})"
    )
    ap.add_argument("--feature", help="only these features (comma separated)")
    ap.add_argument("--match", help="only cases whose file name contains this")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--json", action="store_true", help="print outcomes as JSON")
    ap.add_argument("--record", action="store_true", help="write the score to baseline.json")
    args = ap.parse_args(argv)

    corpus = runner.corpus_dir(args.cases)
    if not (corpus / "compare.py").exists():
        print(f"no conformance corpus at {corpus} (set --cases or ${runner.CORPUS_ENV})", file=sys.stderr)
        return 2
    # moto logs every failed state at ERROR; failures are what many cases are about
    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    # a case sends EventBridge a malformed detail on purpose
    warnings.filterwarnings("ignore", category=UserWarning, module="moto.events")
    compare = runner.load_compare(corpus)
    cases = runner.select(compare.load_cases(str(corpus / "cases")), args.feature, args.match)
    started = time.perf_counter()
    with runner.local_cloud() as cloud:
        outcomes = runner.Runner(cloud, compare, workers=args.workers).run(cases)
    seconds = time.perf_counter() - started
    command = "python -m localcloud.conformance " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.json:
        print(
            json.dumps(
                {
                    "score": runner.score(outcomes),
                    "seconds": round(seconds, 1),
                    "cases": [
                        {
                            "file": o.name,
                            "feature": o.feature,
                            "result": o.result_ok,
                            "events": o.events_ok if o.has_events else None,
                            "reason": None
                            if o.result_ok and (o.events_ok or not o.has_events)
                            else o.reason(),
                        }
                        for o in outcomes
                    ],
                },
                indent=1,
            )
        )
    else:
        print(runner.report(outcomes, seconds, command.strip()))
    if args.record:
        if args.feature or args.match:
            print("--record needs the whole corpus (no --feature/--match)", file=sys.stderr)
            return 2
        runner.write_baseline(outcomes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
