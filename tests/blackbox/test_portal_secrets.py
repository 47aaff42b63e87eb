"""Secrets the portal shows once, over raw HTTP with real cookies against the real binary
(docs/portal.md): a softphone line's credentials with a QR code (re-authentication, once until
re-activation, tenant scope, CSRF), and an engineer's web admin password that the device's
next config fetch after the engineer's window replaces."""
import re
import time

import pytest

from api_client import new_mac
from conftest import YEALINK, Server
from portal_client import PASSWORD, Portal, add_user

# A short engineer window, so that the test sees it end.
WINDOW_SECONDS = 2


def signed_in(server, user):
    p = Portal(server)
    r = p.sign_in(user)
    assert r.status_code == 303, r.text
    return p


def add_softphone(server, tenant="demo"):
    """A softphone device with one line; returns (mac, the generated SIP password)."""
    mac = new_mac()
    server.cli("device", "add", mac, "--vendor", "yealink", "--model", "T54W", "--tenant", tenant)
    out = server.cli("line", "set", mac, "1", "--user", "1001", "--auth-user", "auth1001", "--registrar",
                     "sip.example.com", "--port", "5061", "--transport", "tls", "--generate-password").stdout
    password = re.search(r"generated SIP password \(shown once\): (\S+)", out).group(1)
    server.cli("device", "vars", "set", mac, "softphone=true")
    return mac, password


def field(page, id_):
    m = re.search(rf'id="{id_}"><code>([^<]*)</code>', page)
    return m and m.group(1)


def reveal(p, mac, secret, line="1", csrf=None):
    page = p.page(f"/portal/devices/{mac}")
    return p.post(f"/portal/devices/{mac}/reveal",
                  {"csrf": csrf if csrf is not None else p.csrf(page), "line": line, "reauth": secret})


@pytest.fixture
def admin_user(server):
    return add_user(server, "olivia", "admin")


def test_a_softphone_line_is_revealed_once_then_refused(server, admin_user):
    mac, sip_password = add_softphone(server)
    p = signed_in(server, admin_user)
    assert 'id="reveal-1"' in p.page(f"/portal/devices/{mac}")
    # Re-authentication first: a wrong password spends nothing.
    wrong = reveal(p, mac, "not my password at all")
    assert wrong.status_code == 403 and sip_password not in wrong.text
    server.last_audit(reason="portal reveal refused: re-authentication failed (line 1)", device=mac)

    shown = reveal(p, mac, PASSWORD)
    assert shown.status_code == 200, shown.text
    assert field(shown.text, "sip-password") == sip_password
    assert field(shown.text, "sip-user") == "1001" and field(shown.text, "sip-auth-user") == "auth1001"
    assert field(shown.text, "sip-server") == "sip.example.com"
    assert field(shown.text, "sip-uri") == f"sip:1001:{sip_password}@sip.example.com:5061;transport=tls"
    svg = re.search(r'<div class="qr" id="qr">(<svg [^>]*>.*?</svg>)</div>', shown.text, re.S)
    assert svg and 'viewBox="0 0 ' in svg.group(1) and "<path " in svg.group(1)
    assert re.findall(r"<script[^>]*>", shown.text) == ['<script src="/portal/static/portal.js" defer>']
    record = server.last_audit(reason="portal reveal (line 1)")
    assert record["actor"] == "portal:olivia" and record["device"] == mac
    server.last_audit(reason="softphone credentials revealed", device=mac)

    # The second attempt, with a TOTP code this time, is refused and audited.
    again = reveal(p, mac, admin_user.next_code())
    assert again.status_code == 409 and sip_password not in again.text
    assert "revealed (or delivered) already" in again.text
    server.last_audit(reason="portal reveal refused (line 1)", device=mac)
    server.last_audit(reason="softphone reveal refused", device=mac)
    assert sip_password not in server.audit_bytes().decode()
    assert sip_password not in server.log.read_text()


def test_reactivation_allows_one_more_reveal_with_a_new_password(server, admin_user):
    mac, first_password = add_softphone(server)
    p = signed_in(server, admin_user)
    assert reveal(p, mac, PASSWORD).status_code == 200
    assert reveal(p, mac, PASSWORD).status_code == 409
    page = p.page(f"/portal/devices/{mac}")
    assert p.post(f"/portal/devices/{mac}/reactivate", {"csrf": p.csrf(page), "confirm": "yes"}).status_code == 200
    shown = reveal(p, mac, PASSWORD)
    assert shown.status_code == 200, shown.text
    second_password = field(shown.text, "sip-password")
    assert second_password and second_password != first_password
    assert reveal(p, mac, PASSWORD).status_code == 409


def test_a_device_that_is_no_softphone_reveals_nothing(server, admin_user):
    mac, sip_password = add_softphone(server)
    server.cli("device", "vars", "unset", mac, "softphone")
    p = signed_in(server, admin_user)
    assert 'id="reveal-1"' not in p.page(f"/portal/devices/{mac}")
    r = reveal(p, mac, PASSWORD)
    assert r.status_code == 409 and "is not a softphone" in r.text and sip_password not in r.text


def test_reveal_and_engineer_password_stay_within_the_users_tenant(server, admin_user):
    server.cli("tenant", "add", "other", "--display-name", "Other Ltd")
    theirs, their_password = add_softphone(server, tenant="other")
    tina = signed_in(server, add_user(server, "tina", "tenant-admin", tenant="demo"))
    csrf = tina.csrf(tina.page(f"/portal/devices/{YEALINK}"))
    missing = "0015650000ff"
    for action, data in (("reveal", {"line": "1", "reauth": PASSWORD}), ("engineer-password", {})):
        other = tina.post(f"/portal/devices/{theirs}/{action}", {"csrf": csrf, **data})
        absent = tina.post(f"/portal/devices/{missing}/{action}", {"csrf": csrf, **data})
        assert other.status_code == absent.status_code == 404, (action, other.status_code)
        assert other.text.replace(theirs, "") == absent.text.replace(missing, "")
        assert their_password not in other.text
    # Nothing of theirs was spent: their own operator still reveals the line once.
    p = signed_in(server, admin_user)
    assert field(reveal(p, theirs, PASSWORD).text, "sip-password") == their_password
    assert "engineer" not in p.page(f"/portal/devices/{theirs}").split('id="timeline"')[1]


def test_reveal_and_engineer_password_need_the_csrf_token(server, admin_user):
    mac, sip_password = add_softphone(server)
    p = signed_in(server, admin_user)
    for token in (None, "0" * 64):
        data = {"line": "1", "reauth": PASSWORD} | ({"csrf": token} if token else {})
        r = p.post(f"/portal/devices/{mac}/reveal", data)
        assert r.status_code == 403 and sip_password not in r.text
        r = p.post(f"/portal/devices/{YEALINK}/engineer-password", {"csrf": token} if token else {})
        assert r.status_code == 403 and 'id="engineer-password"' not in r.text
    server.last_audit(reason="portal request refused: missing or wrong CSRF token")
    assert re.search(r'id="engineer-window">-<', p.page(f"/portal/devices/{YEALINK}"))
    assert field(reveal(p, mac, PASSWORD).text, "sip-password") == sip_password


def test_roles_limit_who_reveals_and_who_asks_for_an_engineer_password(server):
    mac, sip_password = add_softphone(server)
    support = signed_in(server, add_user(server, "sam", "support", tenant="demo"))
    auditor = signed_in(server, add_user(server, "ada", "auditor"))
    # Support asks for engineer passwords but reveals nothing; an auditor does neither.
    csrf = support.csrf(support.page("/portal/devices"))
    assert 'id="reveal-1"' not in support.page(f"/portal/devices/{mac}")
    r = support.post(f"/portal/devices/{mac}/reveal", {"csrf": csrf, "line": "1", "reauth": PASSWORD})
    assert r.status_code == 403 and sip_password not in r.text
    server.last_audit(reason="portal reveal refused: role")
    assert support.post(f"/portal/devices/{YEALINK}/engineer-password", {"csrf": csrf}).status_code == 200
    csrf = auditor.csrf(auditor.get("/portal/devices").text)  # no device pages, the header form has one
    for action in ("reveal", "engineer-password"):
        r = auditor.post(f"/portal/devices/{mac}/{action}", {"csrf": csrf, "line": "1", "reauth": PASSWORD})
        assert r.status_code == 403 and sip_password not in r.text, action
    # Nothing was spent by the refusals.
    admin = signed_in(server, add_user(server, "olivia", "admin"))
    assert field(reveal(admin, mac, PASSWORD).text, "sip-password") == sip_password


def admin_password_in(body):
    """The web admin password a Yealink device file sets."""
    m = re.search(rb"^static\.security\.user_password = admin:(\S+)$", body, re.M)
    assert m, body
    return m.group(1).decode()


@pytest.fixture
def short_window_server(tmp_path):
    s = Server(tmp_path)
    text = s.config.read_text()
    s.config.write_text(text.replace("[[admin]]\n", f"[[admin]]\nengineer_window_seconds = {WINDOW_SECONDS}\n", 1))
    s.start()
    yield s
    s.stop()


def test_an_engineer_password_reaches_the_phone_and_is_replaced_after_the_window(short_window_server):
    server = short_window_server
    user = add_user(server, "olivia", "admin")
    p = signed_in(server, user)
    page = p.page(f"/portal/devices/{YEALINK}")
    r = p.post(f"/portal/devices/{YEALINK}/engineer-password", {"csrf": p.csrf(page)})
    assert r.status_code == 200, r.text
    engineer = re.search(r'id="engineer-password">([^<]+)<', r.text).group(1)
    assert "static.security.user_password" in r.text
    issued = server.last_audit(reason="portal engineer password")
    assert issued["actor"] == "portal:olivia" and issued["device"] == YEALINK
    server.last_audit(reason="engineer password issued", device=YEALINK)

    # The device's next config, fetched over mutual TLS, carries it (and again within the window).
    _, status, body = server.curl(f"/{YEALINK}.cfg", mac=YEALINK)
    assert status == 200 and admin_password_in(body) == engineer
    time.sleep(WINDOW_SECONDS + 0.5)
    # The first fetch after the window carries a new one, which the portal never showed.
    _, status, body = server.curl(f"/{YEALINK}.cfg", mac=YEALINK)
    assert status == 200
    rotated = admin_password_in(body)
    assert rotated != engineer and len(rotated) == 16
    server.last_audit(reason="engineer password rotated", device=YEALINK)
    _, _, body = server.curl(f"/{YEALINK}.cfg", mac=YEALINK)
    assert admin_password_in(body) == rotated
    after = p.page(f"/portal/devices/{YEALINK}")
    assert rotated not in after and re.search(r'id="engineer-window">-<', after)
    log = server.audit_bytes().decode() + server.log.read_text()
    assert engineer not in log and rotated not in log
