"""The local cloud reproduces the executions recorded on AWS at least as well as last recorded.

Runs every case of the corpus (../shared/conformance beside the checkout, or
$LOCALCLOUD_CONFORMANCE_DIR) on the session's local cloud and compares the score with
localcloud/conformance/baseline.json (written by `python -m localcloud.conformance --record`).
"""

from __future__ import annotations

import logging

import pytest

from localcloud import LocalCloud
from localcloud.conformance import runner

CORPUS = runner.corpus_dir()


@pytest.mark.skipif(
    not (CORPUS / "compare.py").exists(),
    reason=f"conformance corpus not found at {CORPUS} (set ${runner.CORPUS_ENV} to run it)",
)
@pytest.mark.slow
def test_score_does_not_drop_below_the_recorded_figure(local_cloud: LocalCloud) -> None:
    baseline = runner.load_baseline()
    assert baseline is not None, (
        "no localcloud/conformance/baseline.json: run python -m localcloud.conformance --record"
    )
    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    compare = runner.load_compare(CORPUS)
    outcomes = runner.Runner(local_cloud, compare).run(compare.load_cases(str(CORPUS / "cases")))
    total = runner.score(outcomes)["total"]
    now_missing = sorted({o.name for o in outcomes if not o.result_ok} - set(baseline.get("misses", [])))
    assert total["result"] >= baseline["total"]["result"], (
        f"status+output/error matches fell to {total['result']}/{total['cases']} "
        f"(recorded {baseline['total']['result']}); newly failing: {now_missing[:10]}"
    )
    assert total["events"] >= baseline["total"]["events"], (
        f"event-sequence matches fell to {total['events']}/{total['with_events']} "
        f"(recorded {baseline['total']['events']})"
    )
