"""IAM actions checked against the operations botocore knows, so that a misspelt grant is named by
`check` rather than by an AccessDenied in the middle of a run (IAM accepts any action name)."""

from __future__ import annotations

import fnmatch
from functools import cache

import botocore.session

from workflows.registry import likely

# IAM's service prefix -> botocore's service name, where they differ.
SERVICES = {"states": "stepfunctions", "monitoring": "cloudwatch", "email": "ses"}
# Actions IAM defines that are no API operation's name (Invoke is granted as lambda:InvokeFunction,
# ListObjects as s3:ListBucket...).
NOT_OPERATIONS = frozenset(
    (
        "lambda:InvokeFunction",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:ListBucketMultipartUploads",
        "s3:GetObjectVersion",
        "s3:DeleteObjectVersion",
        "dynamodb:ConditionCheckItem",
    )
)


@cache
def _services() -> frozenset[str]:
    return frozenset(botocore.session.get_session().get_available_services())


@cache
def actions(prefix: str) -> tuple[str, ...]:
    """Every action of an IAM service prefix (`dynamodb:GetItem`...); empty for no known service."""
    service = SERVICES.get(prefix, prefix)
    if service not in _services():
        return ()
    model = botocore.session.get_session().get_service_model(service)
    own = (a for a in NOT_OPERATIONS if a.startswith(f"{prefix}:"))
    return tuple(sorted({f"{prefix}:{name}" for name in model.operation_names} | set(own)))


def action_problem(action: str) -> str | None:
    """What is wrong with an action as a grant names it, with the likely one; None when IAM knows it.
    Read as IAM reads it: case aside, `*` and `?` as wildcards, which must match some action."""
    if action == "*":
        return None
    prefix, _, name = action.partition(":")
    if not name:
        return f"{action!r} is not <service>:<action>"
    known = actions(prefix.lower())
    if not known:
        prefixes = sorted({*_services(), *SERVICES} - set(SERVICES.values()))
        return f"{action!r}: no service {prefix!r}{_did_you_mean(likely(prefix.lower(), prefixes))}"
    pattern = f"{prefix}:{name}".lower()
    if any(fnmatch.fnmatchcase(a.lower(), pattern) for a in known):
        return None
    if "*" in name or "?" in name:
        return f"{action!r} matches no {prefix} action"
    by_lower = {a.lower(): a for a in known}
    close = likely(pattern, by_lower)
    return f"{action!r} is not a {prefix} action{_did_you_mean(close and by_lower[close])}"


def _did_you_mean(close: str | None) -> str:
    return f"; did you mean {close!r}?" if close else ""
