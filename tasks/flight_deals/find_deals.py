"""Find Deals: the batch's records that match the deal rules, and the alert that summarises them.

Rules are configuration: JSON in the SSM parameter named by DEAL_RULES_PARAMETER (read at run
time, cached a few minutes per warm process); deals.DEFAULT_RULES_JSON when none is configured.
"""

from __future__ import annotations

from typing import Any

from tasks.flight_deals.deals import DEFAULT_RULES_JSON, DealRule, find_deals, parse_rules, summary
from tasks.flight_deals.schemas import VALID_RECORDS
from tasks.shared.errors import TaskError
from tasks.shared.handler import task
from tasks.shared.parameters import SettingMissing, setting
from tasks.shared.powertools import logger


class InvalidDealRules(TaskError):
    """The configured deal rules are not valid; the message names the rule and field."""


def rules() -> list[DealRule]:
    try:
        text = setting("DEAL_RULES_PARAMETER")
    except SettingMissing as error:
        logger.warning("no deal rules configured; using the default rule", extra={"reason": str(error)})
        text = DEFAULT_RULES_JSON
    try:
        return parse_rules(text)
    except ValueError as error:
        raise InvalidDealRules(str(error)) from None


@task(VALID_RECORDS)
def handler(batch: dict[str, Any]) -> dict[str, Any]:
    deals = find_deals(batch["records"], rules())
    subject, message = summary(batch["batch_id"], deals) if deals else ("", "")
    return {"batch_id": batch["batch_id"], "count": len(deals), "subject": subject, "message": message}
