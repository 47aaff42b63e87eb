"""External auditors against the real binary over real TLS, on loopback only:

- testssl.sh against every kind of listener: a device listener of each TLS profile, the
  demo's device listener that requires client certificates, and the admin listener (API and
  portal). Its JSON verdicts are read: nothing MEDIUM or worse beyond the allow-list below.
- sqlmap against the admin API (query parameters of GET endpoints, JSON bodies of POSTs) and
  the portal's sign-in form (with its CSRF token), asserting that it finds no injection.
- The secure headers a browser relies on, on the portal and the API.

Runtimes are in docs/security.md ("External auditors"). The parts marked slow (testssl on
the listeners whose TLS settings another run already covers, sqlmap on the sign-in form,
whose every probe costs a password hash) run in scripts/test-slow.sh."""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from api_client import Api, admin_key, new_mac
from conftest import STORE, YEALINK, Server
from portal_client import Portal, add_user
from test_tls_profiles import start_profile_server

# ---------------------------------------------------------------------------------------
# testssl.sh

TESTSSL = shutil.which("testssl")
needs_testssl = pytest.mark.skipif(TESTSSL is None, reason="testssl.sh is not installed "
                                   "(scripts/install-deps.sh installs the Debian package testssl.sh)")

# testssl ranks findings OK/INFO < LOW < MEDIUM < HIGH < CRITICAL; none of MEDIUM or worse
# may appear unless an entry here allows it.
SEVERE = {"MEDIUM", "HIGH", "CRITICAL"}
# Findings about the test's certificates, not about any listener's TLS settings: allowed
# on every listener.
CERTIFICATE_NOT_PROFILE = {
    # "Neither CRL nor OCSP URI provided" (HIGH): the demo's private CA publishes neither, as
    # most private device CAs; the certificate an operator installs decides it
    # (docs/security.md, "TLS profiles": testssl.sh paragraph).
    "cert_revocation",
}
# Findings below MEDIUM that a profile deliberately offers, which the other profiles must not
# show (each must show its own: testssl really saw the profile).
DELIBERATE = {
    "modern": set(),
    "compatible": {
        # LOW: the ECDHE AES-CBC suites with HMAC-SHA256/384/SHA1, for TLS 1.2 phones without
        # AEAD (docs/security.md, "TLS profiles": "What each profile offers").
        "cipherlist_AVERAGE",
        # LOW, "potentially vulnerable, uses TLS CBC ciphers": the price of those suites
        # (docs/security.md, "TLS profiles": "What compatible costs").
        "LUCKY13",
    },
}


@pytest.fixture(scope="module")
def listeners(tmp_path_factory):
    """One server with every kind of listener: devices (client certificate required, the
    demo's), modern and compatible (client certificate optional, RSA and ECDSA
    certificates), and the admin listener."""
    s = start_profile_server(tmp_path_factory.mktemp("auditors-tls"))
    yield s
    s.stop()


# testssl's waits for a reply are sized for the Internet (5 to 10 s); on loopback a reply
# that has not come in 2 s is not coming.
TESTSSL_WAITS = {"MAX_WAITSOCK": "2", "CCS_MAX_WAITSOCK": "2", "HEARTBLEED_MAX_WAITSOCK": "2",
                 "HEADER_MAXSLEEP": "2"}


def run_testssl(server, port, out: Path):
    """testssl.sh's findings for 127.0.0.1:port: protocols, cipher categories, forward
    secrecy, server preference, server defaults and the vulnerability checks; Debian's
    openssl, no DNS, nothing fetched from the network."""
    p = subprocess.run([TESTSSL, "--quiet", "--warnings", "batch", "--color", "0", "--fast",
                        "--openssl", "/usr/bin/openssl", "--nodns", "none", "--add-ca", str(server.ca),
                        "-p", "-s", "-f", "-P", "-S", "-U", "--jsonfile", str(out), f"127.0.0.1:{port}"],
                       capture_output=True, text=True, timeout=600, env={**os.environ, **TESTSSL_WAITS})
    assert out.exists(), p.stdout + p.stderr
    return json.loads(out.read_text())


def finding_id(f):
    return f["id"].split(" ")[0]


def assert_tls12_and_13_only(by_id):
    assert by_id["TLS1_2"]["finding"] == "offered", by_id["TLS1_2"]
    assert by_id["TLS1_3"]["finding"].startswith("offered"), by_id["TLS1_3"]
    for old in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        assert by_id[old]["finding"] == "not offered", by_id[old]


def assert_nothing_severe(findings, allowed=frozenset()):
    severe = [f for f in findings if f["severity"] in SEVERE
              and finding_id(f) not in CERTIFICATE_NOT_PROFILE | allowed]
    assert not severe, severe


# Which port of `listeners` serves each listener, and its profile. The last two share the
# modern profile's context code with the first (tls::MakeServerContext), so the normal pass
# leaves them to the slow one.
TLS_LISTENERS = [
    pytest.param("modern", "mixed_port", "modern", id="modern"),
    pytest.param("compatible", "plain_port", "compatible", id="compatible"),
    pytest.param("devices-client-cert-required", "port", "modern", id="devices-client-cert-required",
                 marks=pytest.mark.slow),
    pytest.param("admin", "admin_port", "modern", id="admin", marks=pytest.mark.slow),
]


@needs_testssl
@pytest.mark.once
@pytest.mark.parametrize("listener,attr,profile", TLS_LISTENERS)
def test_testssl_finds_nothing_medium_or_worse_beyond_what_the_profile_allows(listeners, listener, attr, profile,
                                                                              tmp_path):
    findings = run_testssl(listeners, getattr(listeners, attr), tmp_path / f"{listener}.json")
    by_id = {finding_id(f): f for f in findings}
    assert_tls12_and_13_only(by_id)
    assert_nothing_severe(findings)
    flagged = {finding_id(f) for f in findings if f["severity"] not in ("OK", "INFO")}
    assert DELIBERATE[profile] <= flagged, f"testssl did not see the {profile} profile's CBC suites"
    others = set().union(*DELIBERATE.values()) - DELIBERATE[profile]
    assert not others & flagged, others & flagged


# ---------------------------------------------------------------------------------------
# sqlmap

SQLMAP = shutil.which("sqlmap")
needs_sqlmap = pytest.mark.skipif(SQLMAP is None, reason="sqlmap is not installed (scripts/install-deps.sh)")
DBMS = "SQLite" if STORE == "sqlite" else "PostgreSQL"

# The [[admin]] table is the demo config's last: these keys land in it. sqlmap sends
# hundreds of requests: the per-key rate limit must not answer them with 429, and failed
# portal sign-ins must not throttle sqlmap's source or the user name (the sign-in throttle
# would turn every later probe into the same 429 page, and a real lockout needs the right
# password, which sqlmap never sends).
ADMIN_FOR_SQLMAP = ("key_rate = 10000.0\nkey_burst = 10000.0\n"
                    "sign_in_max_failures = 100000\nsign_in_window_seconds = 1\n")


@pytest.fixture(scope="module")
def admin(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("auditors-admin"), ADMIN_FOR_SQLMAP)
    s.start()
    yield s
    s.stop()


def sqlmap(tmp_path, url, *args):
    """sqlmap's console output for one target: batch mode, level 2 / risk 1 (no
    statement-changing payloads), the store's SQL dialect, loopback only."""
    p = subprocess.run([SQLMAP, "-u", url, "--batch", "--flush-session", "--disable-coloring",
                        f"--output-dir={tmp_path}", "--level", "2", "--risk", "1", "--dbms", DBMS,
                        "--timeout", "10", "--retries", "0", *args],
                       capture_output=True, text=True, timeout=900, cwd=tmp_path)
    return p.stdout + p.stderr


def assert_no_injection(out):
    assert "identified the following injection point" not in out, out[-3000:]
    assert "is vulnerable" not in out, out[-3000:]
    # sqlmap tested something and gave its verdict (not a connection failure).
    assert re.search(r"(do|does) not (appear|seem) to be injectable", out), out[-3000:]
    assert "connection refused" not in out.lower() and "unable to connect" not in out.lower(), out[-3000:]
    # No probe was turned away by a rate limit or throttle instead of reaching the code.
    assert "429 (Too Many Requests)" not in out, out[-3000:]


@needs_sqlmap
@pytest.mark.parametrize("target,params", [
    ("/api/v1/devices?tenant=demo&vendor=yealink&model=T54W&state=assigned&cursor=001565000000",
     "tenant,vendor,model,state,cursor"),
    ("/api/v1/audit?actor=cli%3Ax&tenant=demo&device=001565a1b2c3&decision=info", "actor,tenant,device,decision"),
    ("/api/v1/tenants/demo*", None),
    ("/api/v1/devices/001565a1b2c3*", None),
])
def test_sqlmap_finds_no_injection_in_api_queries(admin, tmp_path, target, params):
    api = Api(admin, admin_key(admin))
    out = sqlmap(tmp_path, api.base + target, "--headers", f"Authorization: Bearer {api.key}",
                 *(["-p", params] if params else []))
    assert_no_injection(out)
    # sqlmap sent its probes with a valid key: the store still answers.
    assert api.get("/api/v1/tenants").status_code == 200


@needs_sqlmap
@pytest.mark.parametrize("path,body", [
    # A lookup (the tenant by name) before a state change.
    (f"/api/v1/devices/{YEALINK}/assign", {"tenant": "demo"}),
    # Free text stored with the ban (reason) and an address parsed at the edge (source).
    ("/api/v1/bans", {"source": "192.0.2.77", "minutes": 5, "reason": "sqlmap probe"}),
])
def test_sqlmap_finds_no_injection_in_api_json_bodies(admin, tmp_path, path, body):
    api = Api(admin, admin_key(admin))
    out = sqlmap(tmp_path, api.base + path, "--data", json.dumps(body), "--headers",
                 f"Authorization: Bearer {api.key}\nContent-Type: application/json")
    assert_no_injection(out)
    assert api.get("/api/v1/tenants").status_code == 200


@pytest.mark.slow
@needs_sqlmap
def test_sqlmap_finds_no_injection_in_the_portal_sign_in_form(admin, tmp_path):
    # A real user name with a wrong password: every probe is a failed sign-in that reaches
    # the user lookup and the password check; the user's lockout (wrong second factors after
    # the right password) cannot be reached. The code is checked only after the right
    # password, so it is not a parameter here.
    user = add_user(admin, "auditor", "admin")
    before = admin.audit()
    login = f"https://localhost:{admin.admin_port}/portal/login"
    out = sqlmap(tmp_path, login, "--data", "csrf=0&user=auditor&password=not+the+password&code=123456",
                 "--csrf-token", "csrf", "--csrf-url", login, "-p", "user,password",
                 "--ignore-code", "401")  # every probe is a failed sign-in
    assert_no_injection(out)
    records = admin.audit()[len(before):]
    reasons = [r["reason"] for r in records]
    failed = sum(r.startswith("portal sign-in failed") for r in reasons)
    csrf_refused = sum("CSRF" in r for r in reasons)
    # sqlmap's probes reached the sign-in itself: with the form's token and its cookie, and
    # never throttled.
    assert failed >= 100, (failed, reasons[:20])
    assert csrf_refused <= failed // 10, (csrf_refused, failed)
    assert not any("throttled" in r for r in reasons)
    # Nobody was locked out: the user still signs in.
    assert Portal(admin).sign_in(user).status_code == 303


def test_the_sign_in_throttle_follows_its_configured_limit(tmp_path):
    # What the sqlmap test relies on: the [[admin]] keys reach the portal's throttle.
    s = Server(tmp_path, "sign_in_max_failures = 2\n")
    s.start()
    try:
        user = add_user(s, "limited", "admin")
        p = Portal(s)
        # The third failure is more than 2: the fourth attempt is refused unchecked.
        codes = [p.sign_in(user, password="wrong password", code="000000").status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429], codes
        s.last_audit(reason="portal sign-in refused: source throttled")
    finally:
        s.stop()


# ---------------------------------------------------------------------------------------
# Secure headers (what test_portal.py and test_api.py do not check already)

ADMIN_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def assert_admin_headers(r):
    for name, value in ADMIN_HEADERS.items():
        assert r.headers.get(name) == value, (r.url, r.status_code, name, r.headers)
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"], r.headers


def cookie_flags(set_cookie):
    return {f.strip() for f in set_cookie.split(";")[1:]}


def test_portal_pages_carry_the_secure_headers(admin):
    user = add_user(admin, "headers", "admin")
    p = Portal(admin)
    login = p.get("/portal/login")
    assert_admin_headers(login)
    # The sign-in form's pre-session cookie has the session cookie's flags.
    pre = next(h for h in login.raw.headers.get_all("Set-Cookie") if h.startswith("pg_login="))
    assert {"Secure", "HttpOnly", "SameSite=Strict", "Path=/portal"} <= cookie_flags(pre), pre
    failed = p.post("/portal/login", {"csrf": p.csrf(login.text), "user": user.name,
                                      "password": "wrong password", "code": "000000"})
    assert failed.status_code == 401
    assert_admin_headers(failed)
    signed_in = p.sign_in(user)
    assert signed_in.status_code == 303
    assert_admin_headers(signed_in)
    for path in ("/portal/devices", f"/portal/devices/{YEALINK}", "/portal/account", "/portal/nothing-here",
                 "/portal/static/portal.css"):
        assert_admin_headers(p.get(path))
    # A page that shows a secret (the TOTP re-enrolment's new secret) is never cached.
    enrol = p.get("/portal/account/totp")
    assert enrol.status_code == 200 and re.search(r"[A-Z2-7]{32}", enrol.text), enrol.text
    assert_admin_headers(enrol)
    # Sign-out clears the cookie with the same flags.
    page = p.page("/portal/devices")
    out = p.post("/portal/logout", {"csrf": p.csrf(page)})
    assert out.status_code == 303
    assert_admin_headers(out)
    cleared = next(h for h in out.raw.headers.get_all("Set-Cookie") if h.startswith("pg_session="))
    assert {"Secure", "HttpOnly", "SameSite=Strict", "Path=/portal", "Max-Age=0"} <= cookie_flags(cleared)


def test_api_answers_carry_the_secure_headers(admin):
    api = Api(admin, admin_key(admin))
    mac = new_mac()
    for r in (api.get("/api/v1/devices"), api.get("/api/v1/devices", key=None),
              api.post("/api/v1/devices", {"mac": mac, "vendor": "yealink", "model": "T54W"}),
              api.post(f"/api/v1/devices/{mac}/credentials/url-token"),  # shows a secret once
              api.get("/api/v1/nothing-here"), api.get("/healthz"), api.get("/metrics")):
        assert_admin_headers(r)
        assert r.headers["Content-Security-Policy"].startswith("default-src 'none'"), r.headers
        assert "Set-Cookie" not in r.headers
