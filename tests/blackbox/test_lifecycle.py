"""Issue 3: lifecycle and credential hygiene against the real binary over real TLS."""
import concurrent.futures
import hashlib
import re
import subprocess
import time

import pytest

from conftest import YEALINK, YEALINK2, Server, get


PASSWORD = re.compile(rb"^account\.1\.password = (\S+)", re.M)


def sql(server, query):
    return server.sql(query)


def fetch(server, mac):
    return server.raw(get(f"/{mac}.cfg"), mac=mac)


@pytest.fixture
def unlimited(tmp_path):
    """A demo whose per-device rate limit lets one device send 100 requests at once."""
    s = Server(tmp_path, "[defense]\ndevice_burst = 1000\n")
    s.start()
    yield s
    s.stop()


def test_deliver_once_under_100_concurrent_requests(unlimited):
    server = unlimited
    with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
        responses = list(pool.map(lambda _: fetch(server, YEALINK2), range(100)))
    assert all(r.startswith(b"HTTP/1.1 200") for r in responses)
    with_password = [r for r in responses if PASSWORD.search(r)]
    assert len(with_password) == 1
    delivered = [r for r in server.audit() if r.get("reason") == "password delivered"
                 and r.get("device") == YEALINK2]
    assert len(delivered) == 1


def test_a_claim_another_process_left_in_flight_is_waited_for_then_given_back(server):
    """A claim whose node stopped (kill -9, or a crash) between the claim and its response
    stays in flight in the store: the device is asked to come back (503, Retry-After) while
    that node might still give it back; after a minute its fetch gives the claim back as
    abandoned (still 503), and the next gets the password. This node started after the
    claim, so the claim is not its own."""
    device = sql(server, f"select id from devices where mac='{YEALINK}'")
    now = int(time.time())
    sql(server, f"update lines set delivered_at={now}, claim='{'d' * 32}', claim_in_flight=1 "
                f"where device_id={device}")
    young = fetch(server, YEALINK)
    assert young.startswith(b"HTTP/1.1 503") and b"\r\nRetry-After: 1\r\n" in young, young[:200]
    assert not PASSWORD.search(young)
    assert server.last_audit(device=YEALINK)["reason"].startswith("claim in flight")
    sql(server, f"update lines set delivered_at={now - 61} where device_id={device}")
    giving_back = fetch(server, YEALINK)
    assert giving_back.startswith(b"HTTP/1.1 503") and not PASSWORD.search(giving_back), giving_back[:200]
    given = [r for r in server.audit() if r.get("reason") == "delivery given back" and r.get("device") == YEALINK]
    assert len(given) == 1 and given[0]["detail"]["claim"] == "d" * 32 and given[0]["detail"]["lines"] == [1]
    old = fetch(server, YEALINK)
    assert old.startswith(b"HTTP/1.1 200") and PASSWORD.search(old), old[:200]
    assert sql(server, f"select claim_in_flight from lines where device_id={device}") == "0"  # released


def test_password_is_wiped_from_the_database_after_confirmation(server):
    device = sql(server, f"select id from devices where mac='{YEALINK}'")
    assert sql(server, f"select count(*) from lines where device_id={device} and password_enc is not null") == "1"
    first = fetch(server, YEALINK)
    password = PASSWORD.search(first).group(1)
    second = fetch(server, YEALINK)  # the next fetch confirms delivery
    assert not PASSWORD.search(second) and b"account.1.user_name" in second
    assert sql(server, f"select count(*) from lines where device_id={device} and password_enc is not null") == "0"
    assert sql(server, f"select count(*) from lines where device_id={device}") == "1"  # the line stays
    assert password not in server.stored_bytes()


def test_reactivation_replaces_password_token_and_window(server):
    first = PASSWORD.search(fetch(server, YEALINK)).group(1)
    out1 = server.cli("device", "reactivate", YEALINK).stdout
    token1 = re.search(r"URL token \(shown once.*\): (\S+)", out1).group(1)
    out2 = server.cli("device", "reactivate", YEALINK).stdout
    token2 = re.search(r"URL token \(shown once.*\): (\S+)", out2).group(1)
    stored = sql(server, f"select token_hash from devices where mac='{YEALINK}'")
    assert stored == hashlib.sha256(token2.encode()).hexdigest()
    assert token1 != token2 and token1 not in stored and token2 not in stored
    assert sql(server, f"select state from devices where mac='{YEALINK}'") == "assigned"
    second = PASSWORD.search(fetch(server, YEALINK)).group(1)
    assert second != first
    reasons = [r["reason"] for r in server.audit() if r.get("device") == YEALINK
               and r["kind"] in ("lifecycle",)]
    assert reasons[:5] == ["assigned", "certificate pinned", "password delivered", "provisioned",
                           "reactivated"]
    assert "password delivered" in reasons[5:]


def test_audit_tells_the_whole_story_of_a_device(server):
    fetch(server, YEALINK)
    fetch(server, YEALINK)
    server.cli("device", "reactivate", YEALINK)
    server.cli("device", "retire", YEALINK)
    story = [(r["kind"], r["reason"]) for r in server.audit() if r.get("device") == YEALINK]
    lifecycle = [reason for kind, reason in story if kind == "lifecycle"]
    assert lifecycle == ["assigned", "certificate pinned", "password delivered", "provisioned",
                         "password removed", "reactivated", "retired"]
    assert ("request", "device file") in story
    assert fetch(server, YEALINK).startswith(b"HTTP/1.1 404")  # retired: nothing any more
    assert server.audit()[-1]["reason"] == "device retired"


def test_cli_changes_reach_the_running_server_at_once(server):
    """The server keeps devices in memory between requests (fleet cache); a change made with
    the CLI, another process, must be served from the very next request."""
    for _ in range(3):  # delivers, confirms (the password is wiped), then from memory
        assert fetch(server, YEALINK).startswith(b"HTTP/1.1 200")
    server.cli("line", "set", YEALINK, "1", "--user", "2001", "--registrar", "sip-moved.example.net")
    assert b"sip-moved.example.net" in fetch(server, YEALINK)
    server.cli("device", "retire", YEALINK)
    assert fetch(server, YEALINK).startswith(b"HTTP/1.1 404")
    assert server.audit()[-1]["reason"] == "device retired"
    server.stop()
    hits = re.search(r"fleet cache: (\d+) reads answered from memory", server.log.read_text())
    assert hits and int(hits.group(1)) > 0


def test_tenant_policy_always_keeps_delivering(server):
    server.cli("tenant", "set", "demo", "--password-policy", "always")
    assert PASSWORD.search(fetch(server, YEALINK)) and PASSWORD.search(fetch(server, YEALINK))


def test_generated_passwords_follow_the_tenant_alphabet(demo):
    demo.cli("tenant", "add", "picky")
    demo.cli("tenant", "set", "picky", "--password-length", "24", "--password-alphabet", "abcdefgh23456789")
    demo.cli("device", "add", "001565777777", "--vendor", "yealink", "--model", "T54W", "--tenant", "picky")
    out = demo.cli("line", "set", "001565777777", "1", "--user", "1", "--registrar", "r", "--generate-password").stdout
    pw = out.strip().split()[-1]
    assert len(pw) == 24 and set(pw) <= set("abcdefgh23456789")
    weak = demo.cli("tenant", "set", "picky", "--password-length", "12", "--password-alphabet", "ab", check=False)
    assert weak.returncode == 1 and "entropy" in weak.stderr


def test_bad_csv_rows_are_reported_and_nothing_is_imported(demo, tmp_path):
    csv = tmp_path / "manifest.csv"
    csv.write_text(
        "mac,vendor,model,tenant,serial,line1_user,line1_registrar\n"
        "001565100001,yealink,T54W,demo,S1,3001,sip.demo.example\n"
        "00156510000Z,yealink,T54W,demo,S2,,\n"
        "001565100003,acme,X1,demo,S3,,\n"
        "001565100004,yealink,T54W,nobody,S4,,\n"
        "00:15:65:10:00:01,yealink,T54W,demo,S5,,\n"
        f"{YEALINK},yealink,T54W,demo,S6,,\n"
        "001565100007,yealink,T54W,demo,S7,3007,\n")
    p = demo.cli("device", "import", csv, check=False)
    assert p.returncode == 1
    for line, reason in ((3, "not a MAC address"), (4, "unknown vendor 'acme'"), (5, "unknown tenant 'nobody'"),
                         (6, "repeats line 2"), (7, "already exists"), (8, "needs both user and registrar")):
        assert f"manifest.csv:{line}: " in p.stderr and reason in p.stderr, (line, p.stderr)
    assert "nothing was imported" in p.stderr
    assert "001565100001" not in demo.cli("device", "list").stdout


def test_cli_lists_the_first_100_bad_rows_and_counts_the_rest(demo, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("mac,vendor,model\n" + "".join(f"bad{i},yealink,T54W\n" for i in range(130)))
    p = demo.cli("device", "import", csv, check=False)
    assert p.returncode == 1
    assert "bad.csv:101: " in p.stderr and "bad.csv:102: " not in p.stderr
    assert "bad.csv: ... and 30 more" in p.stderr and "130 bad row(s); nothing was imported" in p.stderr


def test_import_of_100k_rows(demo, tmp_path):
    csv = tmp_path / "big.csv"
    with open(csv, "w") as f:
        f.write("mac,vendor,model,tenant,line1_user,line1_registrar\n")
        for i in range(100_000):
            f.write(f"0015{i:08x},yealink,T54W,demo,{10000 + i},sip.demo.example\n")
    start = time.monotonic()
    # One transaction either way; a sanitizer build on a busy machine takes minutes.
    p = demo.cli("device", "import", csv, timeout=900)
    elapsed = time.monotonic() - start
    print(f"imported 100000 devices in {elapsed:.1f} s")
    assert "imported 100000 device(s)" in p.stdout
    assert sql(demo, "select count(*) from devices") == str(100_000 + 3)
    assert sql(demo, "select count(*) from lines where password_enc is not null") == str(100_000 + 3)
    assert sql(demo, "select count(*) from audit where reason='assigned'") == str(100_000 + 3)
