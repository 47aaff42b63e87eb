"""`provgate demo init`, as the README's first command runs it (scripts/demo.sh)."""
import re

from conftest import BINARY, free_ports, run


def test_a_second_init_keeps_the_demo_and_prints_the_ports_it_serves(tmp_path):
    port, admin_port, other = free_ports(3)
    first = run("demo", "init", "--dir", tmp_path / "demo", "--port", port, "--admin-port", admin_port).stdout
    assert f"https://localhost:{port}/001565a1b2c3.cfg" in first
    assert f"https://localhost:{admin_port}/api/v1/devices" in first
    assert "already held a demo" not in first

    again = run("demo", "init", "--dir", tmp_path / "demo", "--port", other).stdout
    fetch_ports = set(re.findall(r"https://localhost:(\d+)/0", again))
    assert fetch_ports == {str(port)}, again
    assert f"https://localhost:{admin_port}/api/v1/devices" in again
    assert str(other) not in again
    assert "already held a demo: it is kept as it was" in again


def test_init_says_how_to_serve_with_this_binary_and_what_the_fetches_show(tmp_path):
    port, admin_port = free_ports(2)
    out = run("demo", "init", "--dir", tmp_path / "demo", "--port", port, "--admin-port", admin_port).stdout
    config = tmp_path / "demo" / "provgate.toml"
    assert f"Serve it with: {BINARY.resolve()} -c {config} serve" in out
    # The second fetch leaves the SIP password out, and asking for another device's file
    # raises an ALERT: the demo says so, so neither looks like a bug.
    assert "later fetches leave it out" in out
    assert "logs an ALERT" in out
