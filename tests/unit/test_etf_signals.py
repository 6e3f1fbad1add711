"""ETF signals on known series: moving-average crossovers, RSI, the RSI guard, the report."""

from __future__ import annotations

import pytest

from tasks.etf_signal import config
from tasks.etf_signal.signals import crossover, decide, fund_signal, report, rsi, subject, text

# StockCharts' worked example of Wilder's 14-day RSI (closes of 20 days and the published RSI of
# days 15-20). Their table rounds the averages to 2 decimals, hence the 0.1 tolerance.
WILDER_CLOSES = [
    44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08,
    45.89, 46.03, 45.61, 46.28, 46.28, 46.00, 46.03, 46.41, 46.22, 45.64,
]  # fmt: skip
WILDER_RSI = [70.53, 66.32, 66.55, 69.41, 66.36, 57.97]


@pytest.mark.parametrize("days", range(15, 21))
def test_rsi_matches_wilders_worked_example(days: int) -> None:
    assert rsi(WILDER_CLOSES[:days], 14) == pytest.approx(WILDER_RSI[days - 15], abs=0.1)


def test_rsi_of_a_series_that_only_rises_or_only_falls() -> None:
    assert rsi([float(x) for x in range(1, 30)], 14) == 100.0
    assert rsi([float(x) for x in range(30, 1, -1)], 14) == 0.0
    assert rsi([1.0, 2.0], 14) is None


def test_a_short_average_crossing_above_the_long_one_is_a_golden_cross() -> None:
    # SMA2/SMA3 yesterday 4.5 < 4.67, today 5.5 > 5.33
    assert crossover([5, 5, 5, 4, 7], 2, 3) == {
        "ma_short": 5.5,
        "ma_long": 5.3333,
        "cross": "golden",
        "trend": "up",
    }


def test_a_short_average_crossing_below_the_long_one_is_a_death_cross() -> None:
    # SMA2/SMA3 yesterday 5.5 > 5.33, today 4.5 < 4.67
    assert crossover([5, 5, 5, 6, 3], 2, 3) == {
        "ma_short": 4.5,
        "ma_long": 4.6667,
        "cross": "death",
        "trend": "down",
    }


def test_a_steady_trend_is_no_crossover() -> None:
    assert crossover([1, 2, 3, 4, 5, 6], 2, 3)["cross"] is None
    assert crossover([1, 2, 3, 4, 5, 6], 2, 3)["trend"] == "up"


def test_averages_equal_yesterday_and_apart_today_have_crossed() -> None:
    # SMA2/SMA3 yesterday both 5.0; today 6.5 > 5.67 (golden) or 3.5 < 3.67 (death)
    assert crossover([5, 5, 4, 6, 7], 2, 3)["cross"] == "golden"
    assert crossover([5, 5, 4, 6, 1], 2, 3)["cross"] == "death"


def test_the_macd_histogram_is_positive_as_a_rise_gathers_pace_and_negative_as_a_fall_does() -> None:
    fund = {"ts_code": "510300.SH", "name": "CSI 300 ETF"}
    rising = fund_signal(fund, rows([100 + 0.05 * i * i for i in range(60)]), 11, 22, 14)
    falling = fund_signal(fund, rows([100 - 0.05 * i * i for i in range(60)]), 11, 22, 14)
    assert rising["macd_histogram"] > 0 > falling["macd_histogram"]


def test_too_short_a_history_gives_no_signal() -> None:
    assert crossover([1, 2], 2, 3) == {"ma_short": 1.5, "ma_long": None, "cross": None, "trend": None}


@pytest.mark.parametrize(
    ("cross", "rsi_value", "action"),
    [
        ("golden", 55.0, "BUY"),
        ("golden", 75.0, "HOLD"),  # overbought: the move is spent
        ("death", 45.0, "SELL"),
        ("death", 25.0, "HOLD"),  # oversold
        (None, 80.0, "HOLD"),
        ("golden", None, "BUY"),
        ("golden", 70.0, "HOLD"),  # overbought from 70 up
        ("golden", 69.99, "BUY"),
        ("death", 30.0, "HOLD"),  # oversold from 30 down
        ("death", 30.01, "SELL"),
    ],
)
def test_rsi_guards_the_crossover(cross: str | None, rsi_value: float | None, action: str) -> None:
    assert decide(cross, rsi_value)[0] == action


def rows(closes: list[float]) -> list[dict[str, float]]:
    return [{"close": c, "pct_chg": 0.0} for c in closes]


def test_a_fund_signal_and_the_days_report() -> None:
    fund = {"ts_code": "510300.SH", "name": "CSI 300 ETF"}
    buy = fund_signal(fund, rows([5, 5, 5, 4, 7]), 2, 3, 14)
    hold = fund_signal({**fund, "ts_code": "510500.SH"}, rows([1, 2, 3, 4, 5, 6]), 2, 3, 14)
    assert buy["action"] == "BUY" and buy["reason"] == "golden cross" and buy["close"] == 7
    strategy = {"short_window": 2, "long_window": 3, "rsi_period": 14, "history_days": 30}
    missing = [{"ts_code": "159915.SZ", "name": "ChiNext ETF", "reason": "TushareUnavailable"}]

    day = report("2026-11-20", [hold, buy], missing, strategy)

    assert day["summary"] == {"BUY": 1, "SELL": 0, "HOLD": 1}
    assert [s["ts_code"] for s in day["signals"]] == ["510300.SH", "510500.SH"]  # actions first
    assert subject(day) == "ETF signals 2026-11-20: 1 buy, 0 sell, 1 hold, 1 missing"
    body = text(day)
    assert "BUY  510300.SH CSI 300 ETF: close 7.000" in body
    assert "- 159915.SZ ChiNext ETF: TushareUnavailable" in body


def test_the_configured_funds_and_strategy_are_sane() -> None:
    funds, strategy = config.funds(), config.strategy()
    assert len({f["ts_code"] for f in funds}) == len(funds) >= 1
    assert strategy.short_window < strategy.long_window < strategy.history_days


def test_a_funds_signal_carries_the_days_change_not_an_earlier_one() -> None:
    days = [{"close": c, "pct_chg": float(i)} for i, c in enumerate([5, 5, 5, 4, 7])]
    assert fund_signal({"ts_code": "510300.SH", "name": "CSI 300 ETF"}, days, 2, 3, 14)["pct_chg"] == 4.0


STRATEGY = {"short_window": 2, "long_window": 3, "rsi_period": 14, "history_days": 30}


def signal(ts_code: str, action: str) -> dict[str, object]:
    return {"ts_code": ts_code, "name": ts_code, "action": action}


def gone(ts_code: str, reason: str = "TushareUnavailable") -> dict[str, str]:
    return {"ts_code": ts_code, "name": ts_code, "reason": reason}


def test_the_report_lists_buys_then_sells_then_holds_whatever_the_codes() -> None:
    day = report("2026-11-20", [signal("159915.SZ", "HOLD"), signal("510500.SH", "SELL"),
                                signal("512880.SH", "BUY")], [], STRATEGY)  # fmt: skip
    assert [s["action"] for s in day["signals"]] == ["BUY", "SELL", "HOLD"]


def test_a_second_run_replaces_the_funds_it_signals_again_and_keeps_the_rest() -> None:
    earlier = report("2026-11-20", [signal("510300.SH", "HOLD"), signal("510500.SH", "BUY")],
                     [gone("159915.SZ"), gone("512880.SH")], STRATEGY)  # fmt: skip

    again = report("2026-11-20", [signal("510300.SH", "SELL")], [gone("510500.SH")], STRATEGY, earlier)

    assert sorted((s["ts_code"], s["action"]) for s in again["signals"]) == [
        ("510300.SH", "SELL"),  # this run's signal, once
        ("510500.SH", "BUY"),  # signalled before, failing now: kept
    ]
    assert again["summary"] == {"BUY": 1, "SELL": 1, "HOLD": 0}
    assert [m["ts_code"] for m in again["missing"]] == ["159915.SZ", "512880.SH"]  # still missing


def test_a_report_of_another_strategy_is_replaced_not_merged() -> None:
    earlier = report("2026-11-20", [signal("510500.SH", "BUY")], [gone("159915.SZ")], STRATEGY)
    other = {**STRATEGY, "short_window": 5}

    again = report("2026-11-20", [signal("510300.SH", "HOLD")], [], other, earlier)

    assert [s["ts_code"] for s in again["signals"]] == ["510300.SH"] and again["missing"] == []
