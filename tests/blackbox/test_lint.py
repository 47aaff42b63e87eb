"""Black-box tests of the policy linter and the variables commands (docs/lint.md): the demo is
clean, a weakening variable is refused with the rule id and nothing saved, --force saves it and
is audited, lint then reports it, and per-device variables repair or break it again."""
import re
import subprocess
import time

from conftest import BINARY, POLYCOM, YEALINK, YEALINK2, get

DEVICES = (YEALINK, YEALINK2, POLYCOM)
FINDING = re.compile(r"^([0-9a-f]{12}) (\S+) ([a-z-]+) (error|warning): .+ \(fix: .+\)$")


def findings(p):
    """(mac, file, rule, severity) of every finding line in the output of `provgate lint`."""
    out = []
    for line in p.stdout.splitlines():
        m = FINDING.match(line)
        if m:
            out.append(m.groups())
    return out


def test_lint_is_silent_on_the_demo(demo):
    p = demo.cli("lint")
    assert p.returncode == 0, p.stdout + p.stderr
    assert findings(p) == []
    assert "3 device(s), 0 error(s)" in p.stdout
    for args in (("--tenant", "demo"), ("--device", YEALINK), ("--device", "00:04:F2:A1:B2:C3")):
        p = demo.cli("lint", *args)
        assert p.returncode == 0 and findings(p) == [], p.stdout + p.stderr


def test_lint_rejects_unknown_selections(demo):
    assert "unknown tenant" in demo.cli("lint", "--tenant", "nope", check=False).stderr
    assert "no device" in demo.cli("lint", "--device", "001565000001", check=False).stderr
    assert demo.cli("lint", "--device", "not-a-mac", check=False).returncode == 1


def test_every_device_gets_its_own_web_admin_password(demo):
    """Enabling the web UI is safe by default: each device's own random admin password, sealed
    at rest, reaches only that device's file and never the audit trail."""
    p = demo.cli("tenant", "vars", "set", "demo", "web_ui_enabled=true")
    assert findings(p) == []
    assert demo.cli("lint").returncode == 0
    demo.start()
    passwords = set()
    for mac in (YEALINK, YEALINK2):
        body = demo.raw(get(f"/{mac}.cfg"), mac=mac).partition(b"\r\n\r\n")[2].decode()
        m = re.search(r"^static\.security\.user_password = admin:(\S+)$", body, re.M)
        assert m, body
        passwords.add(m.group(1))
    assert len(passwords) == 2
    audit = demo.audit_bytes().decode() + demo.log.read_text()
    assert not any(pw in audit for pw in passwords)


def test_weakening_variable_is_refused_then_forced_then_repaired(demo):
    p = demo.cli("tenant", "vars", "set", "demo", "provisioning_interval_minutes=0", check=False)
    assert p.returncode == 1
    assert "no-periodic-recheck" in p.stderr and "refused" in p.stderr
    assert "(no variables on this layer)" in demo.cli("tenant", "vars", "show", "demo").stdout
    assert demo.cli("lint").returncode == 0
    refused = [r for r in demo.audit() if r.get("reason") == "tenant vars refused"]
    assert refused and refused[-1]["detail"]["set"] == {"provisioning_interval_minutes": 0}

    p = demo.cli("tenant", "vars", "set", "demo", "provisioning_interval_minutes=0", "--force")
    assert "no-periodic-recheck" in p.stdout
    forced = [r for r in demo.audit() if r.get("reason") == "tenant vars changed"][-1]
    assert forced["detail"]["forced"] is True
    assert "no-periodic-recheck" in {f["rule"] for f in forced["detail"]["findings"]}
    assert forced["actor"].startswith("cli:")
    p = demo.cli("lint", check=False)
    assert p.returncode == 1
    assert {rule for _, _, rule, sev in findings(p) if sev == "error"} == {"no-periodic-recheck"}

    demo.cli("tenant", "vars", "unset", "demo", "provisioning_interval_minutes")
    assert demo.cli("lint").returncode == 0


def test_a_device_whose_web_ui_is_unprotected_is_reported_and_repaired(demo):
    demo.cli("tenant", "vars", "set", "demo", "web_ui_enabled=true")
    demo.cli("device", "admin-password", YEALINK, "--revoke")
    p = demo.cli("lint", check=False)
    assert p.returncode == 1
    assert [(mac, rule) for mac, _, rule, _ in findings(p)] == [(YEALINK, "web-ui-unprotected")]
    # A variable chosen by the operator protects it as well, and stays out of every log.
    secret = "Adm1n-S3cret-value"
    demo.cli("device", "vars", "set", YEALINK, f"admin_password={secret}")
    assert demo.cli("lint").returncode == 0
    shown = demo.cli("device", "vars", "show", YEALINK).stdout
    assert "admin_password" in shown and secret not in shown
    assert secret not in demo.audit_bytes().decode()
    # Removing it breaks that device again: refused, then forced.
    p = demo.cli("device", "vars", "unset", YEALINK, "admin_password", check=False)
    assert p.returncode == 1 and "web-ui-unprotected" in p.stderr
    demo.cli("device", "vars", "unset", YEALINK, "admin_password", "--force")
    assert demo.cli("lint", check=False).returncode == 1
    out = demo.cli("device", "admin-password", YEALINK).stdout
    assert "shown once" in out
    assert demo.cli("lint").returncode == 0


def test_harmless_variables_are_saved_and_typed(demo):
    demo.cli("tenant", "vars", "set", "demo", "ntp_server_2=time.example", "provisioning_interval_minutes=60")
    shown = demo.cli("tenant", "vars", "show", "demo").stdout
    assert 'ntp_server_2 = "time.example"' in shown
    assert "provisioning_interval_minutes = 60" in shown
    assert demo.cli("lint").returncode == 0


def test_variable_names_are_validated(demo):
    for bad in ("device=1", "lines=x", "password=x", "a b=1", "noequals", "x.=1"):
        p = demo.cli("tenant", "vars", "set", "demo", bad, check=False)
        assert p.returncode == 1, bad
        assert "error" in p.stderr, bad
    p = demo.cli("device", "vars", "unset", YEALINK, "never_set", check=False)
    assert p.returncode == 1 and "not set" in p.stderr
    assert "(no variables on this layer)" in demo.cli("tenant", "vars", "show", "demo").stdout


def test_a_tenant_change_breaking_recheck_is_refused(demo):
    # provisioning_interval_minutes = 0 turns the Yealink periodic re-check off.
    p = demo.cli("tenant", "vars", "set", "demo", "provisioning_interval_minutes=0", check=False)
    assert p.returncode == 1 and "no-periodic-recheck" in p.stderr
    assert "(no variables on this layer)" in demo.cli("tenant", "vars", "show", "demo").stdout


def test_one_failing_device_is_withheld_and_the_others_are_served(demo):
    """One device's variables never stop the server: it starts, the failing device gets the
    uniform 404 (audited with the lint rule), the others get their files, and the device is
    served again once its configuration is fixed."""
    demo.cli("tenant", "vars", "set", "demo", "web_ui_enabled=true")
    demo.cli("device", "admin-password", YEALINK, "--revoke")
    demo.start()
    assert "ALERT lint: device " + YEALINK in demo.log.read_text()
    assert demo.raw(get(f"/{YEALINK}.cfg"), mac=YEALINK).startswith(b"HTTP/1.1 404")
    record = demo.last_audit(file=f"/{YEALINK}.cfg")
    assert record["reason"].startswith("withheld by lint: ") and "web-ui-unprotected" in record["reason"]
    assert demo.raw(get(f"/{YEALINK2}.cfg"), mac=YEALINK2).startswith(b"HTTP/1.1 200")
    demo.cli("device", "admin-password", YEALINK)
    assert demo.raw(get(f"/{YEALINK}.cfg"), mac=YEALINK).startswith(b"HTTP/1.1 200")


def test_adding_a_device_whose_config_would_fail_lint_is_refused(demo):
    demo.cli("tenant", "vars", "set", "demo", "provisioning_interval_minutes=0", "--force")
    p = demo.cli("device", "add", "00:15:65:00:00:42", "--vendor", "yealink", "--model", "T54W",
                 "--tenant", "demo", check=False)
    assert p.returncode == 1 and "no-periodic-recheck" in p.stderr and "nothing was saved" in p.stderr
    assert demo.cli("device", "show", "001565000042", check=False).returncode == 1
