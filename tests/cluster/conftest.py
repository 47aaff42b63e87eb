"""Cluster fixtures: scripts/cluster-demo.sh starts a PostgreSQL primary with a synchronous
standby, three provgate nodes on it and HAProxy in front (PROXY protocol v2). Tests reach
the cluster through HAProxy like devices do, or one node directly by sending the PROXY v2
header HAProxy would send (the nodes take it from 127.0.0.1), which lets a test pick both
the node and the client address the node sees."""
import json
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("PROVGATE_BIN", ROOT / "build" / "provgate"))
SCRIPT = ROOT / "scripts" / "cluster-demo.sh"
PASSWORD = re.compile(rb"^account\.1\.password = (\S+)", re.M)
PROXY_V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def proxy_v2_header(source: str, source_port: int, dest_port: int) -> bytes:
    """A PROXY protocol v2 header for a TCP/IPv4 connection from source:source_port."""
    addresses = socket.inet_aton(source) + socket.inet_aton("127.0.0.1") + struct.pack(
        "!HH", source_port, dest_port)
    return PROXY_V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", len(addresses)) + addresses


def read_response(f):
    """One HTTP/1.1 response (status line to end of body) from a buffered reader."""
    status_line = f.readline()
    if not status_line:
        raise ConnectionError("connection closed before a response")
    head = [status_line]
    length = 0
    while (h := f.readline()) not in (b"\r\n", b""):
        head.append(h)
        if h.lower().startswith(b"content-length:"):
            length = int(h.split(b":")[1])
    return b"".join(head) + b"\r\n" + f.read(length)


def status(resp: bytes) -> int:
    return int(resp.split(b" ", 2)[1]) if resp.startswith(b"HTTP/1.1") else 0


class Cluster:
    def __init__(self, directory: Path):
        self.dir = directory
        self.env = {}
        for line in (directory / "env").read_text().splitlines():
            k, _, v = line.partition("=")
            self.env[k] = v.strip("'")
        self.nodes = int(self.env["NODES"])
        self.install = Path(self.env["INSTALL"])
        self.ca = self.install / "tls" / "ca.crt"
        self.haproxy_port = int(self.env["HAPROXY_PORT"])
        self.procs = {}  # nodes this fixture restarted: node -> Popen

    def node_port(self, n):
        return int(self.env[f"NODE{n}_PORT"])

    def admin_port(self, n):
        return int(self.env[f"NODE{n}_ADMIN_PORT"])

    def config(self, n):
        return Path(self.env[f"NODE{n}_CONFIG"])

    def audit_path(self, n):
        return Path(self.env[f"NODE{n}_AUDIT"])

    def cli(self, *args, node=1, check=True):
        p = subprocess.run([str(BINARY), "-c", str(self.config(node)), *map(str, args)],
                           capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError(f"provgate {' '.join(map(str, args))} failed: {p.stderr}")
        return p

    def psql(self, query, url=None):
        p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                            url or self.env["STORE_URL"], "-c", query],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError(f"psql {query!r} failed: {p.stderr}")
        return p.stdout.strip()

    def cert(self, mac, certs=None):
        d = certs or self.install / "devices"
        return d / f"{mac}.crt", d / f"{mac}.key"

    def ssl_context(self, cert):
        ctx = ssl.create_default_context(cafile=str(self.ca))
        if cert:
            ctx.load_cert_chain(*map(str, cert))
        return ctx

    def request(self, path, cert=None, node=None, source="127.0.0.1", timeout=20, optional_cert=False,
                headers=""):
        """GET path (or each of a list of paths, pipelined) on a new connection. Through
        HAProxy (from `source`) unless `node` is given; then straight to that node with a
        PROXY v2 header naming `source` as the client. `optional_cert` picks the listener
        where a certificate is optional (token, digest). Returns the raw responses received
        before the server closed the connection."""
        paths = [path] if isinstance(path, str) else path
        if node is None:
            port = int(self.env["HAPROXY_OPTIONAL_PORT"]) if optional_cert else self.haproxy_port
            sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
        else:
            port = int(self.env[f"NODE{node}_OPTIONAL_PORT"]) if optional_cert else self.node_port(node)
            sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            sock.sendall(proxy_v2_header(source, 40000 + os.getpid() % 20000, port))
        with sock, self.ssl_context(cert).wrap_socket(sock, server_hostname="localhost") as conn:
            conn.sendall(b"".join(f"GET {p} HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n".encode()
                                  for p in paths))
            f = conn.makefile("rb")
            out = []
            for _ in paths:
                try:
                    out.append(read_response(f))
                except (OSError, ValueError):
                    if not out:
                        raise
                    break
            return out

    def fetch(self, mac, certs=None, **kw):
        return self.request(f"/{mac}.cfg", cert=self.cert(mac, certs), **kw)[0]

    def audit(self, n):
        """Node n's audit records so far (whole lines only)."""
        data = self.audit_path(n).read_bytes()
        text = data[:data.rfind(b"\n") + 1].decode()
        return [json.loads(l) for l in text.split("\n") if l.strip()]

    def all_audit(self):
        """{node: records}."""
        return {n: self.audit(n) for n in range(1, self.nodes + 1)}

    def add_devices(self, prefix, count, work: Path):
        """`count` new Yealink devices (MACs prefix + a counter) with certificates in `work`
        and one SIP line each, imported through node 1. Returns the MACs."""
        macs = [f"{prefix}{i:04x}" for i in range(count)]
        self.cli("ca", "issue", "--ca-cert", self.ca, "--ca-key", self.install / "tls" / "ca.key",
                 "--out", work, *[a for m in macs for a in ("--mac", m)])
        csv = work / f"{prefix}.csv"
        csv.write_text("mac,vendor,model,tenant,line1_user,line1_registrar\n" +
                       "".join(f"{m},yealink,T54W,demo,{7000 + i},sip.demo.example\n"
                               for i, m in enumerate(macs)))
        self.cli("device", "import", csv)
        return macs

    def node_pid(self, n):
        if n in self.procs:
            return self.procs[n].pid
        return int((self.dir / f"node{n}.pid").read_text())

    def kill_node(self, n, sig=signal.SIGKILL):
        os.kill(self.node_pid(n), sig)
        if n in self.procs:
            self.procs[n].wait()
        else:
            deadline = time.time() + 10
            while Path(f"/proc/{self.node_pid(n)}").exists() and time.time() < deadline:
                time.sleep(0.05)

    def start_node(self, n):
        """Starts node n again (after kill_node) and waits until its /readyz answers."""
        log = open(self.dir / f"node{n}.log", "a")
        self.procs[n] = subprocess.Popen([str(BINARY), "-c", str(self.config(n)), "serve"],
                                         stdout=log, stderr=subprocess.STDOUT)
        (self.dir / f"node{n}.pid").write_text(str(self.procs[n].pid))
        deadline = time.time() + 60
        while time.time() < deadline:
            assert self.procs[n].poll() is None, (self.dir / f"node{n}.log").read_text()[-2000:]
            if self.ready(n):
                return
            time.sleep(0.1)
        raise AssertionError(f"node{n} did not become ready")

    def ready(self, n):
        p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                            str(self.ca), f"https://localhost:{self.admin_port(n)}/readyz"],
                           capture_output=True, text=True, timeout=10)
        return p.stdout == "200"

    def admin(self, n, method, path):
        """An admin API call on node n with the demo operator's key; (status, JSON body)."""
        key = (self.install / "admin-api-key").read_text().strip()
        p = subprocess.run(["curl", "-s", "-X", method, "-w", "\n%{http_code}", "--cacert", str(self.ca),
                            "-H", f"Authorization: Bearer {key}",
                            f"https://localhost:{self.admin_port(n)}{path}"],
                           capture_output=True, text=True, timeout=30)
        body, _, code = p.stdout.rpartition("\n")
        return int(code or 0), (json.loads(body) if body.strip() else None)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cluster")
    env = {**os.environ, "PROVGATE_BIN": str(BINARY),
           # One device answered 100 times at once.
           "CLUSTER_DEFENSE": "device_burst = 1000"}
    p = subprocess.run([str(SCRIPT), "start", str(directory)], env=env, capture_output=True,
                       text=True, timeout=300)
    if p.returncode != 0:
        raise AssertionError(f"cluster-demo.sh start failed:\n{p.stderr}")
    c = Cluster(directory)
    yield c
    subprocess.run([str(SCRIPT), "stop", str(directory)], timeout=120)
