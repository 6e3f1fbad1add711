"""Trading signals and the day's report, as pure functions. Indicators come from talipp.

Strategy (parameters in data/funds.json):
- moving-average crossover: the short SMA crossing above the long SMA on the day is a golden
  cross (BUY), crossing below a death cross (SELL), anything else HOLD;
- RSI guards the crossover: no BUY when RSI says overbought (>= 70), no SELL when it says
  oversold (<= 30): the move is likely spent, so the signal is HOLD with the reason given;
- MACD's histogram is reported as momentum context, it does not decide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from talipp.indicators import MACD, RSI, SMA

OVERBOUGHT, OVERSOLD = 70.0, 30.0


def _last_two(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    return (values[-2] if len(values) > 1 else None), (values[-1] if values else None)


def crossover(closes: Sequence[float], short: int, long: int) -> dict[str, Any]:
    """SMA(short) against SMA(long) on the last two closes: golden, death or no cross."""
    short_ma, long_ma = SMA(short, list(closes)), SMA(long, list(closes))
    (s0, s1), (l0, l1) = _last_two(short_ma), _last_two(long_ma)
    cross = None
    if None not in (s0, s1, l0, l1):
        assert s0 is not None and s1 is not None and l0 is not None and l1 is not None
        if s0 <= l0 and s1 > l1:
            cross = "golden"
        elif s0 >= l0 and s1 < l1:
            cross = "death"
    trend = None if s1 is None or l1 is None else ("up" if s1 > l1 else "down")
    return {"ma_short": _round(s1), "ma_long": _round(l1), "cross": cross, "trend": trend}


def rsi(closes: Sequence[float], period: int) -> float | None:
    values = RSI(period, list(closes))
    return _round(values[-1]) if len(values) else None


def macd_histogram(closes: Sequence[float], fast: int = 12, slow: int = 26, signal: int = 9) -> float | None:
    values = MACD(fast, slow, signal, list(closes))
    last = values[-1] if len(values) else None
    return _round(last.histogram) if last is not None and last.histogram is not None else None


def decide(cross: str | None, rsi_value: float | None) -> tuple[str, str]:
    """(action, reason) from the crossover, guarded by RSI (see the module docstring)."""
    if cross == "golden":
        if rsi_value is not None and rsi_value >= OVERBOUGHT:
            return "HOLD", f"golden cross but RSI {rsi_value:.1f} overbought"
        return "BUY", "golden cross"
    if cross == "death":
        if rsi_value is not None and rsi_value <= OVERSOLD:
            return "HOLD", f"death cross but RSI {rsi_value:.1f} oversold"
        return "SELL", "death cross"
    return "HOLD", "no crossover"


def fund_signal(
    fund: Mapping[str, str], rows: Sequence[Mapping[str, Any]], short: int, long: int, period: int
) -> dict[str, Any]:
    """The signal of one fund from its daily rows (oldest first, the day last)."""
    closes = [float(r["close"]) for r in rows]
    ma = crossover(closes, short, long)
    rsi_value = rsi(closes, period)
    action, reason = decide(ma["cross"], rsi_value)
    return {
        "ts_code": fund["ts_code"],
        "name": fund["name"],
        "close": closes[-1],
        "pct_chg": rows[-1].get("pct_chg"),
        **ma,
        "rsi": rsi_value,
        "macd_histogram": macd_histogram(closes),
        "action": action,
        "reason": reason,
    }


def report(
    date: str,
    signals: Sequence[Mapping[str, Any]],
    missing: Sequence[Mapping[str, str]],
    strategy: Mapping[str, int],
    earlier: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The day's report. An `earlier` report of the same day and strategy keeps the funds this run
    did not signal: a second run (for fewer funds, or with a fund failing now) adds to what
    subscribers were sent instead of taking it away."""
    if earlier and earlier.get("strategy") == dict(strategy):
        signalled = {s["ts_code"] for s in signals}
        kept = [s for s in earlier["signals"] if s["ts_code"] not in signalled]
        signals = [*signals, *kept]
        signalled |= {s["ts_code"] for s in kept}
        missing = [m for m in missing if m["ts_code"] not in signalled]
        named = signalled | {m["ts_code"] for m in missing}
        missing = sorted(
            [*missing, *(m for m in earlier["missing"] if m["ts_code"] not in named)],
            key=lambda m: m["ts_code"],
        )
    return {
        "date": date,
        "strategy": dict(strategy),
        "summary": _counts(signals),
        "signals": sorted(
            (dict(s) for s in signals), key=lambda s: ("BUY", "SELL", "HOLD").index(s["action"])
        ),
        "missing": [dict(m) for m in missing],
    }


def subject(day: Mapping[str, Any], follow_up: bool = False) -> str:
    c = day["summary"]
    missing = f", {len(day['missing'])} missing" if day["missing"] else ""
    kind = " (follow-up)" if follow_up else ""
    return f"ETF signals {day['date']}{kind}: {c['BUY']} buy, {c['SELL']} sell, {c['HOLD']} hold{missing}"[
        :100
    ]


def text(day: Mapping[str, Any], follow_up: bool = False) -> str:
    s = day["strategy"]
    lines = [
        f"ETF signals for {day['date']} (SMA{s['short_window']}/SMA{s['long_window']} crossover, RSI{s['rsi_period']})",
        "",
    ]
    if follow_up:
        lines[1:1] = ["Follow-up: the funds missing from the earlier email of the day, fetched since.", ""]
    for sig in day["signals"]:
        lines.append(
            f"{sig['action']:<4} {sig['ts_code']} {sig['name']}: close {sig['close']:.3f}, "
            f"SMA {sig['ma_short']} / {sig['ma_long']}, RSI {sig['rsi']} ({sig['reason']})"
        )
    if day["missing"]:
        lines += ["", "Missing today (no signal computed):"]
        lines += [f"- {m['ts_code']} {m['name']}: {m['reason']}" for m in day["missing"]]
    return "\n".join(lines)


def only(day: Mapping[str, Any], funds: Sequence[str]) -> dict[str, Any]:
    """The day's report with only the signals of `funds` (a follow-up email's), still missing ones kept."""
    kept = [dict(s) for s in day["signals"] if s["ts_code"] in funds]
    return {**day, "signals": kept, "summary": _counts(kept)}


def _counts(signals: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return {a: sum(1 for s in signals if s["action"] == a) for a in ("BUY", "SELL", "HOLD")}


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)
