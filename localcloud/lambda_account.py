"""Lambda's GetAccountSettings for the local cloud, which moto (5.2) does not implement (it
answers 404, "Not yet implemented").

The account's quota of concurrent executions is AWS's default, 1000, or the one moto holds
PutFunctionConcurrency to when MOTO_LAMBDA_CONCURRENCY_QUOTA is set (moto refuses no reservation
otherwise); what is unreserved is what the reservations of the region's functions leave of it,
as on AWS. Deploy asks it before reserving concurrency (infra/functions.py).
"""

from __future__ import annotations

import json
import os
from typing import Any

from localcloud import pins

_RESPONSE = pins.resolve("moto.awslambda.responses", "LambdaResponse")
_URLS = pins.resolve("moto.awslambda.urls", "url_paths")
_PATH = r"{0}/(?P<api_version>[^/]+)/account-settings/?$"

# AWS's default quota of concurrent executions per account and region
DEFAULT_QUOTA = 1000
# AWS's limits on code size, as GetAccountSettings reports them
_CODE_LIMITS = {
    "TotalCodeSize": 80_530_636_800,
    "CodeSizeUnzipped": 262_144_000,
    "CodeSizeZipped": 52_428_800,
}


def quota() -> int:
    return int(os.environ.get("MOTO_LAMBDA_CONCURRENCY_QUOTA") or DEFAULT_QUOTA)


def account_settings(backend: Any) -> dict[str, Any]:
    """GetAccountSettings' answer for one account's functions in one region."""
    functions = list(backend.list_functions())
    reserved = sum(int(fn.reserved_concurrency or 0) for fn in functions)
    return {
        "AccountLimit": {
            **_CODE_LIMITS,
            "ConcurrentExecutions": quota(),
            "UnreservedConcurrentExecutions": quota() - reserved,
        },
        "AccountUsage": {
            "TotalCodeSize": sum(int(fn.code_size or 0) for fn in functions),
            "FunctionCount": len(functions),
        },
    }


def _get_account_settings(self: Any) -> tuple[int, dict[str, str], str]:
    return 200, {}, json.dumps(account_settings(self.backend))


def install() -> None:
    """Idempotent; before the server's Lambda application is made (it reads the paths once)."""
    _URLS[_PATH] = _RESPONSE.dispatch
    _RESPONSE.get_account_settings = _get_account_settings
