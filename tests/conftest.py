"""Fixtures shared by all tests: the local cloud, started once per session, in-process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from localcloud import LocalCloud
from tests import counters


@pytest.fixture(scope="session")
def local_cloud() -> Iterator[LocalCloud]:
    """The local cloud on a free port; boto3 clients created after this point go to it."""
    cloud = LocalCloud(port=0).start()
    counters.count_faults(cloud.lambda_runtime)  # for the session's quality summary
    saved = {k: os.environ.get(k) for k in cloud.env()}
    os.environ.update(cloud.env())
    try:
        yield cloud
    finally:
        cloud.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def cloud(local_cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> LocalCloud:
    """The session's local cloud, emptied before the test (resources, faults, schedules, checkpoints)."""
    local_cloud.reset()
    # Another fixture (unit tests' mock_aws) may have changed them for its own test.
    for key, value in local_cloud.env().items():
        monkeypatch.setenv(key, value)
    return local_cloud


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No AWS credentials anywhere boto3 looks (nor the instance metadata service, which would wait)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The bad-input and fault counts of the session (tests/counters.py)."""
    if counters.inputs_tried or counters.faults_injected or counters.loss_checks:
        terminalreporter.section("quality")
        for text in counters.reports:
            terminalreporter.write_line(text)
        terminalreporter.write_line(counters.summary())
