"""The server's request path reads moto's module list once, and answers the same."""

import os
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
