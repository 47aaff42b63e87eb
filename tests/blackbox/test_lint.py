"""Black-box tests of the policy linter and the variables commands (docs/lint.md): the demo is
clean, a weakening variable is refused with the rule id and nothing saved, --force saves it and
is audited, lint then reports it, and per-device variables repair or break it again."""
import re
import subprocess
import time

from conftest import BINARY, POLYCOM, YEALINK, YEALINK2

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


def test_weakening_variable_is_refused_then_forced_then_repaired(demo):
    p = demo.cli("tenant", "vars", "set", "demo", "web_ui_enabled=true", check=False)
    assert p.returncode == 1
    assert "web-ui-unprotected" in p.stderr and "refused" in p.stderr
    assert "(no variables on this layer)" in demo.cli("tenant", "vars", "show", "demo").stdout
    assert demo.cli("lint").returncode == 0
    refused = [r for r in demo.audit() if r.get("reason") == "tenant vars refused"]
    assert refused and refused[-1]["detail"]["set"] == {"web_ui_enabled": True}

    p = demo.cli("tenant", "vars", "set", "demo", "web_ui_enabled=true", "--force")
    assert "web-ui-unprotected" in p.stdout
    assert "web_ui_enabled = true" in demo.cli("tenant", "vars", "show", "demo").stdout
    forced = [r for r in demo.audit() if r.get("reason") == "tenant vars changed"][-1]
    assert forced["detail"]["forced"] is True
    assert {f["rule"] for f in forced["detail"]["findings"]} == {"web-ui-unprotected"}
    assert forced["actor"].startswith("cli:")

    p = demo.cli("lint", check=False)
    assert p.returncode == 1
    reported = findings(p)
    assert {(mac, rule, sev) for mac, _, rule, sev in reported} == {
        (mac, "web-ui-unprotected", "error") for mac in DEVICES}
    assert "3 error(s)" in p.stdout

    # A per-device admin password protects each web UI; the secret never leaves the server.
    secret = "Adm1n-S3cret-value"
    for mac in DEVICES:
        demo.cli("device", "vars", "set", mac, f"admin_password={secret}")
    p = demo.cli("lint")
    assert findings(p) == [] and p.returncode == 0
    shown = demo.cli("device", "vars", "show", YEALINK).stdout
    assert "admin_password" in shown and secret not in shown
    assert secret not in (demo.dir / "audit.log").read_text()

    # Removing it from one device breaks that device again: refused, then forced.
    p = demo.cli("device", "vars", "unset", YEALINK, "admin_password", check=False)
    assert p.returncode == 1 and "web-ui-unprotected" in p.stderr
    assert "admin_password" in demo.cli("device", "vars", "show", YEALINK).stdout
    demo.cli("device", "vars", "unset", YEALINK, "admin_password", "--force")
    p = demo.cli("lint", check=False)
    assert p.returncode == 1
    assert [(mac, rule) for mac, _, rule, _ in findings(p)] == [(YEALINK, "web-ui-unprotected")]

    # Turning the web UI off again is never refused and makes the installation clean.
    demo.cli("tenant", "vars", "unset", "demo", "web_ui_enabled")
    for mac in (YEALINK2, POLYCOM):
        demo.cli("device", "vars", "unset", mac, "admin_password")
    p = demo.cli("lint")
    assert p.returncode == 0 and findings(p) == []


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


def test_serve_refuses_to_start_on_lint_errors_unless_forced(demo):
    demo.cli("tenant", "vars", "set", "demo", "web_ui_enabled=true", "--force")
    p = subprocess.run([str(BINARY), "-c", str(demo.config), "serve"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 1
    assert "web-ui-unprotected" in p.stdout + p.stderr and "serve --force" in p.stderr
    # --force serves anyway (and logs the findings).
    forced = subprocess.Popen([str(BINARY), "-c", str(demo.config), "serve", "--force"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 30
        out = ""
        while time.time() < deadline and "listener devices on" not in out:
            out += forced.stdout.readline()
        assert "listener devices on" in out and "web-ui-unprotected" in out
    finally:
        forced.terminate()
        forced.wait(timeout=10)
