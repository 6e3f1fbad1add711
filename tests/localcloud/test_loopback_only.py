"""The local cloud refuses what a web page of another site sends it, and serves this machine's
programs and pages as before."""

from __future__ import annotations

import http.client
import json
import uuid

import pytest

from localcloud import LocalCloud
from localcloud.loopback_only import loopback_origin

# what a page's script can sign with any keys: the local cloud checks none
_SIGNED = (
    "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0"
)


def create_table(cloud: LocalCloud, name: str, headers: dict[str, str]) -> tuple[int, str, dict[str, str]]:
    """DynamoDB's CreateTable as a browser would send it, with the given Host or Origin."""
    body = json.dumps(
        {
            "TableName": name,
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }
    )
    connection = http.client.HTTPConnection(cloud.host, cloud.port, timeout=10)
    try:
        connection.request(
            "POST",
            "/",
            body,
            {
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": "DynamoDB_20120810.CreateTable",
                "Authorization": _SIGNED,
                **headers,
            },
        )
        answer = connection.getresponse()
        return answer.status, answer.read().decode(), dict(answer.getheaders())
    finally:
        connection.close()


def tables(cloud: LocalCloud) -> list[str]:
    names: list[str] = cloud.client("dynamodb").list_tables()["TableNames"]
    return names


def test_a_page_of_another_site_is_refused_and_nothing_is_made(cloud: LocalCloud) -> None:
    name = f"foreign-{uuid.uuid4().hex[:8]}"
    status, body, _ = create_table(cloud, name, {"Origin": "https://evil.example"})
    assert (status, body) == (
        403,
        "a web page of https://evil.example may not use the local cloud: only programs and pages of "
        "this machine may",
    )
    # a sandboxed frame of any site says "null"
    assert create_table(cloud, name, {"Origin": "null"})[0] == 403
    assert name not in tables(cloud)


def test_a_site_whose_name_resolves_to_this_machine_is_refused(cloud: LocalCloud) -> None:
    """DNS rebinding: the page is of the same origin as far as the browser knows, so it sends no
    Origin that gives it away; its Host does."""
    name = f"rebound-{uuid.uuid4().hex[:8]}"
    status, body, _ = create_table(cloud, name, {"Host": f"evil.example:{cloud.port}"})
    assert status == 403
    assert body.startswith(f"Host 'evil.example:{cloud.port}' is not this machine's name: ")
    assert "the local cloud answers to 127.0.0.1, localhost and *.localhost (a web page whose" in body
    assert name not in tables(cloud)


def moto_api_get(cloud: LocalCloud, path: str, headers: dict[str, str]) -> tuple[int, str]:
    connection = http.client.HTTPConnection(cloud.host, cloud.port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": f"localhost:{cloud.port}", **headers})
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()


@pytest.mark.parametrize(
    "headers",
    [
        # <img src="http://localhost:4566/moto-api/seed?a=1"> on https://evil.example: no Origin
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Referer": "https://evil.example/"},
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},  # a link, its Referer hidden
    ],
)
def test_a_get_of_a_page_of_another_site_is_refused(cloud: LocalCloud, headers: dict[str, str]) -> None:
    """moto acts on some GETs (its recorder's start and replay, its seed), which a page of any
    site may send without Origin: an image, a script, a link."""
    status, body = moto_api_get(cloud, "/moto-api/seed?a=1", headers)
    assert status == 403
    origin = "https://evil.example" if "Referer" in headers else "null"
    assert body.startswith(f"a web page of {origin} may not use the local cloud")


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "none"},  # typed into the address bar
        {"Sec-Fetch-Site": "same-site"},  # a page of localhost, another port
        {"Sec-Fetch-Site": "cross-site", "Referer": "http://127.0.0.1:3000/app"},  # localhost from 127.0.0.1
    ],
)
def test_a_get_of_this_machine_s_pages_is_served(cloud: LocalCloud, headers: dict[str, str]) -> None:
    assert moto_api_get(cloud, "/moto-api/seed?a=1", headers) == (200, "")


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a program: boto3, the CLI, the Lambda workers
        {"Host": "localhost:4566"},
        {"Host": "tables.localhost:4566"},  # S3's virtual-host style
        {"Origin": "http://localhost:3000"},  # a front end served on this machine
        {"Origin": "http://127.0.0.1:8080"},
        {"Origin": "http://[::1]:5173"},
        {"Origin": "http://app.localhost"},
    ],
)
def test_this_machine_s_programs_and_pages_are_served(cloud: LocalCloud, headers: dict[str, str]) -> None:
    name = f"local-{uuid.uuid4().hex[:8]}"
    status, body, answer_headers = create_table(cloud, name, headers)
    assert status == 200, body
    assert name in tables(cloud)
    if "Origin" in headers:  # moto's CORS answer lets the page read it
        assert answer_headers["Access-Control-Allow-Origin"] == headers["Origin"]


def test_only_origins_of_this_machine_are_its_pages() -> None:
    assert loopback_origin("http://localhost")
    assert loopback_origin("https://app.localhost:8443")
    assert not loopback_origin("http://localhost.evil.example")
    assert not loopback_origin("http://127.0.0.1.evil.example")
    assert not loopback_origin("http://evil.example/?127.0.0.1")
    assert not loopback_origin("null")
