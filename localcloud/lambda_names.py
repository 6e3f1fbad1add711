"""Lambda functions named by a partial ARN, as Lambda accepts them.

Lambda takes a function as a name (`my-function`, `my-function:live`), a whole ARN, or a partial
ARN (`123456789012:function:my-function[:live]`). moto's lookup matches names and whole ARNs
only (a partial ARN would fail inside it, with a 500); here a partial ARN is made whole, in the
region of the backend that looks it up, before moto's lookup reads it. The same reading of a
name serves IAM's checks and the runtime's invoked ARN.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from localcloud import pins

_STORAGE = pins.resolve("moto.awslambda.models", "LambdaStorage")
_LOOKUPS = ("get_function_by_name_or_arn_with_qualifier", "get_function_by_name_or_arn_forbid_qualifier")
for _lookup in _LOOKUPS:
    pins.resolve("moto.awslambda.models", "LambdaStorage", _lookup)
_PARTIAL = re.compile(r"\d{12}:function:[^:]+(:[^:]+)?")


def whole_arn(name: str, region: str, account: str, partition: str = "aws") -> str:
    """The function ARN that `name` stands for: a name (`fx`, `fx:live`), a partial ARN or an ARN."""
    if name.startswith("arn:"):
        return name
    if _PARTIAL.fullmatch(name):
        return f"arn:{partition}:lambda:{region}:{name}"
    return f"arn:{partition}:lambda:{region}:{account}:function:{name}"


def qualifier_of(name: str) -> str | None:
    """The alias or version `name` names, if any (`fx:live`, `ACCOUNT:function:fx:3`, an ARN)."""
    parts = whole_arn(name, "region", "account").split(":")
    return parts[7] if len(parts) > 7 else None


def _whole_arns(lookup: Callable[..., Any]) -> Callable[..., Any]:
    def by_name_or_arn(self: Any, name_or_arn: str, *args: Any, **kwargs: Any) -> Any:
        if _PARTIAL.fullmatch(name_or_arn):  # moto knows names and whole ARNs
            name_or_arn = whole_arn(name_or_arn, self.region_name, self.account_id, self.partition)
        return lookup(self, name_or_arn, *args, **kwargs)

    by_name_or_arn.__localcloud_original__ = lookup  # type: ignore[attr-defined]
    return by_name_or_arn


def install() -> None:
    """Idempotent."""
    for name in _LOOKUPS:
        setattr(_STORAGE, name, _whole_arns(pins.original(getattr(_STORAGE, name))))
