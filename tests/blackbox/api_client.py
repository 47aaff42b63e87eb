"""A client of the admin API for the black-box tests: the real binary, real TLS, keys made
with the real CLI."""
import itertools
import json
import re

import requests
from prometheus_client.parser import text_string_to_metric_families

_macs = itertools.count(1)


def new_mac():
    """A MAC no test used before (Yealink OUI)."""
    return f"001565{next(_macs):06x}"


class Api:
    def __init__(self, server, key=None):
        self.server = server
        self.key = key
        self.base = f"https://localhost:{server.admin_port}"
        self.session = requests.Session()
        self.ca = str(server.ca)

    def with_key(self, key):
        return Api(self.server, key)

    def request(self, method, path, json_body=None, data=None, headers=None, key=...):
        h = dict(headers or {})
        k = self.key if key is ... else key
        if k:
            h["Authorization"] = f"Bearer {k}"
        if json_body is not None:
            data = json.dumps(json_body)
            h.setdefault("Content-Type", "application/json")
        # verify per request: a session's own is overridden by REQUESTS_CA_BUNDLE.
        return self.session.request(method, self.base + path, data=data, headers=h, timeout=30,
                                    verify=self.ca)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, json_body=body, **kw)


def make_key(server, role, tenant=None, expires_days=None):
    args = ["apikey", "add", "--role", role, "--name", f"test {role}"]
    if tenant:
        args += ["--tenant", tenant]
    if expires_days is not None:
        args += ["--expires-days", expires_days]
    key = server.cli(*args).stdout.strip()
    assert re.fullmatch(r"pgk_[a-z2-7]{8}_[a-z2-7]{32}", key), key
    return key


def admin_key(server):
    return (server.dir / "admin-api-key").read_text().strip()


def scrape(api):
    """The admin listener's /metrics, parsed by Prometheus's own exposition-format parser:
    {(name, sorted labels): value}. A series that appears twice fails the test."""
    r = api.get("/metrics")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            assert key not in samples, f"duplicate series {key}"
            samples[key] = s.value
    return samples
