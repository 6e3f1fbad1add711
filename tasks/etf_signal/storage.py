"""S3 layout of etf-signal: prices/<date>/<ts_code>.json and signals/<date>/report.{json,txt}."""

from __future__ import annotations

import json
import os
from typing import Any

from tasks.shared import clients

PRICES_PREFIX = "prices/"
SIGNALS_PREFIX = "signals/"


def bucket() -> str:
    return os.environ["REPORTS_BUCKET"]


def prices_key(date: str, ts_code: str) -> str:
    return f"{PRICES_PREFIX}{date}/{ts_code}.json"


def report_key(date: str, kind: str) -> str:
    return f"{SIGNALS_PREFIX}{date}/report.{kind}"


def put(key: str, body: str, content_type: str) -> None:
    clients.client("s3").put_object(Bucket=bucket(), Key=key, Body=body.encode(), ContentType=content_type)


def get_text(key: str) -> str:
    return str(clients.client("s3").get_object(Bucket=bucket(), Key=key)["Body"].read().decode())


def get_json(key: str) -> Any:
    return json.loads(get_text(key))


def find_json(key: str) -> Any:
    """The document at `key`, or None when there is none (S3 says so only to a caller that may
    list the bucket: to others it answers 403)."""
    return find_json_tagged(key)[0]


def find_json_tagged(key: str) -> tuple[Any, str | None]:
    """The document at `key` and its ETag, to write it back only if it is still that version;
    (None, None) when there is none."""
    s3 = clients.client("s3")
    try:
        found = s3.get_object(Bucket=bucket(), Key=key)
    except s3.exceptions.NoSuchKey:
        return None, None
    return json.loads(found["Body"].read()), str(found["ETag"])


def put_unless_changed(key: str, body: str, content_type: str, etag: str | None) -> bool:
    """Writes `key` only if it is still the version read (`etag`), or still absent (None); False
    when another writer got there first (S3 answers 412, or 409 to two conditional writes at once)."""
    s3 = clients.client("s3")
    condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
    try:
        s3.put_object(Bucket=bucket(), Key=key, Body=body.encode(), ContentType=content_type, **condition)
    except s3.exceptions.ClientError as error:
        if error.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"):
            return False
        raise
    return True
