"""The portal and its audit trail: a state change or a shown secret whose durable record
cannot be written is answered 500 with nothing secret (no session cookie, no TOTP secret,
no recovery codes), and what is typed as a user name reaches the audit trail only once it
names a user (it may be a password typed into the wrong field)."""
import re

from conftest import Server
from portal_client import Portal, add_user
from test_audit_durability import fault_env, fsync_gate  # noqa: F401 (a fixture)


def test_an_unaudited_sign_in_or_second_factor_reset_shows_no_secret(fsync_gate, tmp_path):  # noqa: F811
    s = Server(tmp_path)
    s.start(env=fault_env(fsync_gate, tmp_path))
    fail = tmp_path / "fail"
    try:
        ann = add_user(s, "ann", "admin")
        add_user(s, "bob", "support", tenant="demo")
        admin = Portal(s)
        assert admin.sign_in(ann).status_code == 303
        users = admin.page("/portal/users")
        reset = re.search(r'action="(/portal/users/\d+/reset-2fa)"', users).group(1)

        fail.touch()  # the audit disk fails from here on
        r = admin.post(reset, {"csrf": admin.csrf(users)})
        assert r.status_code == 500, r.text
        assert "could not be audited" in r.text
        assert "totp-secret" not in r.text and "recovery-codes" not in r.text

        late = Portal(s)
        r = late.sign_in(ann)
        assert r.status_code == 500, r.text
        assert "pg_session=" not in r.headers.get("Set-Cookie", "") or "pg_session=;" in r.headers["Set-Cookie"]
        assert "audit write failed" in s.log.read_text()

        fail.unlink()  # the disk is back: so is sign-in
        assert Portal(s).sign_in(ann, code=ann.recovery[0]).status_code == 303  # TOTP steps spent
    finally:
        fail.unlink(missing_ok=True)
        s.stop()


def test_a_password_typed_as_the_user_name_is_not_audited(tmp_path):
    s = Server(tmp_path)
    s.start()
    try:
        p = Portal(s)
        page = p.get("/portal/login")
        typed = "Secr3t-Typed-In-The-Wrong-Field"
        r = p.post("/portal/login", {"csrf": p.csrf(page.text), "user": typed, "password": "x", "code": "000000"})
        assert r.status_code == 401 and "Sign-in failed" in r.text
        record = s.last_audit(reason="portal sign-in failed: unknown user")
        assert record["actor"] == "portal:-", record
        assert typed.encode() not in s.audit_bytes()
        assert typed not in s.log.read_text()
    finally:
        s.stop()
