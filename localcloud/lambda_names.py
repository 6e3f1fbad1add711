"""Lambda functions named by a partial ARN, as Lambda accepts them.

Lambda takes a function as a name (`my-function`, `my-function:live`), a whole ARN, or a partial
ARN (`123456789012:function:my-function[:live]`). moto matches whole ARNs and names only: a
partial ARN failed inside its lookup with a 500 (and a Task naming one with States.Runtime).
Here a partial ARN is made whole, in the region of the backend that looks it up, before moto's
lookup reads it.
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


def whole(storage: Any, name_or_arn: str) -> str:
    if _PARTIAL.fullmatch(name_or_arn):
        return f"arn:{storage.partition}:lambda:{storage.region_name}:{name_or_arn}"
    return name_or_arn


def _whole_arns(lookup: Callable[..., Any]) -> Callable[..., Any]:
    def by_name_or_arn(self: Any, name_or_arn: str, *args: Any, **kwargs: Any) -> Any:
        return lookup(self, whole(self, name_or_arn), *args, **kwargs)

    by_name_or_arn.__localcloud_original__ = lookup  # type: ignore[attr-defined]
    return by_name_or_arn


def install() -> None:
    """Idempotent."""
    for name in _LOOKUPS:
        setattr(_STORAGE, name, _whole_arns(pins.original(getattr(_STORAGE, name))))
