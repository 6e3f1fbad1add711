"""The engine benchmark (bench/engine.py) runs end to end: both engines, task-chain with its real
Lambda and with its Tasks mocked, and the floor; each measured through the API, as recorded, and as
recorded when not polled. Two runs each; the figures are not judged here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_engine_bench_prints_every_row_the_floor_and_its_command() -> None:
    args = ["--runs", "2", "--warmup", "0", "--only", "parallel4,task-chain"]
    out = subprocess.run(
        [sys.executable, "bench/engine.py", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout

    rows = {
        cells[0]: cells
        for line in out.splitlines()
        if line.startswith("| ") and not line.startswith("| definition")
        for cells in [[c.strip() for c in line.strip().strip("|").split("|")]]
    }
    assert set(rows) == {"parallel4", "task-chain", "task-chain, Tasks mocked"}, out
    for cells in rows.values():
        assert all(float(cells[i]) > 0 for i in (2, 3, 6, 7)), cells  # medians and p95s: both sides ran
        assert all(float(cells[i]) > 0 for i in (4, 5, 8, 9)), cells  # recorded, polled or not
        assert all(re.fullmatch(r"\**\d+\.\dx\**", c) for c in cells[12:]), cells
    assert re.search(
        r"floor \(.*\): moto alone [\d.]+ ms, local cloud [\d.]+ ms; recorded: [\d.]+ ms and [\d.]+ ms; "
        r"not polled: [\d.]+ ms and [\d.]+ ms",
        out,
    ), out
    assert "command: python bench/engine.py " + " ".join(args) in out
    # each row measured against ten times faster, all three ways, agreeing with its speed-up column
    measures = (
        ("through the API", 12),
        ("by recorded duration", 14),
        ("by recorded duration, not polled", 15),
    )
    for label, column in measures:
        [verdict] = re.findall(rf"^10x or more {label}: (.*); below: (.*)$", out, re.MULTILINE)
        met = [] if verdict[0] == "none" else verdict[0].split(" / ")
        short = dict(re.findall(r"(.+?) \((\d+\.\dx)\)(?: / |$)", verdict[1]))
        assert sorted(met + list(short)) == sorted(rows), verdict
        assert all(float(rows[name][column].strip("*x")) >= 10 for name in met), verdict
        assert all(rows[name][column].strip("*") == speed_up for name, speed_up in short.items()), verdict
