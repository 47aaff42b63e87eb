"""The portal's operator pages over raw HTTP with real cookies: the fleet overview's charts,
bans, audit search and the device credential actions: roles, CSRF, tenant scope by URL and
form field, audit records, and markup rendered inert (docs/portal.md)."""
import re
import time

from api_client import new_mac
from conftest import YEALINK, get
from portal_client import Portal, add_user

PAYLOAD = """<script>alert(1)</script>"'><img src=x onerror=alert(2)>"""
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&apos;&gt;&lt;img src=x onerror=alert(2)&gt;"


def signed_in(server, user):
    p = Portal(server)
    r = p.sign_in(user)
    assert r.status_code == 303, r.text
    return p


def chart_table(page, chart_id):
    """{label: total} of a chart's fallback table."""
    table = re.search(rf'<table class="chart-table" id="{chart_id}-table">.*?</table>', page, re.S).group(0)
    body = table.split("<tbody>", 1)[1]
    return {label: int(total) for label, total in
            re.findall(r"<tr><th>(.*?)</th>(?:<td>-?\d+</td>)*?<td>(-?\d+)</td></tr>", body)}


def inert(page):
    assert "<script>alert" not in page and "<img" not in page
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/portal/static/portal.js" defer>']


def wait_for(fetch, predicate, what):
    """The store's copy of the audit trail follows the file within seconds."""
    deadline = time.time() + 15
    while True:
        page = fetch()
        if predicate(page):
            return page
        assert time.time() < deadline, what
        time.sleep(0.3)


def test_the_overview_draws_its_charts_with_tables_scoped_to_the_tenant(server):
    server.cli("tenant", "add", "other", "--display-name", "Other Ltd")
    for _ in range(3):
        server.cli("device", "add", new_mac(), "--vendor", "yealink", "--model", "T54W", "--tenant", "other")
    server.raw(get("/nothing-here.cfg"), mac=YEALINK)  # a refused device request
    admin = signed_in(server, add_user(server, "olivia", "admin"))
    page = wait_for(lambda: admin.page("/portal/overview"),
                    lambda p: sum(chart_table(p, "chart-refusals").values()) > 0, "no refusal in the overview")
    for chart in ("chart-states", "chart-provisioned", "chart-firmware", "chart-refusals"):
        assert re.search(rf'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" id="{chart}"', page)
        assert f'id="{chart}-table"' in page
    assert len(chart_table(page, "chart-provisioned")) == 30
    assert "style=" not in page
    everyone = sum(chart_table(page, "chart-states").values())
    tenant = signed_in(server, add_user(server, "tina", "tenant-admin", tenant="demo"))
    theirs = tenant.page("/portal/overview")
    assert sum(chart_table(theirs, "chart-states").values()) == everyone - 3
    # The refusal was of the tenant's own device: its chart counts it too.
    assert 0 < sum(chart_table(theirs, "chart-refusals").values()) <= sum(chart_table(page, "chart-refusals").values())
    # An auditor sees the refusals, not the devices; support the devices, not the audit.
    auditor = signed_in(server, add_user(server, "audrey", "auditor")).page("/portal/overview")
    assert 'id="chart-refusals"' in auditor and 'id="chart-states"' not in auditor
    support = signed_in(server, add_user(server, "sam", "support")).page("/portal/overview")
    assert 'id="chart-states"' in support and 'id="chart-refusals"' not in support


def test_bans_are_listed_added_and_lifted_by_role_with_csrf_and_audit(server):
    admin = signed_in(server, add_user(server, "olivia", "admin"))
    page = admin.page("/portal/bans")
    csrf = admin.csrf(page)
    assert 'id="no-bans"' in page
    assert admin.post("/portal/bans/add", {"source": "198.51.100.7", "minutes": "30"}).status_code == 403
    r = admin.post("/portal/bans/add", {"csrf": csrf, "source": "198.51.100.7", "minutes": "30", "reason": PAYLOAD})
    assert r.status_code == 200, r.text
    inert(r.text)
    assert "198.51.100.7/32" in r.text and ESCAPED in r.text
    server.last_audit(reason="portal ban added: 198.51.100.7", actor="portal:olivia")
    for bad in ({"source": "not an address", "minutes": "30"}, {"source": "198.51.100.8", "minutes": "0"},
                {"source": "198.51.100.8", "minutes": "x"}):
        assert admin.post("/portal/bans/add", {"csrf": csrf, **bad}).status_code == 400, bad

    support = signed_in(server, add_user(server, "sam", "support"))
    listed = support.page("/portal/bans")
    assert 'id="ban-add"' not in listed and 'id="lift-198.51.100.7/32"' in listed
    r = support.post("/portal/bans/add", {"csrf": support.csrf(listed), "source": "198.51.100.9", "minutes": "5"})
    assert r.status_code == 403
    tenant = signed_in(server, add_user(server, "tina", "tenant-admin", tenant="demo"))
    refused = tenant.get("/portal/bans")
    assert refused.status_code == 403
    r = tenant.post("/portal/bans/lift", {"csrf": tenant.csrf(refused.text), "source": "198.51.100.7/32"})
    assert r.status_code == 403
    server.last_audit(reason="portal ban lifted refused: role", actor="portal:tina")

    r = support.post("/portal/bans/lift", {"csrf": support.csrf(listed), "source": "198.51.100.7/32"})
    assert r.status_code == 200 and 'id="no-bans"' in r.text
    server.last_audit(reason="portal ban lifted: 198.51.100.7/32", actor="portal:sam")
    server.last_audit(reason="ban removed", actor="portal:sam")
    r = support.post("/portal/bans/lift", {"csrf": support.csrf(listed), "source": "198.51.100.7/32"})
    assert r.status_code == 404


def test_audit_search_filters_and_stays_in_the_tenant(server):
    server.cli("tenant", "add", "other", "--display-name", "Other Ltd")
    theirs = new_mac()
    server.cli("device", "add", theirs, "--vendor", "yealink", "--model", "T54W", "--tenant", "other")
    admin = signed_in(server, add_user(server, "olivia", "admin"))
    csrf = admin.csrf(admin.page(f"/portal/devices/{theirs}"))
    assert admin.post(f"/portal/devices/{theirs}/repin", {"csrf": csrf}).status_code == 200
    assert admin.post(f"/portal/devices/{YEALINK}/repin", {"csrf": csrf}).status_code == 200
    found = wait_for(lambda: admin.page(f"/portal/audit?device={theirs}&kind=admin"),
                     lambda p: "portal repin" in p, "the repin never reached the audit search")
    rows = re.search(r'<table id="audit">.*?</table>', found, re.S).group(0)
    assert theirs in rows and YEALINK not in rows and ">request<" not in rows
    assert "portal:olivia" in rows
    denied = admin.page("/portal/audit?decision=deny&kind=admin")
    assert "portal repin" not in denied
    assert admin.page(f"/portal/audit?device={theirs}&until=2000-01-01").count("portal repin") == 0
    assert admin.get("/portal/audit?since=yesterday").status_code == 400
    assert admin.get("/portal/audit?decision=maybe").status_code == 400
    # A tenant user reads its tenant's records only, whatever the URL names: the domain's
    # record of the change is written with the device's tenant.
    tenant = signed_in(server, add_user(server, "tina", "tenant-admin", tenant="demo"))
    mine = wait_for(lambda: tenant.page(f"/portal/audit?device={YEALINK}"),
                    lambda p: "certificate pin cleared" in p, "the tenant's own record is missing")
    assert 'name="tenant"' not in mine
    assert "certificate pin cleared" in admin.page(f"/portal/audit?device={theirs}")
    theirs_page = tenant.page(f"/portal/audit?device={theirs}")
    assert "certificate pin cleared" not in theirs_page and theirs not in theirs_page.split('<table id="audit">')[1]
    # Another tenant named in the URL answers as an unknown one.
    other = tenant.get("/portal/audit?tenant=other")
    assert other.status_code == tenant.get("/portal/audit?tenant=nosuch").status_code == 404
    assert "portal repin" not in other.text
    # Support may not read the audit; an auditor may.
    assert signed_in(server, add_user(server, "sam", "support")).get("/portal/audit").status_code == 403
    assert signed_in(server, add_user(server, "audrey", "auditor")).get("/portal/audit").status_code == 200


def test_audit_search_pages_through_older_records(server):
    admin = signed_in(server, add_user(server, "olivia", "admin"))
    admin.page("/portal/devices")
    for _ in range(110):  # each a refused state change: an audit record (kind admin, deny)
        assert admin.post("/portal/logout", {}).status_code == 403
    # The store's audit table lags the file (audit.store_copy_delay_ms): the first page is the
    # newest 100 copied so far, so both pages are read again until all 110 are in.
    def both_pages():
        first = admin.page("/portal/audit?kind=admin&decision=deny")
        link = re.search(r'<a href="([^"]+)" id="audit-next"', first)
        return first, admin.page(link.group(1).replace("&amp;", "&")) if link else "", link

    first, second, link = wait_for(both_pages, lambda pages: pages[1].count("missing or wrong CSRF token") >= 10,
                                   "no second page with the older records")
    assert first.count("missing or wrong CSRF token") == 100
    href = link.group(1).replace("&amp;", "&")
    assert "kind=admin" in href and "decision=deny" in href
    assert 10 <= second.count("missing or wrong CSRF token") <= 100


def test_markup_renders_inert_on_the_operator_pages(server):
    mac = new_mac()
    server.cli("device", "add", mac, "--vendor", "yealink", "--model", "T54W", "--tenant", "demo",
               "--serial", PAYLOAD)
    victim = Portal(server)
    page = victim.get("/portal/login").text
    victim.post("/portal/login", {"csrf": victim.csrf(page), "user": PAYLOAD, "password": "x", "code": "1"})
    admin = signed_in(server, add_user(server, "olivia", "admin"))
    from urllib.parse import quote
    audit = wait_for(lambda: admin.page("/portal/audit?decision=deny"), lambda p: "sign-in failed" in p,
                     "the failed sign-in never reached the audit search")
    pages = [audit, admin.page("/portal/overview"), admin.page("/portal/bans"), admin.page("/portal/users"),
             admin.page("/portal/import"), admin.page("/portal/account/totp"),
             admin.get("/portal/audit?device=" + quote(PAYLOAD[:60], safe="")).text,
             admin.get("/portal/audit?kind=" + quote(PAYLOAD[:16], safe="")).text]
    for text in pages:
        inert(text)
    # What was typed as an unknown user name is not recorded at all (it may be a password).
    assert "portal:-" in audit and ESCAPED not in audit


def test_device_credentials_are_issued_once_and_revoked_in_scope(server):
    server.cli("tenant", "add", "other", "--display-name", "Other Ltd")
    theirs = new_mac()
    server.cli("device", "add", theirs, "--vendor", "yealink", "--model", "T54W", "--tenant", "other")
    tenant = signed_in(server, add_user(server, "tina", "tenant-admin", tenant="demo"))
    page = tenant.page(f"/portal/devices/{YEALINK}")
    csrf = tenant.csrf(page)
    assert 'id="action-credential-token"' in page and 'id="action-credential-digest"' in page
    assert tenant.post(f"/portal/devices/{YEALINK}/credential-token", {}).status_code == 403
    tokens = []
    for _ in range(2):
        r = tenant.post(f"/portal/devices/{YEALINK}/credential-token", {"csrf": csrf, "mac": theirs})
        assert r.status_code == 200, r.text
        tokens.append(re.search(r'id="new-credential">([^<]+)<', r.text).group(1))
    assert tokens[0] != tokens[1]
    record = server.last_audit(reason="portal issue URL token", actor="portal:tina")
    assert record["device"] == YEALINK and tokens[1] not in server.audit_bytes().decode()
    r = tenant.post(f"/portal/devices/{YEALINK}/credential-digest", {"csrf": csrf})
    assert r.status_code == 200 and re.search(r'id="new-credential">([^<]+)<', r.text)
    r = tenant.post(f"/portal/devices/{YEALINK}/credential-digest-revoke", {"csrf": csrf})
    assert r.status_code == 200 and "Revoked the digest password." in r.text
    for action in ("credential-token", "credential-digest", "credential-token-revoke", "credential-digest-revoke"):
        assert tenant.post(f"/portal/devices/{theirs}/{action}", {"csrf": csrf}).status_code == 404, action
    assert tenant.post(f"/portal/devices/{YEALINK}/credential-nonsense", {"csrf": csrf}).status_code == 404
    support = signed_in(server, add_user(server, "sam", "support"))
    spage = support.page(f"/portal/devices/{YEALINK}")
    assert 'id="action-credential-token"' not in spage
    assert support.post(f"/portal/devices/{YEALINK}/credential-token",
                        {"csrf": support.csrf(spage)}).status_code == 403


def upload(p, csv_text, csrf=None):
    form = p.page("/portal/import") if csrf is None else ""
    data = {"csrf": csrf if csrf is not None else p.csrf(form)}
    return p.post("/portal/import", data, files={"file": ("devices.csv", csv_text.encode(), "text/csv")})


def test_the_csv_import_reports_rows_and_imports_all_or_nothing(server):
    admin = signed_in(server, add_user(server, "olivia", "admin"))
    a, b = new_mac(), new_mac()
    r = upload(admin, f"mac,vendor,model,tenant,serial\r\n{a},yealink,T54W,demo,S1\r\n{b},yealink,T54W,,S2\r\n")
    assert r.status_code == 200, r.text
    assert "Rows processed: 2. Imported: 2. Failed: 0." in r.text
    assert admin.page(f"/portal/devices/{a}").count('id="state">assigned<') == 1
    server.last_audit(reason="portal import: 2 rows, 2 imported, 0 failed", actor="portal:olivia")

    c, d = new_mac(), new_mac()
    bad = ("mac,vendor,model,tenant\n"
           f"{c},yealink,T54W,demo\n"
           f"\"{PAYLOAD.replace(chr(34), chr(34) * 2)}\",yealink,T54W,demo\n"
           f"{d},nosuchvendor,T54W,demo\n")
    r = upload(admin, bad)
    assert r.status_code == 422, r.text
    inert(r.text)
    assert "Rows processed: 3. Imported: 0. Failed: 2." in r.text
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td></tr>", r.text)
    assert [line for line, _ in rows] == ["3", "4"], rows
    assert admin.get(f"/portal/devices/{c}").status_code == 404  # nothing was imported

    r = upload(admin, 'mac,vendor,model\n"001565000001,yealink,T54W\n')
    assert r.status_code == 422 and "could not be read" in r.text
    r = upload(admin, "")
    assert r.status_code == 422
    assert upload(admin, "mac,vendor,model\n", csrf="").status_code == 403
    assert upload(admin, "mac,vendor,model\n", csrf="0" * 64).status_code == 403
    big = "mac,vendor,model\n" + "x" * (4 * 1024 * 1024 + 10)
    assert upload(admin, big).status_code == 413


def test_the_csv_import_stays_in_the_tenant_and_needs_device_write(server):
    server.cli("tenant", "add", "other", "--display-name", "Other Ltd")
    tenant = signed_in(server, add_user(server, "tina", "tenant-admin", tenant="demo"))
    mine, theirs = new_mac(), new_mac()
    r = upload(tenant, f"mac,vendor,model,tenant\n{mine},yealink,T54W,demo\n{theirs},yealink,T54W,other\n")
    assert r.status_code == 422 and "Failed: 1." in r.text
    assert re.findall(r"<tr><td>(\d+)</td>", r.text) == ["3"]
    r = upload(tenant, f"mac,vendor,model,tenant\n{mine},yealink,T54W,demo\n")
    assert r.status_code == 200 and "Imported: 1." in r.text
    support = signed_in(server, add_user(server, "sam", "support"))
    refused = support.get("/portal/import")
    assert refused.status_code == 403
    assert upload(support, "mac,vendor,model\n", csrf=support.csrf(refused.text)).status_code == 403


def test_the_authenticator_is_re_enrolled_only_after_confirmation(server):
    from portal_client import PASSWORD, totp
    user = add_user(server, "olivia", "admin")
    p = signed_in(server, user)
    page = p.page("/portal/account/totp")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    uri = re.search(r'id="otpauth-uri">([^<]+)<', page).group(1).replace("&amp;", "&")
    assert uri.startswith("otpauth://totp/provgate:olivia?") and f"secret={secret}" in uri
    assert re.search(r'<div class="qr" id="qr"><svg', page)
    assert secret != user.secret
    pending = re.search(r'name="pending" value="([^"]+)"', page).group(1)
    form = {"csrf": p.csrf(page), "pending": pending, "password": PASSWORD}
    assert p.post("/portal/account/totp", {**form, "csrf": ""}).status_code == 403
    r = p.post("/portal/account/totp", {**form, "code": totp(user.secret)})  # the old secret's code
    assert r.status_code == 403 and 'id="error"' in r.text
    r = p.post("/portal/account/totp", {**form, "password": "wrong password 1", "code": totp(secret)})
    assert r.status_code == 403
    server.last_audit(reason="portal authenticator enrolment refused", actor="portal:olivia")
    # Not confirmed yet: the old authenticator still signs in.
    assert Portal(server).sign_in(user).status_code == 303
    r = p.post("/portal/account/totp", {**form, "code": totp(secret)})
    assert r.status_code == 200 and "The new authenticator is in use" in r.text
    server.last_audit(reason="portal authenticator enrolled", actor="portal:olivia")
    assert Portal(server).sign_in(user, code=totp(user.secret, 1)).status_code == 401
    assert Portal(server).sign_in(user, code=totp(secret, 1)).status_code == 303
    # The secret is sealed at rest and never audited.
    assert secret not in server.audit_bytes().decode()
    for db in server.dir.glob("provgate.db*"):
        assert secret.encode() not in db.read_bytes(), db


def added_user(page):
    """The User of a page that shows a new user's secrets once, and its initial password."""
    from portal_client import User
    name = re.search(r'id="new-user-name">([^<]+)<', page).group(1)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    uri = re.search(r'id="otpauth-uri">([^<]+)<', page).group(1).replace("&amp;", "&")
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", page)
    password = re.search(r'id="new-password">([^<]+)<', page)
    return User(name, secret, uri, codes), password.group(1) if password else None


def action_path(page, action, name):
    return re.search(rf'<form method="post" action="([^"]+)"><input type="hidden" name="csrf" value="[0-9a-f]+">'
                     rf'<button type="submit" id="{action}-{name}">', page).group(1)


def test_an_admin_adds_disables_resets_and_removes_users(server):
    admin = signed_in(server, add_user(server, "olivia", "admin"))
    page = admin.page("/portal/users")
    csrf = admin.csrf(page)
    assert admin.post("/portal/users/add", {"name": "una", "role": "support"}).status_code == 403
    r = admin.post("/portal/users/add", {"csrf": csrf, "name": "una", "role": "support"})
    assert r.status_code == 200, r.text
    una, password = added_user(r.text)
    assert una.name == "una" and len(password) == 20 and len(una.recovery) == 10
    assert una.otpauth.startswith("otpauth://totp/provgate:una?") and '<div class="qr" id="qr"><svg' in r.text
    assert password not in server.audit_bytes().decode() and una.secret not in server.audit_bytes().decode()
    server.last_audit(reason="portal user added: una", actor="portal:olivia")
    session = Portal(server)
    assert session.sign_in(una, password=password).status_code == 303
    assert session.get("/portal/devices").status_code == 200

    # Disable: her session ends and she cannot sign in; enable lets her in again.
    r = admin.post(action_path(r.text, "disable", "una"), {"csrf": csrf})
    assert r.status_code == 200 and "Done: disable una." in r.text and ">disabled<" in r.text
    assert session.get("/portal/devices").status_code == 303
    from portal_client import totp
    assert Portal(server).sign_in(una, password=password, code=totp(una.secret, 1)).status_code == 401
    r = admin.post(action_path(r.text, "enable", "una"), {"csrf": csrf})
    assert r.status_code == 200 and "Done: enable una." in r.text
    assert session.sign_in(una, password=password, code=totp(una.secret, 1)).status_code == 303

    # Reset the second factor: a new secret and codes, shown once; the old ones stop working.
    r = admin.post(action_path(r.text, "reset-2fa", "una"), {"csrf": csrf})
    assert r.status_code == 200
    fresh, none = added_user(r.text)
    assert none is None and fresh.secret != una.secret and set(fresh.recovery).isdisjoint(una.recovery)
    assert session.get("/portal/devices").status_code == 303  # sessions ended
    assert Portal(server).sign_in(una, password=password, code=una.recovery[0]).status_code == 401
    assert Portal(server).sign_in(fresh, password=password).status_code == 303
    server.last_audit(reason="portal user reset-2fa: una", actor="portal:olivia")

    r = admin.post(action_path(r.text, "remove", "una"), {"csrf": csrf})
    assert r.status_code == 200 and "Done: remove una." in r.text and "<td>una</td>" not in r.text
    assert Portal(server).sign_in(fresh, password=password).status_code == 401
    # Not on one's own account; an unknown user is 404.
    me = re.search(r"<tr><td>olivia</td>.*?</tr>", r.text).group(0)
    assert "<form" not in me
    assert admin.post("/portal/users/999999/remove", {"csrf": csrf}).status_code == 404
    assert admin.post("/portal/users/add", {"csrf": csrf, "name": PAYLOAD, "role": "support"}).status_code == 400


def test_a_tenant_admin_manages_only_its_tenants_users(server):
    server.cli("tenant", "add", "other", "--display-name", "Other Ltd")
    add_user(server, "otto", "tenant-admin", tenant="other")
    add_user(server, "olivia", "admin")
    tina = add_user(server, "tina", "tenant-admin", tenant="demo")
    p = signed_in(server, tina)
    page = p.page("/portal/users")
    csrf = p.csrf(page)
    assert "<td>tina</td>" in page and "otto" not in page and "olivia" not in page
    assert 'value="admin"' not in page and 'name="tenant"' not in page
    # The form's tenant is ignored: the user joins the tenant-admin's own tenant.
    r = p.post("/portal/users/add", {"csrf": csrf, "name": "tim", "role": "auditor", "tenant": "other"})
    assert r.status_code == 200, r.text
    assert re.search(r"<tr><td>tim</td><td>auditor</td><td>demo</td>", r.text)
    assert p.post("/portal/users/add", {"csrf": csrf, "name": "ada", "role": "admin"}).status_code == 400
    # Another tenant's user and a platform user answer as absent ones, for every action.
    admin = signed_in(server, add_user(server, "olivia2", "admin"))
    listing = admin.page("/portal/users")
    for name in ("otto", "olivia"):
        for action in ("disable", "reset-2fa", "remove"):
            path = action_path(listing, action, name)
            assert p.post(path, {"csrf": csrf}).status_code == 404, (name, action)
    assert p.post(action_path(listing, "disable", "tina").replace("disable", "remove"),
                  {"csrf": csrf}).status_code == 400  # her own account
    support = signed_in(server, add_user(server, "sam", "support"))
    refused = support.get("/portal/users")
    assert refused.status_code == 403
    assert support.post(action_path(listing, "remove", "otto"), {"csrf": support.csrf(refused.text)}).status_code == 403
    assert "<td>otto</td>" in admin.page("/portal/users")
