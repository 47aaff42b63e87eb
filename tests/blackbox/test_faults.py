"""System faults against the real binary (docs/security.md, "Faults"): a full or read-only
audit volume, a locked database, an exhausted descriptor table and a wall clock that jumps.
In each, a response that releases a secret never leaves without its audit record, the
operator is told why, and the server recovers when the fault ends."""
import os
import re
import resource
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from api_client import Api, admin_key
from conftest import BINARY, POLYCOM, STORE, YEALINK, YEALINK2, Server, get, psql
from test_audit_durability import COMMON, DEVICE, fetch, in_background

FAULTS = Path(__file__).resolve().parent / "faults"
PASSWORD = re.compile(rb"^account\.1\.password = (\S+)", re.M)


def shim(tmp_path_factory, name):
    out = tmp_path_factory.mktemp("faults") / f"{name}.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", str(out), str(FAULTS / f"{name}.c"), "-ldl"], check=True)
    return out


def preload(so, **env):
    # A sanitizer build wants its runtime first in the library list; the shims wrap libc
    # calls the sanitizers do not need.
    asan = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "verify_asan_link_order=0"]))
    return {"LD_PRELOAD": str(so), "ASAN_OPTIONS": asan, **env}


def wait_for_log(server, text, seconds=10):
    deadline = time.time() + seconds
    while text not in server.log.read_text():
        assert time.time() < deadline, f"no {text!r} in the log: {server.log.read_text()[-2000:]}"
        time.sleep(0.05)


def cpu_seconds(pid):
    """User plus system CPU time of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def readyz(server):
    return Api(server).get("/readyz")


# ---------------------------------------------------------------------------------------------
# Descriptors


def test_descriptor_exhaustion_backs_off_and_recovers(tmp_path):
    """With RLIMIT_NOFILE at 64 and connections held open on the device port until accept
    fails, a pending connection on each listener must not make its accept loop spin: the
    process uses well under a busy loop's CPU (measured over 1 s). Closing the connections
    brings both planes back."""
    s = Server(tmp_path, "[defense]\ndevice_burst = 1000\nrefusal_burst = 1000\n")

    def low_nofile():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    s.logf = open(s.log, "w")
    s.proc = subprocess.Popen([str(BINARY), "-c", str(s.config), "serve"], stdout=s.logf,
                              stderr=subprocess.STDOUT, preexec_fn=low_nofile)
    held = []
    try:
        wait_for_log(s, " info admin listener ")
        for _ in range(200):
            held.append(socket.create_connection(("127.0.0.1", s.port), timeout=5))
        wait_for_log(s, "accept failed")
        # One more connection waits on each listener while the table stays full.
        held.append(socket.create_connection(("127.0.0.1", s.admin_port), timeout=5))
        held.append(socket.create_connection(("127.0.0.1", s.port), timeout=5))
        time.sleep(0.3)
        before, started = cpu_seconds(s.proc.pid), time.monotonic()
        time.sleep(1.0)
        used = (cpu_seconds(s.proc.pid) - before) / (time.monotonic() - started)
        print(f"\nCPU while out of descriptors: {used:.1%} of one core")
        assert used < 0.2, f"the accept loop spins: {used:.0%} of a core while out of descriptors"
        warnings = s.log.read_text().count("accept failed")
        assert warnings < 100, f"{warnings} accept warnings in about 1.5 s: the log floods"
        for c in held:
            c.close()
        held.clear()
        deadline = time.time() + 10
        while True:
            try:
                status, body, _ = fetch(s, DEVICE, timeout=5)
                if readyz(s).status_code == 200:
                    break
            except OSError:
                pass
            assert time.time() < deadline, "no recovery after the connections closed"
            time.sleep(0.1)
        assert status == 200 and PASSWORD.search(body)
    finally:
        for c in held:
            c.close()
        s.stop()
