"""Fires EventBridge Scheduler schedules and EventBridge scheduled rules (moto stores, never fires).

Reads them through the public APIs of the local cloud, so it needs no moto internals. Time is
whatever the caller says: `fire_due(at=...)` runs every schedule due at `at`, which lets a test
jump a day ahead; `start()` runs a background thread that calls it with the wall clock.
Missed occurrences between two calls are coalesced into one firing, as a paused clock would.
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

from localcloud.schedule_expr import ScheduleExpressionError, parse
from localcloud.ticker import Ticker

LOG = logging.getLogger(__name__)


@dataclass
class Firing:
    source: str  # schedule or rule ARN
    target: str
    at: datetime
    result: str  # execution ARN, "invoked", or an error text


class Scheduler:
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

    def start(self, interval: float = 1.0) -> None:
        self._ticker.start(interval)

    def halt(self) -> None:
        self._ticker.halt()

    def stop(self) -> None:
        self._ticker.stop()

    def reset(self) -> None:
        with self._lock:
            self._last.clear()
            self.history.clear()

    # -- internals --------------------------------------------------------------------------

    def _due(self, key: str, expression: str, tz: str, base: datetime, at: datetime) -> bool:
        since = self._last.get(key, base)
        self._last[key] = max(since, at)
        try:
            spec = parse(expression, tz)
        except ScheduleExpressionError:
            LOG.warning("%s: unsupported schedule expression %r", key, expression)
            return False
        when = spec.next_after(since, base)
        return when is not None and when <= at

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
                if not self._due(schedule["Arn"], expr, tz, base, at):
                    continue
                target = schedule["Target"]
                fired.append(self._fire(schedule["Arn"], target["Arn"], target.get("Input"), at))
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
            if not self._due(rule["Arn"], expr, "UTC", base, at):
                continue
            for target in events.list_targets_by_rule(Rule=rule["Name"]).get("Targets", []):
                payload = target.get("Input") or json.dumps(_scheduled_event(rule, at))
                fired.append(self._fire(rule["Arn"], target["Arn"], payload, at))
        return fired

    def _fire(self, source: str, target: str, payload: str | None, at: datetime) -> Firing:
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
            result = f"error: {exc}"
            LOG.warning("%s: firing %s failed: %s", source, target, exc)
        return Firing(source, target, at, result)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _scheduled_event(rule: dict[str, Any], at: datetime) -> dict[str, Any]:
    arn = rule["Arn"]
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": arn.split(":")[4],
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": arn.split(":")[3],
        "resources": [arn],
        "detail": {},
    }
