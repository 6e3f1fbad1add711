"""EventBridge schedule expressions: `rate(5 minutes)`, `cron(0 18 ? * MON-FRI *)`, `at(2025-01-01T09:00:00)`.

AWS cron has six fields (minutes hours day-of-month month day-of-week year), days of the week
1-7 = SUN-SAT, and `?` in one of the two day fields; supported here: `*`, `?`, lists, ranges,
steps, names, `L` (last day of the month) and `N#K` (K-th weekday N of the month).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}


class ScheduleExpressionError(ValueError):
    pass


@dataclass(frozen=True)
class Rate:
    period: timedelta

    def next_after(self, after: datetime, base: datetime) -> datetime:
        """The first time base + k*period (k >= 1) strictly after `after`."""
        k = max(1, int((after - base) / self.period) + 1)
        when = base + k * self.period
        return when if when > after else when + self.period

    def last_until(self, after: datetime, until: datetime, base: datetime) -> datetime | None:
        """The last time base + k*period (k >= 1) after `after` and at or before `until`."""
        k = int((until - base) / self.period)
        when = base + k * self.period
        return when if k >= 1 and after < when <= until else None


@dataclass(frozen=True)
class At:
    when: datetime

    def next_after(self, after: datetime, base: datetime) -> datetime | None:
        return self.when if self.when > after else None

    def last_until(self, after: datetime, until: datetime, base: datetime) -> datetime | None:
        return self.when if after < self.when <= until else None


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    dom: str
    months: frozenset[int]
    dow: str
    years: frozenset[int] | None
    tz: tzinfo

    def next_after(self, after: datetime, base: datetime) -> datetime | None:
        local = after.astimezone(self.tz)
        day = local.date()
        for _ in range(366 * 5):
            if (
                (self.years is None or day.year in self.years)
                and day.month in self.months
                and self._day_ok(day)
            ):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        when = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.tz)
                        if when > after:
                            return when
            day += timedelta(days=1)
        return None

    def last_until(self, after: datetime, until: datetime, base: datetime) -> datetime | None:
        """The last occurrence after `after` and at or before `until`, searched backwards."""
        day, first = until.astimezone(self.tz).date(), after.astimezone(self.tz).date()
        while day >= first:
            if (
                (self.years is None or day.year in self.years)
                and day.month in self.months
                and self._day_ok(day)
            ):
                for hour in sorted(self.hours, reverse=True):
                    for minute in sorted(self.minutes, reverse=True):
                        when = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.tz)
                        if after < when <= until:
                            return when
            day -= timedelta(days=1)
        return None

    def _day_ok(self, day: date) -> bool:
        if self.dom != "?":
            last = calendar.monthrange(day.year, day.month)[1]
            if self.dom == "L":
                return bool(day.day == last)
            return day.day in _values(self.dom, 1, 31, {})
        weekday = (day.isoweekday() % 7) + 1  # AWS: 1 = Sunday
        if "#" in self.dow:
            wanted, nth = self.dow.split("#")
            return weekday == _atom(wanted, _DAYS) and (day.day - 1) // 7 + 1 == int(nth)
        return weekday in _values(self.dow, 1, 7, _DAYS)


def _atom(text: str, names: dict[str, int]) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise ScheduleExpressionError(f"unsupported cron value {text!r}")
    return int(text)


def _values(field: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    out: set[int] = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/")
            step = int(step_text)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-")
            start, end = _atom(a, names), _atom(b, names)
        else:
            start = _atom(part, names)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high):
            raise ScheduleExpressionError(f"cron value {part!r} out of range {low}-{high}")
        out.update(range(start, end + 1, step))
    return frozenset(out)


def parse(expression: str, timezone: str = "UTC") -> Rate | At | Cron:
    match = re.fullmatch(r"\s*(rate|cron|at)\((.*)\)\s*", expression)
    if not match:
        raise ScheduleExpressionError(f"not a schedule expression: {expression!r}")
    kind, body = match.group(1), match.group(2).strip()
    tz = ZoneInfo(timezone or "UTC")
    if kind == "rate":
        value, _, unit = body.partition(" ")
        if unit.strip() not in _UNITS or not value.isdigit() or int(value) < 1:
            raise ScheduleExpressionError(f"bad rate expression: {expression!r}")
        return Rate(timedelta(seconds=int(value) * _UNITS[unit.strip()]))
    if kind == "at":
        return At(datetime.fromisoformat(body).replace(tzinfo=tz))
    fields = body.split()
    if len(fields) != 6:
        raise ScheduleExpressionError(f"cron needs 6 fields, got {len(fields)}: {expression!r}")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleExpressionError(
            f"cron needs '?' in exactly one of day-of-month, day-of-week: {expression!r}"
        )
    if dow != "?" and "#" not in dow:
        _values(dow, 1, 7, _DAYS)  # validate now, not at the first firing
    if dom not in ("?", "L"):
        _values(dom, 1, 31, {})
    return Cron(
        minutes=_values(minutes, 0, 59, {}),
        hours=_values(hours, 0, 23, {}),
        dom=dom,
        months=_values(month, 1, 12, _MONTHS),
        dow=dow,
        years=None if year in ("*", "?") else _values(year, 1970, 2199, {}),
        tz=tz,
    )
