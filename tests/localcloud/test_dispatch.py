"""The server's request path reads moto's module list once, and answers the same."""

import errno
import os
import socket
import threading
from unittest import mock

import moto.backends

from localcloud import LocalCloud, dispatch


def test_the_module_list_is_read_once_and_unchanged(local_cloud: LocalCloud) -> None:
    dispatch.install()
    local_cloud.client("sns").list_topics()  # a request goes through the dispatcher
    listed = list(dispatch._list_of_moto_modules())
    with mock.patch.object(os, "listdir", side_effect=AssertionError("listed again")):
        assert list(moto.backends.list_of_moto_modules()) == listed
    assert "stepfunctions" in listed


class Execution:  # its name prefixes the shape's members: moto also looks `executionArn` up as `arn`
    def __init__(self, arn: str) -> None:
        self.arn = arn
        self.status = "RUNNING"


class Other:
    def __init__(self, arn: str) -> None:
        self.execution_arn = arn
        self.status = "SUCCEEDED"


class WithAliases:
    class Meta:
        serialization_aliases = {"executionArn": "where"}

    def __init__(self, arn: str) -> None:
        self.where = arn
        self.status = "FAILED"


def _serialised(value: object) -> dict[str, str]:
    import json

    from moto.core.serialize import JSONSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    operation = get_service_model("stepfunctions").operation_model("DescribeExecution")
    body = JSONSerializer(operation, value_picker=XFormedAttributePicker()).serialize(value)["body"]
    parsed: dict[str, str] = json.loads(body)
    return parsed


def test_member_names_found_once_are_those_of_each_class_and_alias() -> None:
    """Serialising objects of different classes with the same shape, each in turn and again, finds
    each value where moto's chain of aliases finds it."""
    from moto.core.serialize import XFormedAttributePicker

    dispatch.install()
    values = [Other("arn:b"), Execution("arn:a"), WithAliases("arn:c"), {"executionArn": "arn:d"}]
    answers = [_serialised(value) for value in values + values]
    with mock.patch.object(
        XFormedAttributePicker,
        "get_possible_keys",
        XFormedAttributePicker.get_possible_keys.__localcloud_original__,
    ):
        moto_answers = [_serialised(value) for value in values]

    assert answers == moto_answers + moto_answers
    assert [answer.get("executionArn") for answer in answers[:4]] == ["arn:b", "arn:a", "arn:c", "arn:d"]
    assert [answer.get("status") for answer in answers[:3]] == ["SUCCEEDED", "RUNNING", "FAILED"]


def test_a_port_another_server_took_fails_the_start_instead_of_waiting_for_ever() -> None:
    """Two local clouds started at once both find the port free; the second to bind must fail."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        server = dispatch.MotoServer(ip_address="127.0.0.1", port=other.getsockname()[1], verbose=False)
        failed: list[OSError] = []

        def start() -> None:
            try:
                server.start()
            except OSError as error:
                failed.append(error)

        starting = threading.Thread(target=start, daemon=True)
        starting.start()
        starting.join(timeout=30)
    assert not starting.is_alive(), "start() still waits"
    assert [error.errno for error in failed] == [errno.EADDRINUSE]
