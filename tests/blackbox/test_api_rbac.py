"""The role matrix of the admin API, generated: every route x every key (role and scope) x
an object of the key's own tenant and of another tenant -> the expected answer. A role
without the permission gets 403 whatever the object; a tenant-scoped key asking for
another tenant's object gets the 404 of an object that does not exist; everything else
passes authorization (its status is the operation's own)."""
import itertools

import pytest

from api_client import Api, admin_key, make_key, new_mac
from conftest import Server

OWN, OTHER = "demo", "other"
_bans = itertools.count(1)

# Route -> permission, as the server's route table (src/api/api.cpp) says.
PERMISSIONS = {
    "read": {"admin", "tenant-admin", "support"},
    "audit-read": {"admin", "tenant-admin", "auditor"},
    "device-write": {"admin", "tenant-admin"},
    "support": {"admin", "tenant-admin", "support"},
    "platform": {"admin"},
    "metrics": {"admin", "support", "auditor"},  # platform-scoped keys only
}

# (method, path, permission, body); {mac} is a fresh device of the tenant under test,
# {stock} a fresh device in stock, {tenant} the tenant, {new} a fresh name.
ROUTES = [
    ("GET", "/api/v1/tenants", "read", None),
    ("POST", "/api/v1/tenants", "platform", {"name": "{new}"}),
    ("GET", "/api/v1/tenants/{tenant}", "read", None),
    ("PATCH", "/api/v1/tenants/{tenant}", "platform", {"window_days": 14}),
    ("GET", "/api/v1/tenants/{tenant}/vars", "read", None),
    ("PATCH", "/api/v1/tenants/{tenant}/vars", "device-write", {"unset": []}),
    ("GET", "/api/v1/devices?tenant={tenant}", "read", None),
    ("POST", "/api/v1/devices", "device-write", {"mac": "{newmac}", "vendor": "yealink", "model": "T54W",
                                                 "tenant": "{tenant}"}),
    ("POST", "/api/v1/devices/import", "device-write", "csv"),
    ("GET", "/api/v1/devices/{mac}", "read", None),
    ("POST", "/api/v1/devices/{stock}/assign", "platform", {"tenant": "{tenant}"}),
    ("POST", "/api/v1/devices/{mac}/reactivate", "support", None),
    ("POST", "/api/v1/devices/{mac}/retire", "device-write", None),
    ("POST", "/api/v1/devices/{mac}/unlock", "support", None),
    ("POST", "/api/v1/devices/{mac}/repin", "device-write", None),
    ("POST", "/api/v1/devices/{mac}/credentials/url-token", "device-write", None),
    ("DELETE", "/api/v1/devices/{mac}/credentials/url-token", "device-write", None),
    ("GET", "/api/v1/devices/{mac}/lines", "read", None),
    ("PUT", "/api/v1/devices/{mac}/lines/1", "device-write", {"user": "2001", "registrar": "sip.example",
                                                            "generate_password": True}),
    ("GET", "/api/v1/devices/{mac}/vars", "read", None),
    ("PATCH", "/api/v1/devices/{mac}/vars", "device-write", {"unset": []}),
    ("GET", "/api/v1/audit?tenant={tenant}", "audit-read", None),
    ("GET", "/api/v1/bans", "platform", None),
    ("POST", "/api/v1/bans", "platform", {"source": "192.0.2.99", "minutes": 1}),
    ("DELETE", "/api/v1/bans/{ban}", "platform", None),
    ("GET", "/metrics", "metrics", None),
]

KEYS = [("admin", None), ("tenant-admin", OWN), ("support", None), ("support", OWN),
        ("auditor", None), ("auditor", OWN)]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    # The demo config ends with its [[admin]] table: these keys land in it.
    s = Server(tmp_path_factory.mktemp("rbac"), "key_rate = 10000.0\nkey_burst = 10000.0\n")
    s.cli("tenant", "add", OTHER)
    s.start()
    admin = Api(s, admin_key(s))
    keys = {(role, scope): make_key(s, role, scope) for role, scope in KEYS}
    yield s, admin, keys
    s.stop()


def expected(role, scope, permission, tenant):
    allowed = role in PERMISSIONS[permission] and not (permission == "metrics" and scope)
    if not allowed:
        return 403
    if scope and tenant != scope and permission != "metrics":
        return 404
    return "pass"


def prepare(admin, method, path, body, tenant):
    """The route's path and body with fresh objects of `tenant`."""
    names = {"tenant": tenant, "new": "t-" + new_mac(), "newmac": new_mac()}
    if "{mac}" in path:
        mac = new_mac()
        r = admin.post("/api/v1/devices", {"mac": mac, "vendor": "yealink", "model": "T54W", "tenant": tenant})
        assert r.status_code == 201, r.text
        names["mac"] = mac
    if "{stock}" in path:
        mac = new_mac()
        assert admin.post("/api/v1/devices", {"mac": mac, "vendor": "yealink", "model": "T54W"}).status_code == 201
        names["stock"] = mac
    if "{ban}" in path:
        names["ban"] = f"198.51.100.{next(_bans)}"
        assert admin.post("/api/v1/bans", {"source": names["ban"], "minutes": 5}).status_code == 201
    path = path.format(**names)
    if body == "csv":
        return path, None, f"mac,vendor,model,tenant\n{new_mac()},yealink,T54W,{tenant}\n"
    if isinstance(body, dict):
        body = {k: (v.format(**names) if isinstance(v, str) else v) for k, v in body.items()}
    return path, body, None


def has_object(path, body):
    """Whether the route acts on a tenant's object (else it is run once, for the own tenant)."""
    return body == "csv" or any(p in path + str(body) for p in ("{tenant}", "{mac}"))


CASES = [(m, p, perm, b, role, scope, tenant)
         for (m, p, perm, b) in ROUTES for (role, scope) in KEYS
         for tenant in ((OWN, OTHER) if has_object(p, b) else (OWN,))]


@pytest.mark.parametrize("method,path,permission,body,role,scope,tenant", CASES,
                         ids=[f"{c[4]}{'@' + c[5] if c[5] else ''}-{c[0]}-{c[1]}-{c[6]}" for c in CASES])
def test_role_matrix(fleet, method, path, permission, body, role, scope, tenant):
    server, admin, keys = fleet
    want = expected(role, scope, permission, tenant)
    p, b, csv = prepare(admin, method, path, body, tenant)
    api = admin.with_key(keys[(role, scope)])
    if csv is not None:
        r = api.request(method, p, data=csv, headers={"Content-Type": "text/csv"})
    else:
        r = api.request(method, p, json_body=b)
    if want == 404 and csv is not None:
        # An import names tenants per row: another tenant's row is an unknown tenant.
        assert r.status_code == 422 and f"unknown tenant '{tenant}'" in r.text, r.text
    elif want == "pass":
        assert r.status_code not in (401, 403, 404, 405), (r.status_code, r.text)
        assert r.status_code < 500, r.text
    else:
        assert r.status_code == want, r.text
    if r.status_code >= 400:
        assert r.headers["Content-Type"] == "application/problem+json"


def test_other_tenants_device_answers_exactly_as_an_absent_one(fleet):
    server, admin, keys = fleet
    mac = new_mac()
    assert admin.post("/api/v1/devices", {"mac": mac, "vendor": "yealink", "model": "T54W",
                                          "tenant": OTHER}).status_code == 201
    absent = new_mac()
    scoped = admin.with_key(keys[("tenant-admin", OWN)])
    for suffix, method in (("", "GET"), ("/lines", "GET"), ("/reactivate", "POST"), ("/vars", "GET")):
        a = scoped.request(method, f"/api/v1/devices/{mac}{suffix}")
        b = scoped.request(method, f"/api/v1/devices/{absent}{suffix}")
        assert a.status_code == b.status_code == 404
        assert a.text.replace(mac, "X") == b.text.replace(absent, "X")
        assert OTHER not in a.text
