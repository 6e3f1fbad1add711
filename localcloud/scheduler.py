"""Fires EventBridge Scheduler schedules and EventBridge scheduled rules (moto stores, never fires).

Reads them through the public APIs of the local cloud, so it needs no moto internals. Time is
whatever the caller says: `fire_due(at=...)` runs every schedule due at `at`, which lets a test
jump a day ahead; `start()` runs a background thread that calls it with the wall clock.
Missed occurrences between two calls (a machine asleep, a test's jump) are coalesced into one
firing for the latest of them, as a paused clock would, with a warning naming the first one
skipped. A schedule's target input gets Scheduler's context attributes filled in as AWS does,
`<aws.scheduler.scheduled-time>` being that occurrence, not the time it was fired at: a run late
for its occurrence still knows which one it stands for. A start that fails is dropped at once, and
counted in the schedule group's `AWS/Scheduler InvocationDroppedCount` (alarms.py).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from localcloud import alarms
from localcloud.schedule_expr import ScheduleExpressionError, parse
from localcloud.ticker import Ticker, Ticking

LOG = logging.getLogger(__name__)
_FAILED = "error: "  # a firing's result when its start failed


@dataclass
class Firing:
    source: str  # schedule or rule ARN
    target: str
    at: datetime
    result: str  # execution ARN, "invoked", or an error text
    scheduled: datetime  # the occurrence fired for (the latest one due at `at`)


class Scheduler(Ticking):
    interval = 1.0

    def __init__(self, client: Callable[[str], Any]) -> None:
        self._client = client
        self._last: dict[str, datetime] = {}  # source ARN -> time up to which it was evaluated
        self._lock = threading.Lock()
        self._ticker = Ticker("localcloud-scheduler", self.fire_due, "scheduler tick failed")
        self.history: list[Firing] = []

    # -- public interface -------------------------------------------------------------------

    def fire_due(self, at: datetime | None = None) -> list[Firing]:
        """Fire every enabled schedule and scheduled rule with an occurrence up to `at` (default now)."""
        at = _aware(at or datetime.now(UTC))
        with self._lock:
            fired = self._schedules(at) + self._rules(at)
            self.history.extend(fired)
        return fired

    tick = fire_due

    def reset(self) -> None:
        with self._lock:
            self._last.clear()
            self.history.clear()

    # -- internals --------------------------------------------------------------------------

    def _due(
        self,
        key: str,
        expression: str,
        tz: str,
        base: datetime,
        at: datetime,
        changed: datetime | None = None,
    ) -> datetime | None:
        """The latest occurrence due since the last look, if any: the one to fire for. A schedule
        enabled (or changed) since counts from then, as Scheduler does: what it missed while
        disabled is not due (a test firing at a time before the change counts from `base`)."""
        since = self._last.get(key, base)
        if changed is not None and changed <= at:
            since = max(since, changed)
        self._last[key] = max(since, at)
        try:
            spec = parse(expression, tz)
        except ScheduleExpressionError:
            LOG.warning("%s: unsupported schedule expression %r", key, expression)
            return None
        latest = spec.last_until(since, at, base)
        # the first one only when one is due: every tick asks every schedule, and most have none
        first = spec.next_after(since, base) if latest is not None else None
        if first is not None and latest is not None and first < latest:
            LOG.warning("%s: missed occurrences from %s on coalesced into the one of %s", key, first, latest)
        return latest

    def _schedules(self, at: datetime) -> list[Firing]:
        scheduler = self._client("scheduler")
        fired = []
        for page in scheduler.get_paginator("list_schedules").paginate(State="ENABLED"):
            for summary in page["Schedules"]:
                group = summary.get("GroupName", "default")
                schedule = scheduler.get_schedule(Name=summary["Name"], GroupName=group)
                base = _aware(schedule.get("StartDate") or schedule.get("CreationDate") or at)
                end = schedule.get("EndDate")
                if end is not None and _aware(end) < at:
                    continue
                expr, tz = schedule["ScheduleExpression"], schedule.get("ScheduleExpressionTimezone", "UTC")
                changed = schedule.get("LastModificationDate")
                when = self._due(schedule["Arn"], expr, tz, base, at, _aware(changed) if changed else None)
                if when is None:
                    continue
                target = schedule["Target"]
                payload = _with_context(target.get("Input"), schedule["Arn"], when)
                firing = self._fire(schedule["Arn"], target["Arn"], payload, at, when)
                if firing.result.startswith(_FAILED):  # dropped: the retries it would make are not made
                    alarms.put(
                        firing.source,
                        "AWS/Scheduler",
                        "InvocationDroppedCount",
                        {"ScheduleGroup": group},
                        at=at.timestamp(),
                    )
                fired.append(firing)
                if schedule.get("ActionAfterCompletion") == "DELETE" and expr.startswith("at("):
                    scheduler.delete_schedule(Name=summary["Name"], GroupName=group)
        return fired

    def _rules(self, at: datetime) -> list[Firing]:
        events = self._client("events")
        fired = []
        for rule in events.list_rules().get("Rules", []):
            expr = rule.get("ScheduleExpression")
            if not expr or rule.get("State") != "ENABLED":
                continue
            # moto keeps no creation time for rules: the first look starts the clock.
            base = self._last.get(rule["Arn"], at)
            if rule["Arn"] not in self._last:
                self._last[rule["Arn"]] = base
                continue
            when = self._due(rule["Arn"], expr, "UTC", base, at)
            if when is None:
                continue
            for target in events.list_targets_by_rule(Rule=rule["Name"]).get("Targets", []):
                payload = target.get("Input") or json.dumps(_scheduled_event(rule, when))
                fired.append(self._fire(rule["Arn"], target["Arn"], payload, at, when))
        return fired

    def _fire(
        self, source: str, target: str, payload: str | None, at: datetime, scheduled: datetime
    ) -> Firing:
        payload = payload or "{}"
        try:
            if ":states:" in target and ":stateMachine:" in target:
                response = self._client("stepfunctions").start_execution(
                    stateMachineArn=target, input=payload
                )
                result = response["executionArn"]
            elif ":lambda:" in target:
                self._client("lambda").invoke(FunctionName=target, InvocationType="Event", Payload=payload)
                result = "invoked"
            else:
                result = f"unsupported target {target}"
                LOG.warning("%s: %s", source, result)
        except Exception as exc:  # record and go on, as the service does (it would retry, then drop)
            result = f"{_FAILED}{exc}"
            LOG.warning("%s: firing %s failed: %s", source, target, exc)
        return Firing(source, target, at, result, scheduled)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _with_context(payload: str | None, schedule: str, scheduled: datetime) -> str | None:
    """The target input with EventBridge Scheduler's context attributes replaced (one attempt)."""
    if payload is None:
        return None
    values = {
        "schedule-arn": schedule,
        "scheduled-time": _utc_text(scheduled),
        "execution-id": uuid.uuid4().hex[:16],
        "attempt-number": "1",
    }
    for name, value in values.items():
        payload = payload.replace(f"<aws.scheduler.{name}>", value)
    return payload


def _utc_text(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _scheduled_event(rule: dict[str, Any], at: datetime) -> dict[str, Any]:
    arn = rule["Arn"]
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": arn.split(":")[4],
        "time": _utc_text(at),
        "region": arn.split(":")[3],
        "resources": [arn],
        "detail": {},
    }
