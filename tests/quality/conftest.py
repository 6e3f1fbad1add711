"""Quality tests: all five workflows deployed once for each test file, the console served over real
HTTP on loopback (with the workflows' own routes mounted, as API Gateway would serve them)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bench.load import serve
from console.app import create_app
from console.authorizer import local_token
from localcloud import LocalCloud
from tests.conftest import Inbox
from tests.workflows.conftest import Deployed, deploy_workflows
from workflows import WORKFLOWS


@dataclass
class Quality:
    app: Deployed
    url: str  # the console's base URL
    token: str  # a rider's ID token for the routes that need auth

    @property
    def env(self) -> Any:
        return self.app.env


# A file's, not the package's: under pytest-xdist a worker may run another package's tests, which
# empty the local cloud, between two files of this one, and pytest keeps a package's fixture alive.
@pytest.fixture(scope="module")
def quality(local_cloud: LocalCloud) -> Iterator[Quality]:
    app = deploy_workflows(local_cloud, *WORKFLOWS)
    with serve(create_app(app.env)) as url:
        yield Quality(app, url, local_token(app.env, "quality-rider"))


def app_tables(quality: Quality) -> list[str]:
    prefix = quality.env.resource_name("")
    return sorted(
        t for t in quality.app.client("dynamodb").list_tables()["TableNames"] if t.startswith(prefix)
    )


def app_buckets(quality: Quality) -> list[str]:
    prefix = quality.env.resource_name("")
    return sorted(
        b["Name"] for b in quality.app.client("s3").list_buckets()["Buckets"] if b["Name"].startswith(prefix)
    )


def app_topics(quality: Quality) -> list[str]:
    prefix = quality.env.resource_name("")
    arns = [t["TopicArn"] for t in quality.app.client("sns").list_topics()["Topics"]]
    return sorted(a for a in arns if a.rsplit(":", 1)[-1].startswith(prefix))


def inboxes(quality: Quality) -> dict[str, Inbox]:
    """An SQS inbox subscribed to each of the app's topics."""
    return {arn: quality.app.inbox(arn) for arn in app_topics(quality)}
