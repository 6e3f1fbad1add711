"""PutEvents answers an entry whose Detail is not a JSON object as EventBridge does: MalformedDetail."""

from __future__ import annotations

import json

from localcloud import LocalCloud


def test_only_entries_with_an_object_detail_are_put(cloud: LocalCloud) -> None:
    events = cloud.client("events")
    logs = cloud.client("logs")
    logs.create_log_group(logGroupName="/events/details")
    group_arn = f"arn:aws:logs:{cloud.region}:123456789012:log-group:/events/details"
    events.put_rule(Name="all-details", EventPattern=json.dumps({"source": ["details.test"]}))
    events.put_targets(Rule="all-details", Targets=[{"Id": "logs", "Arn": group_arn}])

    details = ['{"kept": 1}', '"a string"', "[1, 2]", "not json", '{"kept": 2}']
    answer = events.put_events(
        Entries=[{"Source": "details.test", "DetailType": "t", "Detail": d} for d in details]
    )

    assert answer["FailedEntryCount"] == 3
    codes = [entry.get("ErrorCode") for entry in answer["Entries"]]
    assert codes == [None, "MalformedDetail", "MalformedDetail", "MalformedDetail", None]
    assert all("EventId" in answer["Entries"][i] for i in (0, 4))
    streams = logs.describe_log_streams(logGroupName="/events/details")["logStreams"]
    delivered = [
        json.loads(event["message"])["detail"]
        for stream in streams
        for event in logs.get_log_events(
            logGroupName="/events/details", logStreamName=stream["logStreamName"]
        )["events"]
    ]
    assert sorted(d["kept"] for d in delivered) == [1, 2]
