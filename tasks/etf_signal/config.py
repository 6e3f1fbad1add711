"""The fund list and strategy parameters (`data/funds.json`): configuration shipped with the code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

CONFIG_FILE = Path(__file__).resolve().parent / "data" / "funds.json"


@dataclass(frozen=True)
class Strategy:
    short_window: int
    long_window: int
    rsi_period: int
    history_days: int


@cache
def _config() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CONFIG_FILE.read_text())
    return data


def funds() -> list[dict[str, str]]:
    return [dict(f) for f in _config()["funds"]]


def strategy() -> Strategy:
    return Strategy(**_config()["strategy"])
