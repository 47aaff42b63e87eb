"""The device plane's half of /metrics, as Prometheus sees it: the real binary, device
requests over mutual TLS, failed handshakes, and a scrape of the admin listener parsed with
the real exposition-format parser. Every count must move by exactly what the requests did,
and no label may carry text a client sent."""
import re
import time

import pytest

from api_client import Api, admin_key, scrape
from conftest import YEALINK, YEALINK2, Server, get, run

LISTENER = "devices"  # the demo's device listener
VENDORS = {"yealink", "polycom", "none"}  # some of the registry's, and none
VENDOR_NAME = re.compile(r"[a-z0-9_-]+")


@pytest.fixture
def api(tmp_path):
    s = Server(tmp_path)
    s.start()
    yield Api(s, admin_key(s))
    s.stop()



def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def total(samples, name, **labels):
    """The sum over every series of `name` whose labels include these."""
    return sum(v for (n, ls), v in samples.items()
               if n == name and all(dict(ls).get(k) == want for k, want in labels.items()))


def moved(before, after, name, **labels):
    return total(after, name, **labels) - total(before, name, **labels)


def scrape_until(api, done, timeout=5):
    """Scrapes until done(samples): a failed handshake is counted just after the client sees it."""
    deadline = time.time() + timeout
    while True:
        samples = scrape(api)
        if done(samples) or time.time() > deadline:
            return samples
        time.sleep(0.05)


def test_every_device_series_exists_before_any_request(api):
    samples = scrape(api)
    for vendor in VENDORS:
        for decision in ("allow", "deny", "error"):
            assert ("provgate_device_requests_total",
                    (("decision", decision), ("listener", LISTENER), ("vendor", vendor))) in samples
    for reason in ("no_certificate", "untrusted", "expired", "revoked", "other"):
        assert ("provgate_tls_handshake_failures_total", (("listener", LISTENER), ("reason", reason))) in samples
    assert value(samples, "provgate_device_request_duration_seconds_count", listener=LISTENER) == 0
    assert ("provgate_device_refusals_total", (("listener", LISTENER), ("reason", "certificate refused"))) in samples
    for op in ("device_request", "audit_copy"):
        assert value(samples, "provgate_store_errors_total", operation=op) == 0
    assert samples[("provgate_give_backs_waiting", ())] == 0
    assert ("provgate_audit_queue_depth", ()) in samples
    assert ("provgate_audit_commit_seconds_count", ()) in samples


def test_device_requests_handshake_failures_and_audit_are_counted(api, tmp_path):
    server = api.server
    before = scrape(api)

    # Allowed: the phone's own file. Refused: another phone's file with this phone's
    # certificate, and a made-up name full of markup.
    _, status, _ = server.curl(f"/{YEALINK}.cfg", mac=YEALINK)
    assert status == 200
    _, status, _ = server.curl(f"/{YEALINK2}.cfg", mac=YEALINK)
    assert status == 404
    resp = server.raw(get("/<script>alert(1)</script>.cfg"), mac=YEALINK)
    assert resp.startswith(b"HTTP/1.1 404") or resp.startswith(b"HTTP/1.1 400"), resp[:40]
    scripted = resp.startswith(b"HTTP/1.1 404")  # a 400 is the parser's, not the pipeline's

    # Failed handshakes: a certificate of another CA, an expired one, none at all.
    run("ca", "demo", "--out", tmp_path / "rogue", "--mac", YEALINK)
    code, status, _ = server.curl(f"/{YEALINK}.cfg", cert=tmp_path / "rogue" / f"{YEALINK}.crt",
                                  key=tmp_path / "rogue" / f"{YEALINK}.key")
    assert status == 0 and code != 0
    server.cli("ca", "issue", "--ca-cert", server.ca, "--ca-key", server.dir / "tls" / "ca.key",
               "--mac", YEALINK, "--out", tmp_path / "expired", "--expired")
    code, status, _ = server.curl(f"/{YEALINK}.cfg", cert=tmp_path / "expired" / f"{YEALINK}.crt",
                                  key=tmp_path / "expired" / f"{YEALINK}.key")
    assert status == 0 and code != 0
    code, status, _ = server.curl(f"/{YEALINK}.cfg")
    assert status == 0

    failures = "provgate_tls_handshake_failures_total"
    after = scrape_until(api, lambda s: moved(before, s, failures, listener=LISTENER) >= 3)

    requests = "provgate_device_requests_total"
    pipeline_requests = 3 if scripted else 2
    assert moved(before, after, requests, listener=LISTENER) == pipeline_requests
    assert moved(before, after, requests, listener=LISTENER, decision="allow", vendor="yealink") == 1
    assert moved(before, after, requests, listener=LISTENER, decision="deny") == pipeline_requests - 1
    assert moved(before, after, requests, listener=LISTENER, decision="deny", vendor="yealink") >= 1
    assert moved(before, after, requests, listener=LISTENER, decision="error") == 0

    refusals = "provgate_device_refusals_total"
    assert moved(before, after, refusals, listener=LISTENER, reason="mac mismatch") == 1
    assert moved(before, after, refusals, listener=LISTENER) == pipeline_requests - 1
    assert moved(before, after, refusals, listener=LISTENER, reason="other") == 0

    duration = "provgate_device_request_duration_seconds"
    assert moved(before, after, duration + "_count", listener=LISTENER) == pipeline_requests
    assert moved(before, after, duration + "_bucket", listener=LISTENER, le="+Inf") == pipeline_requests
    assert moved(before, after, duration + "_sum", listener=LISTENER) > 0
    # Cumulative buckets never decrease with le.
    buckets = sorted(((float(dict(ls)["le"]), v) for (n, ls), v in after.items()
                      if n == duration + "_bucket" and dict(ls)["listener"] == LISTENER))
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))

    assert moved(before, after, failures, listener=LISTENER, reason="untrusted") == 1
    assert moved(before, after, failures, listener=LISTENER, reason="expired") == 1
    assert moved(before, after, failures, listener=LISTENER, reason="no_certificate") == 1
    assert moved(before, after, failures, listener=LISTENER) == 3

    # Each request's record and each failed handshake's record was committed in some batch.
    commits = moved(before, after, "provgate_audit_commit_seconds_count")
    assert commits >= 1
    assert commits == moved(before, after, "provgate_audit_batches_total")
    assert value(after, "provgate_audit_queue_depth") >= 0
    assert total(after, "provgate_store_errors_total") == 0

    # No label value is client text: the markup, the target and the certificates' subjects
    # appear nowhere; the device families use only their fixed label values.
    for (name, labels), _ in after.items():
        for k, v in labels:
            assert "script" not in v and "<" not in v and ".cfg" not in v and YEALINK not in v, (name, k, v)
        if name.startswith(("provgate_device_", "provgate_tls_")):
            ls = dict(labels)
            assert ls.get("listener", LISTENER) == LISTENER, (name, ls)
            assert VENDOR_NAME.fullmatch(ls.get("vendor", "none")), (name, ls)
            assert ls.get("decision", "allow") in ("allow", "deny", "error"), (name, ls)
