"""The web portal on the admin listener, over raw HTTP with real cookies: sign-in with
password and TOTP, sessions, CSRF, tenant scoping, escaping, lockout (docs/portal.md)."""
import re
import subprocess
import time

import pytest

from api_client import new_mac
from conftest import POLYCOM, YEALINK
from portal_client import PASSWORD, Portal, User, add_user, totp

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; "
       "form-action 'self'; base-uri 'none'; object-src 'none'")


@pytest.fixture
def admin_user(server):
    return add_user(server, "olivia", "admin")


def signed_in(server, user):
    p = Portal(server)
    r = p.sign_in(user)
    assert r.status_code == 303 and r.headers["Location"] == "/portal/devices", r.text
    return p


def table(page):
    """The device table of a list page (the search box repeats the search)."""
    return re.search(r'<table id="devices">.*?</table>', page, re.S).group(0)


def session_cookie_header(response):
    headers = response.raw.headers.get_all("Set-Cookie")
    return next(h for h in headers if h.startswith("pg_session="))


def test_sign_in_with_password_and_totp_sets_a_strict_session_cookie(server, admin_user):
    p = Portal(server)
    login = p.get("/portal/login")
    assert login.headers["Content-Security-Policy"] == CSP
    assert login.headers["X-Frame-Options"] == "DENY"
    assert login.headers["Cache-Control"] == "no-store"
    assert "<script>" not in login.text and "style=" not in login.text
    r = p.sign_in(admin_user)
    assert r.status_code == 303
    cookie = session_cookie_header(r)
    flags = [f.strip() for f in cookie.split(";")[1:]]
    assert {"Secure", "HttpOnly", "SameSite=Strict", "Path=/portal"} <= set(flags), cookie
    assert re.fullmatch(r"pg_session=[0-9a-f]{64}", cookie.split(";")[0])
    devices = p.page("/portal/devices")
    assert "00:15:65:a1:b2:c3" in devices and "olivia" in devices
    record = server.last_audit(reason="portal sign-in")
    assert record["actor"] == "portal:olivia" and record["peer"].startswith("127.0.0.1")
    assert PASSWORD not in server.audit_bytes().decode()
    assert admin_user.secret not in server.audit_bytes().decode()


def test_static_files_are_served_by_provgate(server):
    p = Portal(server)
    js = p.get("/portal/static/portal.js")
    assert js.status_code == 200 and js.headers["Content-Type"].startswith("text/javascript")
    assert p.get("/portal/static/portal.css").status_code == 200
    assert p.get("/portal/static/nothing.js").status_code == 404


@pytest.mark.parametrize("password,code", [("wrong password 123", None), (PASSWORD, "000000")])
def test_a_wrong_factor_is_refused_and_audited(server, admin_user, password, code):
    if code == "000000" and code in (totp(admin_user.secret, o) for o in (-1, 0, 1)):
        code = "111111"
    p = Portal(server)
    r = p.sign_in(admin_user, password=password, code=code)
    assert r.status_code == 401 and "pg_session=" not in r.headers.get("Set-Cookie", "")
    assert "Sign-in failed." in r.text
    assert p.get("/portal/devices").status_code == 303
    server.last_audit(actor="portal:olivia", decision="deny")


def test_a_totp_code_is_accepted_once(server, admin_user):
    code = admin_user.next_code()
    assert Portal(server).sign_in(admin_user, code=code).status_code == 303
    r = Portal(server).sign_in(admin_user, code=code)
    assert r.status_code == 401
    server.last_audit(reason="portal sign-in failed: second factor code reused")


def test_a_recovery_code_signs_in_once(server, admin_user):
    code = admin_user.recovery[0]
    assert Portal(server).sign_in(admin_user, code=code).status_code == 303
    assert Portal(server).sign_in(admin_user, code=code).status_code == 401


def test_lockout_after_repeated_wrong_totp_codes(server, admin_user):
    valid = {totp(admin_user.secret, o) for o in (-1, 0, 1, 2)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in valid)
    p = Portal(server)
    for _ in range(5):
        assert p.sign_in(admin_user, code=wrong).status_code == 401
    server.last_audit(reason="portal user locked: repeated wrong second factor", actor="portal:olivia")
    # Locked: the right password and a fresh code are refused too.
    r = p.sign_in(admin_user)
    assert r.status_code == 401
    server.last_audit(reason="portal sign-in failed: user locked")


def test_a_state_change_without_the_csrf_token_is_refused(server, admin_user):
    p = signed_in(server, admin_user)
    before = p.page(f"/portal/devices/{YEALINK}")
    window = re.search(r'id="window-expires">([^<]*)<', before).group(1)
    for data in ({"confirm": "yes"}, {"confirm": "yes", "csrf": "0" * 64}):
        r = p.post(f"/portal/devices/{YEALINK}/reactivate", data)
        assert r.status_code == 403, r.text
    server.last_audit(reason="portal request refused: missing or wrong CSRF token")
    # Sign-out is a state change too.
    assert p.post("/portal/logout", {}).status_code == 403
    after = p.page(f"/portal/devices/{YEALINK}")
    assert re.search(r'id="window-expires">([^<]*)<', after).group(1) == window
    # The sign-in form needs its own token as well.
    fresh = Portal(server)
    r = fresh.post("/portal/login", {"user": "olivia", "password": PASSWORD, "code": admin_user.next_code()})
    assert r.status_code == 401 and "pg_session=" not in r.headers.get("Set-Cookie", "")


def test_reactivate_with_confirmation_opens_a_new_window(server, admin_user):
    p = signed_in(server, admin_user)
    page = p.page(f"/portal/devices/{YEALINK}")
    csrf = p.csrf(page)
    assert 'data-confirm="' in page
    assert p.post(f"/portal/devices/{YEALINK}/reactivate", {"csrf": csrf}).status_code == 400
    r = p.post(f"/portal/devices/{YEALINK}/reactivate", {"csrf": csrf, "confirm": "yes"})
    assert r.status_code == 200, r.text
    new_window = re.search(r'id="new-window">([^<]*)<', r.text).group(1)
    assert re.search(r'id="window-expires">([^<]*)<', r.text).group(1) == new_window
    assert re.search(r'id="url-token">[^<]+<', r.text)
    # The timeline reads the store's copy of the audit trail, which follows within seconds.
    deadline = time.time() + 10
    while "portal reactivate" not in p.page(f"/portal/devices/{YEALINK}"):
        assert time.time() < deadline, "the reactivation never reached the timeline"
        time.sleep(0.2)
    record = server.last_audit(reason="portal reactivate")
    assert record["actor"] == "portal:olivia" and record["device"] == YEALINK


def test_a_tenant_user_cannot_see_or_act_on_another_tenants_device(server):
    server.cli("tenant", "add", "other", "--display-name", "Other Ltd")
    theirs = new_mac()
    server.cli("device", "add", theirs, "--vendor", "yealink", "--model", "T54W", "--tenant", "other")
    user = add_user(server, "tina", "tenant-admin", tenant="demo")
    p = signed_in(server, user)
    listed = p.page("/portal/devices")
    assert YEALINK in listed and theirs not in listed
    assert theirs not in table(p.page(f"/portal/devices?q={theirs}"))
    mine = p.get(f"/portal/devices/{YEALINK}")
    csrf = p.csrf(mine.text)
    missing = p.get("/portal/devices/0015650000ff")
    other = p.get(f"/portal/devices/{theirs}")
    assert other.status_code == missing.status_code == 404
    assert other.text.replace(theirs, "") == missing.text.replace("0015650000ff", "")
    for action in ("reactivate", "unlock", "repin", "retire"):
        r = p.post(f"/portal/devices/{theirs}/{action}", {"csrf": csrf, "confirm": "yes"})
        assert r.status_code == 404, (action, r.status_code)
    # A form field naming the other device changes nothing: the device is the URL's.
    r = p.post(f"/portal/devices/{YEALINK}/repin", {"csrf": csrf, "mac": theirs})
    assert r.status_code == 200
    admin = signed_in(server, add_user(server, "olivia", "admin"))
    their_page = admin.page(f"/portal/devices/{theirs}")
    assert re.search(r'id="state">([^<]*)<', their_page).group(1) == "assigned"
    assert "portal " not in their_page  # no portal action in its timeline


PAYLOAD = """<script>alert(1)</script>"'><img src=x onerror=alert(2)>"""


def test_markup_in_names_and_labels_renders_inert(server, admin_user):
    mac = new_mac()
    server.cli("device", "add", mac, "--vendor", "yealink", "--model", "T54W", "--tenant", "demo",
               "--serial", PAYLOAD)
    server.cli("line", "set", mac, "1", "--user", "100", "--registrar", "sip.example.com",
               "--display-name", PAYLOAD, "--generate-password")
    p = signed_in(server, admin_user)
    pages = [p.page("/portal/devices"), p.page(f"/portal/devices/{mac}"),
             p.page("/portal/devices?q=" + requests_quote(PAYLOAD[:60]))]
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&apos;&gt;&lt;img src=x onerror=alert(2)&gt;"
    for text in pages:
        assert "<script>alert" not in text and "<img" not in text
        # The only script element is the portal's own file.
        assert re.findall(r"<script[^>]*>", text) == ['<script src="/portal/static/portal.js" defer>']
    assert escaped in pages[0]  # the serial column
    assert pages[1].count(escaped) == 2  # serial and line display name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&apos;&gt;" in pages[2]  # the search box value


def requests_quote(text):
    from urllib.parse import quote
    return quote(text, safe="")


def test_a_session_cookie_stops_working_after_sign_out(server, admin_user):
    p = signed_in(server, admin_user)
    stolen = p.http.cookies.get("pg_session")
    csrf = p.csrf(p.page("/portal/devices"))
    r = p.post("/portal/logout", {"csrf": csrf})
    assert r.status_code == 303 and r.headers["Location"] == "/portal/login"
    thief = Portal(server)
    r = thief.get("/portal/devices", headers={"Cookie": f"pg_session={stolen}"})
    assert r.status_code == 303 and r.headers["Location"] == "/portal/login"
    r = thief.post(f"/portal/devices/{YEALINK}/repin", {"csrf": csrf}, headers={"Cookie": f"pg_session={stolen}"})
    assert r.status_code == 403
    server.last_audit(reason="portal sign-out", actor="portal:olivia")


def test_sign_out_everywhere_ends_every_session_and_sign_in_rotates(server, admin_user):
    first = signed_in(server, admin_user)
    old = first.http.cookies.get("pg_session")
    # Signing in again in the same browser replaces its session.
    r = first.sign_in(admin_user)
    assert r.status_code == 303
    assert first.http.cookies.get("pg_session") != old
    assert Portal(server).get("/portal/devices", headers={"Cookie": f"pg_session={old}"}).status_code == 303
    # A third sign-in within a TOTP step: one of the recovery codes.
    second = Portal(server)
    assert second.sign_in(admin_user, code=admin_user.recovery[0]).status_code == 303
    csrf = second.csrf(second.page("/portal/devices"))
    assert second.post("/portal/logout-all", {"csrf": csrf}).status_code == 303
    assert first.get("/portal/devices").status_code == 303
    assert second.get("/portal/devices").status_code == 303
    server.last_audit(reason="portal sign-out everywhere (2 sessions)")


def test_filters_by_state_vendor_and_search(server, admin_user):
    p = signed_in(server, admin_user)
    polycom = p.page("/portal/devices?vendor=polycom")
    assert POLYCOM in polycom and YEALINK not in polycom
    assert YEALINK in p.page("/portal/devices?q=a1:b2:c3")
    assert YEALINK not in p.page("/portal/devices?state=retired")
    assert p.get("/portal/devices?state=bogus").status_code == 400


def test_roles_limit_pages_and_actions_as_for_api_keys(server):
    support = signed_in(server, add_user(server, "sam", "support"))
    page = support.page(f"/portal/devices/{YEALINK}")
    assert 'id="action-reactivate"' in page and 'id="action-retire"' not in page
    r = support.post(f"/portal/devices/{YEALINK}/retire", {"csrf": support.csrf(page), "confirm": "yes"})
    assert r.status_code == 403
    auditor = signed_in(server, add_user(server, "audrey", "auditor"))
    refused = auditor.get(f"/portal/devices/{YEALINK}")
    assert refused.status_code == 403
    r = auditor.post(f"/portal/devices/{YEALINK}/reactivate", {"csrf": auditor.csrf(refused.text), "confirm": "yes"})
    assert r.status_code == 403


def test_the_demo_operator_signs_in_with_the_printed_login(server):
    """As the README says: the password and the TOTP secret from portal-login, the code from
    oathtool (an implementation of RFC 6238 other than ours and the tests')."""
    login = (server.dir / "portal-login").read_text()
    assert oct((server.dir / "portal-login").stat().st_mode & 0o777) == "0o600"
    fields = dict(line.split(": ", 1) for line in login.splitlines() if not line.startswith("recovery-code"))
    user = User(fields["user"], fields["totp-secret"], fields["otpauth-uri"])
    code = subprocess.run(["oathtool", "--totp", "-b", fields["totp-secret"]], check=True, capture_output=True,
                          text=True, timeout=10).stdout.strip()
    p = Portal(server)
    assert p.sign_in(user, password=fields["password"], code=code).status_code == 303
    assert "00:15:65:a1:b2:c3" in p.page("/portal/devices")


def test_no_secret_reaches_the_server_log_and_no_upstream_header_is_trusted(server, admin_user):
    p = Portal(server)
    page = p.get("/portal/login")
    forged = {"X-Forwarded-For": "203.0.113.9", "Forwarded": "for=203.0.113.9", "X-Real-IP": "203.0.113.9"}
    r = p.post("/portal/login", {"csrf": p.csrf(page.text), "user": "olivia", "password": PASSWORD,
                                 "code": admin_user.next_code()}, headers=forged)
    assert r.status_code == 303
    record = server.last_audit(reason="portal sign-in")
    assert record["peer"].startswith("127.0.0.1") and "203.0.113.9" not in server.audit_bytes().decode()
    log = server.log.read_text()
    for secret in (PASSWORD, admin_user.secret, *admin_user.recovery, p.http.cookies.get("pg_session")):
        assert secret not in log and secret not in server.audit_bytes().decode()


def test_failed_sign_ins_from_one_source_are_throttled(server, admin_user):
    p = Portal(server)
    for _ in range(6):
        assert p.sign_in(admin_user, password="not the password 1", code="000000").status_code == 401
    r = p.sign_in(admin_user)  # right password and code, but the source is throttled
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    server.last_audit(reason="portal sign-in refused: source throttled")
