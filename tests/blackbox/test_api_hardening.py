"""Regression tests of the admin plane's security review: secrets in variable views and
audit records, audit growth, tenant confinement of audit records, request framing and
connection exhaustion on the admin listener, refusals audited, reactivation rotating every
secret."""
import json
import socket
import ssl
import time

import pytest

from api_client import Api, admin_key, make_key, new_mac
from conftest import YEALINK, Server


@pytest.fixture
def api(tmp_path):
    s = Server(tmp_path)
    s.cli("tenant", "add", "other")
    s.start()
    yield Api(s, admin_key(s))
    s.stop()


def leaves(value):
    """Every scalar in a JSON value."""
    if isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from leaves(v)
    else:
        yield value


def test_secret_variables_are_masked_whatever_their_type_or_case(api):
    secrets = {"admin_password": 123456, "WEB_PASSWORD": "Sup3rSecret", "dect_access_code": "4711"}
    r = api.request("PATCH", f"/api/v1/devices/{YEALINK}/vars", json_body={"set": secrets, "force": True})
    assert r.status_code == 200, r.text
    support = api.with_key(make_key(api.server, "support"))
    r = support.get(f"/api/v1/devices/{YEALINK}/vars")
    assert r.status_code == 200, r.text
    got = r.json()["vars"]
    assert all(got[k] == "********" for k in secrets), got
    api.server.last_audit(reason="api PATCH /api/v1/devices/{mac}/vars")
    recorded = [v for record in api.server.audit() for v in leaves(record.get("detail"))]
    for value in secrets.values():
        assert value not in recorded and str(value) not in r.text, value
