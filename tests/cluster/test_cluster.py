"""Three provgate nodes on PostgreSQL (primary + synchronous standby) behind HAProxy with
PROXY protocol v2 (scripts/cluster-demo.sh). The tests share one cluster and run in file
order: the last two kill a node and fail the database over."""
import concurrent.futures
import hashlib
import re
import signal
import subprocess
import threading
import time

from conftest import PASSWORD, status

YEALINK = "001565a1b2c3"
YEALINK2 = "805ec0d4e5f6"
POLYCOM = "0004f2a1b2c3"


def report(capsys, text):
    with capsys.disabled():
        print(f"\n[cluster] {text}")


def delivered(cluster, mac):
    """{node: number of 'password delivered' records of mac in that node's audit file}."""
    return {n: sum(1 for r in records if r.get("reason") == "password delivered" and r.get("device") == mac)
            for n, records in cluster.all_audit().items()}


def test_100_concurrent_first_fetches_through_haproxy_deliver_the_password_once(cluster):
    def one(_):
        try:
            return cluster.fetch(YEALINK2)
        except OSError as e:
            return repr(e).encode()

    with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
        responses = list(pool.map(one, range(100)))
    # A fetch that reaches another node while the password's claim is in flight is asked to
    # come back (503, Retry-After): that claim's response may not have left yet.
    refused = [r for r in responses if status(r) != 200]
    assert all(status(r) == 503 and b"\r\nRetry-After: 1\r\n" in r for r in refused), [r[:80] for r in refused][:3]
    assert len(refused) < 100
    assert len([r for r in responses if PASSWORD.search(r)]) == 1
    time.sleep(0.5)  # secret-free records are written within audit.max_unsynced_ms
    served = {n: sum(1 for r in records if r.get("kind") == "request" and r.get("device") == YEALINK2)
              for n, records in cluster.all_audit().items()}
    assert sum(served.values()) == 100 and sum(1 for v in served.values() if v > 0) > 1, served
    in_flight = sum(1 for records in cluster.all_audit().values() for r in records
                    if r.get("device") == YEALINK2 and str(r.get("reason")).startswith("claim in flight"))
    assert in_flight == len(refused)
    assert sum(delivered(cluster, YEALINK2).values()) == 1


def test_client_address_is_the_real_one_behind_haproxy(cluster):
    assert status(cluster.fetch(YEALINK, source="127.0.0.23")) == 200
    deadline = time.time() + 5
    while True:
        records = [r for rs in cluster.all_audit().values() for r in rs
                   if r.get("kind") == "request" and r.get("device") == YEALINK]
        if records:
            break
        assert time.time() < deadline
        time.sleep(0.05)
    assert all(r["peer"].startswith("127.0.0.23:") for r in records), [r["peer"] for r in records]


def test_a_ban_raised_by_one_node_is_enforced_by_all_nodes(cluster, capsys):
    scanner = "127.0.0.9"
    # A valid certificate asking for many other devices' files, on one connection through
    # HAProxy: one node sees the whole scan and bans the source.
    paths = [f"/0015650000{i:02x}.cfg" for i in range(40)]
    answers = cluster.request(paths, cert=cluster.cert(POLYCOM), source=scanner)
    assert not any(status(a) == 200 for a in answers)
    banned_at = time.time()
    bans = {n: [r for r in records if r.get("reason") == "source banned"]
            for n, records in cluster.all_audit().items()}
    banning = [n for n, b in bans.items() if b]
    assert banning, "no node banned the scanner"
    # The ban names the client's own address, not HAProxy's.
    assert {r["detail"]["source"] for b in bans.values() for r in b} == {f"{scanner}/32"}
    # Every node refuses the scanner, whichever node it reaches (only a device proving itself
    # by certificate or URL token is still heard there: phones behind the scanner's NAT).
    seen = {}
    deadline = time.time() + 15
    while len(seen) < cluster.nodes:
        assert time.time() < deadline, f"nodes enforcing the ban: {sorted(seen)}"
        for n in range(1, cluster.nodes + 1):
            if n in seen:
                continue
            resp = cluster.request(f"/{YEALINK}.cfg", node=n, source=scanner, optional_cert=True)[0]
            if status(resp) == 401 and any(r.get("reason") == "banned source" and
                                           r.get("peer", "").startswith(scanner + ":")
                                           for r in cluster.audit(n)):
                seen[n] = time.time() - banned_at
        time.sleep(0.2)
    report(capsys, f"ban raised on node {banning}; enforced by each node after (s): "
                   + ", ".join(f"node{n} {t:.2f}" for n, t in sorted(seen.items())))
    assert f"{scanner}/32" in cluster.cli("ban", "list").stdout
    assert "127.0.0.1/32" not in cluster.cli("ban", "list").stdout
    cluster.cli("ban", "remove", scanner)


def digest_auth(challenge: str, user: str, password: str, uri: str, nc="00000001"):
    realm = re.search(r'realm="([^"]+)"', challenge).group(1)
    nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)
    h = lambda s: hashlib.sha256(s.encode()).hexdigest()
    cnonce = "0a4f113b"
    response = h(f"{h(f'{user}:{realm}:{password}')}:{nonce}:{nc}:{cnonce}:auth:{h(f'GET:{uri}')}")
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'algorithm=SHA-256, qop=auth, nc={nc}, cnonce="{cnonce}", response="{response}"')


def test_digest_devices_work_through_round_robin_with_the_shared_nonce_key(cluster):
    # HAProxy balances every connection to the next node: each answer reaches another node
    # than the challenge it answers.
    cluster.cli("tenant", "set", "demo", "--min-strength", "digest")
    password = cluster.cli("device", "digest", YEALINK2).stdout.strip().split()[-1]
    uri = f"/{YEALINK2}.cfg"
    for _ in range(2 * cluster.nodes):
        challenge = cluster.request(uri, optional_cert=True)[0]
        assert status(challenge) == 401
        www = [l.split(b":", 1)[1].strip().decode() for l in challenge.split(b"\r\n")
               if l.lower().startswith(b"www-authenticate:")]
        auth = digest_auth(www[0], YEALINK2, password, uri)
        answer = cluster.request(uri, optional_cert=True, headers=f"Authorization: {auth}\r\n")[0]
        assert status(answer) == 200, answer[:200]
    allowed = {n: sum(1 for r in rs if r.get("identity_source") == "digest" and r.get("decision") == "allow")
               for n, rs in cluster.all_audit().items()}
    assert all(v > 0 for v in allowed.values()), allowed


def token_status(cluster, mac, token, node):
    """Status of a certificate-less fetch of mac's file with a URL token on one node."""
    return status(cluster.request(f"/p/{token}/{mac}.cfg", node=node, optional_cert=True)[0])


def test_reactivation_through_one_node_reaches_every_node(cluster, capsys):
    mac = YEALINK
    cluster.cli("tenant", "set", "demo", "--min-strength", "digest")  # URL tokens count
    old_token = cluster.cli("device", "token", mac).stdout.strip().split()[-1]
    # Every node has the device in its caches, provisioned, its password delivered, and
    # serves it by the URL token.
    for n in range(1, cluster.nodes + 1):
        for _ in range(2):
            assert status(cluster.fetch(mac, node=n)) == 200
    deadline = time.time() + 5
    while not all(token_status(cluster, mac, old_token, n) == 200 for n in range(1, cluster.nodes + 1)):
        assert time.time() < deadline, "a node does not serve the device's URL token"
        time.sleep(0.1)
    old = None
    token_gone, password_due = {}, {}
    for target in range(2, cluster.nodes + 1):
        code, body = cluster.admin(1, "POST", f"/api/v1/devices/{mac}/reactivate")
        assert code == 200, body
        t0 = time.time()
        new_token = body["secrets"]["url_token"]
        # The old token stops working on every node, the new one works everywhere.
        pending = set(range(1, cluster.nodes + 1))
        while pending:
            for n in sorted(pending):
                if token_status(cluster, mac, old_token, n) != 200:
                    token_gone.setdefault(n, []).append(time.time() - t0)
                    pending.discard(n)
            assert time.time() - t0 < 5, f"nodes {sorted(pending)} still take the old URL token"
        # The new password is pending: the first fetch on the target node delivers it (no
        # node may go on serving the device as provisioned with its secrets delivered).
        while True:
            resp = cluster.fetch(mac, node=target)
            assert status(resp) == 200
            m = PASSWORD.search(resp)
            if m:
                break
            assert time.time() - t0 < 5, f"node{target} still serves the old state"
        password_due[target] = time.time() - t0
        assert m.group(1) != old
        old = m.group(1)
        # Delivered once: the other nodes do not deliver it again.
        for n in range(1, cluster.nodes + 1):
            assert not PASSWORD.search(cluster.fetch(mac, node=n))
            assert token_status(cluster, mac, new_token, n) == 200
        old_token = new_token
    report(capsys, "reactivation through node1: old URL token refused by "
           + ", ".join(f"node{n} after {max(t) * 1000:.0f} ms" for n, t in sorted(token_gone.items()))
           + "; new password served by " + ", ".join(f"node{n} after {t * 1000:.0f} ms"
                                                     for n, t in password_due.items())
           + " (each the time of the first request that saw it, a request taking a few ms)")


class Storm:
    """Devices booting through HAProxy, each retrying (new connection) until it gets a 200,
    as a phone does; records what every device received and when."""

    def __init__(self, cluster, macs, certs, workers=16, deadline_s=120):
        self.cluster, self.macs, self.certs = cluster, macs, certs
        self.workers, self.deadline_s = workers, deadline_s
        self.got = {}  # mac -> list of passwords received
        self.ok_times = []  # time of every 200 carrying a password
        self.failures = 0
        self.lock = threading.Lock()

    def boot(self, mac):
        start = time.time()
        while time.time() - start < self.deadline_s:
            try:
                resp = self.cluster.fetch(mac, certs=self.certs, timeout=10)
            except OSError:
                resp = b""
            if status(resp) == 200:
                m = PASSWORD.search(resp)
                with self.lock:
                    self.got.setdefault(mac, [])
                    if m:
                        self.got[mac].append(m.group(1))
                        self.ok_times.append(time.time())
                    if self.during and len(self.got) >= self.after_devices:
                        threading.Thread(target=self.during).start()
                        self.during = None
                return
            with self.lock:
                self.failures += 1
            time.sleep(0.05)
        raise AssertionError(f"{mac} got no answer in {self.deadline_s} s")

    def run(self, during=None, after_devices=50):
        """Boots every device; calls `during()` (from a thread of its own) once
        `after_devices` devices have their config, and waits for it."""
        self.during, self.after_devices = during, after_devices
        before = set(threading.enumerate())
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.workers) as pool:
            list(pool.map(self.boot, self.macs))
        for t in set(threading.enumerate()) - before:
            t.join()


def check_storm_against_audit(cluster, storm):
    """No device received a password twice, every received password has its durable
    'password delivered' record in some node's audit file, and no device's password was
    claimed twice (a claim given back, 'delivery given back', does not count). Returns the
    devices that received no password, split by what the audit files say: claimed with the
    claim's giving back abandoned ('delivery not given back'), claimed (a record) but not
    received, and neither received nor claimed."""
    time.sleep(0.5)
    records, given_back, not_given_back = {}, {}, set()
    for n, rs in cluster.all_audit().items():
        for r in rs:
            if r.get("device") not in storm.got:
                continue
            if r.get("reason") == "password delivered":
                records.setdefault(r["device"], []).append(n)
            elif r.get("reason") == "delivery given back" and r["detail"]["lines"]:
                given_back[r["device"]] = given_back.get(r["device"], 0) + 1
            elif r.get("reason") == "delivery not given back":
                not_given_back.add(r["device"])
    assert set(storm.got) == set(storm.macs)
    assert all(len(p) <= 1 for p in storm.got.values()), [m for m, p in storm.got.items() if len(p) > 1]
    twice = {m: ns for m, ns in records.items() if len(ns) - given_back.get(m, 0) > 1}
    assert not twice, twice
    received = {m for m, p in storm.got.items() if p}
    assert received <= set(records), sorted(received - set(records))[:5]
    unreceived = set(storm.macs) - received
    claimed = {m for m, ns in records.items() if len(ns) > given_back.get(m, 0)}
    return {"not given back (audited)": sorted(unreceived & not_given_back),
            "claimed, not received": sorted((unreceived & claimed) - not_given_back),
            "not claimed, not received": sorted(unreceived - set(records) - not_given_back)}


def db_check(cluster):
    p = cluster.cli("db", "check", check=False)
    assert p.returncode == 0, p.stdout + p.stderr


def test_kill_9_of_a_node_mid_storm_loses_no_acknowledged_secret(cluster, tmp_path, capsys):
    macs = cluster.add_devices("0015651a", 150, tmp_path)
    storm = Storm(cluster, macs, tmp_path)
    killed = {}

    def kill():
        killed["t"] = time.time()
        cluster.kill_node(2, signal.SIGKILL)

    storm.run(during=kill)
    lost = check_storm_against_audit(cluster, storm)
    audit = cluster.all_audit()
    served_by = {n: sum(1 for r in rs if r.get("kind") == "request" and r.get("device") in storm.got)
                 for n, rs in audit.items()}
    # At most once (DESIGN invariant 3) has one price, documented in docs/cluster.md (Known
    # gaps): node2 releases a claim just before its response leaves, so a kill between the
    # two leaves a released claim whose response never arrived, and the device's retry on
    # another node confirms it ("password removed") and gets its file without it. Such a
    # device is reported, not failed, when its trail shows exactly that.
    confirmed_elsewhere = {r.get("device") for n, rs in audit.items() if n != 2 for r in rs
                           if r.get("reason") == "password removed"}
    delivered_by_2 = {r.get("device") for r in audit[2] if r.get("reason") == "password delivered"}
    cut = [m for m in lost["claimed, not received"] if m in delivered_by_2 and m in confirmed_elsewhere]
    lost["claimed, not received"] = [m for m in lost["claimed, not received"] if m not in cut]
    report(capsys, f"kill -9 node2 mid-storm: {len(macs)} devices, requests per node {served_by}, "
                   f"{storm.failures} failed attempts retried, devices without a password: {lost}, "
                   f"released by node2 and cut off by the kill before they left: {cut}")
    assert served_by[1] > 0 and served_by[3] > 0
    assert max(storm.ok_times) > killed["t"], "the kill was not mid-storm"
    # A claim whose response the kill cut off before its release stays in flight: the other
    # nodes ask the device to come back until it is a minute old, then give it back as
    # abandoned and deliver the password. So no other device goes without, and one kill
    # cuts off at most the few releases under way at that instant.
    assert not any(lost.values()), f"passwords lost to the kill: {lost}"
    assert len(cut) <= 2, f"more releases cut off by one kill than were under way: {cut}"
    cluster.start_node(2)
    db_check(cluster)


def test_database_failover_mid_storm_delivers_every_password_once(cluster, tmp_path, capsys):
    macs = cluster.add_devices("0015652b", 150, tmp_path)
    storm = Storm(cluster, macs, tmp_path, deadline_s=180)
    events = {}
    pg_ctl = cluster.env["PG_BIN"] + "/pg_ctl"
    as_pg = ["runuser", "-u", "nobody", "--"] if subprocess.run(["id", "-u"], capture_output=True,
                                                                  text=True).stdout.strip() == "0" else []

    def failover():
        events["stop"] = time.time()
        subprocess.run(as_pg + [pg_ctl, "-D", cluster.env["PG_PRIMARY_DATA"], "-m", "fast", "-w", "stop"],
                       check=True, capture_output=True)
        events["stopped"] = time.time()
        subprocess.run(as_pg + [pg_ctl, "-D", cluster.env["PG_STANDBY_DATA"], "-w", "promote"],
                       check=True, capture_output=True)
        events["promoted"] = time.time()

    storm.run(during=failover)
    lost = check_storm_against_audit(cluster, storm)
    times = sorted(storm.ok_times)
    assert times[0] < events["stop"] and times[-1] > events["promoted"], "the failover was not mid-storm"
    # The outage: the longest pause between two deliveries that ends after the stop began.
    outage = max(b - a for a, b in zip(times, times[1:]) if b >= events["stop"])
    report(capsys, f"failover: {len(macs)} devices; primary stopped in "
                   f"{events['stopped'] - events['stop']:.2f} s, standby promoted "
                   f"{events['promoted'] - events['stopped']:.2f} s later; longest pause between deliveries "
                   f"{outage:.2f} s; {storm.failures} failed attempts retried; devices without a "
                   f"password: {lost}")
    assert cluster.psql("SELECT pg_is_in_recovery()", url=cluster.env["PG_STANDBY_URL"]) == "f"
    db_check(cluster)
    # A claim cut off by the failover (committed, then the request's next statement failed;
    # or committed with its acknowledgement lost) is in flight until its node gives it back
    # by its claim id once the promoted standby answers (pipeline::GiveBacks): meanwhile
    # the device's retries on other nodes are asked to come back, and then get it.
    trail = {m: [(n, r.get("reason"), r.get("status"), r.get("detail")) for n, rs in cluster.all_audit().items()
                 for r in rs if r.get("device") == m]
             for ms in lost.values() for m in ms}
    assert not any(lost.values()), f"passwords lost in the failover: {lost}; their records: {trail}"
