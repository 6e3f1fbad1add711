"""The engine benchmark (bench/engine.py) runs end to end: both engines, task-chain with its real
Lambda and with its Tasks mocked, and the floor; each measured through the API, as recorded, and as
recorded when not polled. Two runs each; the figures are not judged here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
import engine  # noqa: E402 (bench/ is not a package)


def _tables(out: str) -> list[list[list[str]]]:
    """The rows of each markdown table printed, without their header and rule."""
    return [table[2:] for table in engine.markdown_tables(out)]


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

    ours, others = _tables(out)
    rows = {cells[0]: cells for cells in ours}
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

    # the bound through the API: moto alone's median over the local floor's time outside its engine
    api, recorded = re.search(r"local cloud ([\d.]+) ms; recorded: [\d.]+ ms and ([\d.]+) ms", out).groups()  # type: ignore[union-attr]
    overhead = float(api) - float(recorded)
    [bounds] = re.findall(
        r"^through the API, the most an engine taking no time could show .*: (.*)$", out, re.M
    )
    bound = dict(b.rsplit(" ", 1) for b in bounds.split(" / "))
    assert set(bound) == {"parallel4", "task-chain"}, bounds
    for name, x in bound.items():  # both floors are printed to 0.1 ms
        assert (
            abs(float(x.rstrip("x")) - float(rows[name][2]) / overhead) <= 0.1 * float(x.rstrip("x")) + 0.05
        ), bounds

    # the same rows beside the other engines' figures, quoted from ../shared/bench/README.md
    columns, quoted = engine.quoted_engines(engine.DEFAULT_BENCH)
    node = columns.index("aws-local-stepfunctions (Node 20)")
    assert [cells[0] for cells in others] == list(rows), out
    for cells in others:
        name = cells[0]
        assert cells[1:3] == [rows[name][8], rows[name][9]], cells  # recorded, polled or not
        assert [float(c) for c in cells[3:-1]] == quoted[name.split(",")[0]], cells
        by_node = quoted[name.split(",")[0]][node]
        # the ratio of the unrounded median: within what rounding to 0.1 ms and to 0.1x can move it
        assert (
            abs(float(cells[-1].rstrip("x")) - float(cells[2]) / by_node) <= 0.05 / by_node + 0.05 + 1e-9
        ), cells  # as rounded


def test_the_other_engines_are_read_from_the_shared_readme_table_of_figures(tmp_path: Path) -> None:
    figures = "\n".join(f"| {name} (a note) | 1.5 | 0.25 |" for name in engine.BENCHES)
    (tmp_path / "README.md").write_text(
        "| definition | what |\n|---|---|\n| pass100 | 100 Pass states |\n\ntext\n\n"
        f"| definition | engine A | aws-local-stepfunctions (Node 20) |\n|---|---|---|\n{figures}\n"
    )
    columns, quoted = engine.quoted_engines(tmp_path)
    assert columns == ["engine A", "aws-local-stepfunctions (Node 20)"]
    assert quoted == {name: [1.5, 0.25] for name in engine.BENCHES}
    assert engine.quoted_engines(tmp_path / "elsewhere") == ([], {})


def test_an_unknown_definition_or_a_bench_dir_without_them_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Said before any process starts, not as the tracebacks of the child and of its parent."""
    with pytest.raises(SystemExit) as refused:
        engine.main(["--runs", "1", "--only", "pass100,nope"])
    assert refused.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "python bench/engine.py: error: --only: unknown definition nope; "
        "the definitions: pass100, choice-loop, parallel4, map100, task-chain"
    )
    (tmp_path / "pass100.asl.json").write_text("{}")  # its input is missing
    assert engine.main(["--runs", "1", "--only", "pass100", "--bench-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"no engine bench definitions at {tmp_path}: pass100.input.json missing (set --bench-dir)\n"
    )
