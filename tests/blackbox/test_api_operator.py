"""The admin plane as tools see it: the OpenAPI document validated and checked against the
server, and a Prometheus scrape through the real exposition-format parser (sqlmap:
test_external_auditors.py)."""
import json

import jsonschema
import pytest

from api_client import Api, admin_key, new_mac, scrape
from conftest import ROOT, YEALINK, Server

DOC = json.loads((ROOT / "api" / "openapi.json").read_text())
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    # The demo config ends with its [[admin]] table: these keys land in it.
    s = Server(tmp_path_factory.mktemp("operator"), "key_rate = 10000.0\nkey_burst = 10000.0\n")
    s.start()
    yield Api(s, admin_key(s))
    s.stop()


def schema(name):
    return {"$ref": f"#/components/schemas/{name}", "components": DOC["components"]}


def conforms(body, name):
    jsonschema.Draft202012Validator(schema(name)).validate(body)


def test_openapi_document_is_valid():
    assert DOC["openapi"] == "3.1.0" and DOC["info"]["title"] and DOC["info"]["version"]
    # OpenAPI 3.1 schemas are JSON Schema 2020-12.
    for name, s in DOC["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(s)
    ids = []
    for path, item in DOC["paths"].items():
        assert path.startswith("/")
        for method, op in item.items():
            if method == "parameters":
                continue
            assert method in METHODS, (path, method)
            assert op["responses"] and op["summary"], (path, method)
            ids.append(op["operationId"])
            params = {p["name"] for p in op.get("parameters", []) + item.get("parameters", []) if p["in"] == "path"}
            assert params == {seg[1:-1] for seg in path.split("/") if seg.startswith("{")}, (path, method)
    assert len(ids) == len(set(ids))
    # Every $ref resolves.
    text = json.dumps(DOC)
    for ref in set(part.split('"')[0] for part in text.split('"$ref": "')[1:]):
        node = DOC
        for key in ref.lstrip("#/").split("/"):
            node = node[key]


def test_served_document_is_the_repository_file(api):
    assert api.get("/api/v1/openapi.json", key=None).json() == DOC


def test_every_documented_operation_is_served(api):
    mac = new_mac()
    assert api.post("/api/v1/devices", {"mac": mac, "vendor": "yealink", "model": "T54W"}).status_code == 201
    values = {"mac": mac, "tenant": "demo", "kind": "url-token", "index": "1", "source": "192.0.2.1"}
    for path, item in DOC["paths"].items():
        for method in METHODS & set(item):
            r = api.request(method.upper(), path.format(**values))
            assert r.status_code != 405, (method, path, r.text)
            if r.status_code == 404:
                assert r.json()["detail"] != "no such resource", (method, path)


def test_responses_conform_to_the_document(api):
    conforms(api.get("/api/v1/devices").json(), "DevicePage")
    conforms(api.get(f"/api/v1/devices/{YEALINK}").json(), "Device")
    conforms(api.get("/api/v1/tenants").json(), "TenantList")
    conforms(api.get(f"/api/v1/devices/{YEALINK}/lines").json(), "LineList")
    conforms(api.get("/api/v1/bans").json(), "BanList")
    conforms(api.get("/api/v1/audit?limit=5").json(), "AuditPage")
    conforms(api.get("/readyz").json(), "Readiness")
    conforms(api.post(f"/api/v1/devices/{YEALINK}/credentials/url-token").json(), "DeviceActionResult")
    conforms(api.get("/api/v1/devices?limit=0").json(), "Problem")
    conforms(api.get("/api/v1/devices", key=None).json(), "Problem")



def test_prometheus_scrape_parses_and_counters_move(api):
    before = scrape(api)
    for _ in range(3):
        assert api.get("/api/v1/tenants").status_code == 200
    assert api.get("/api/v1/tenants", key="wrong").status_code == 401
    # A device request refused for an unknown device.
    server = api.server
    server.curl("/001565ffffff.cfg", mac=YEALINK)
    after = scrape(api)
    key = ("provgate_admin_requests_total", (("method", "GET"), ("route", "/api/v1/tenants"), ("status", "200")))
    assert after[key] - before.get(key, 0) == 3
    fail = ("provgate_admin_auth_failures_total", (("reason", "malformed key"),))
    assert after[fail] - before.get(fail, 0) == 1
    refusals = sum(v for (n, _), v in after.items() if n == "provgate_device_refusals_total")
    assert refusals >= 1
    for name in ("provgate_bans_active", "provgate_audit_batches_total",
                 "provgate_admin_request_duration_seconds_count"):
        assert any(n == name for n, _ in after), name
    assert ("provgate_fleet_cache_lookups_total", (("result", "hit"),)) in after
