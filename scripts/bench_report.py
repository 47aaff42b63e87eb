#!/usr/bin/env python3
"""Summarises a scripts/bench.sh run directory as a Markdown table: per configuration the
median server CPU per request of provgate and nginx, the median of the per-round paired
ratios provgate/nginx, latency and throughput medians, errors; then openssl speed figures
and the machine's load before and after."""
import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, digits=0, scale=1.0):
    return "-" if x is None else f"{x * scale:.{digits}f}"


def main(run: Path):
    runs = defaultdict(lambda: defaultdict(dict))  # config -> server -> round -> report
    order = []
    for f in sorted(run.glob("*.*.*.json")):
        config, server, rnd = f.name[:-5].rsplit(".", 2)
        if config not in order:
            order.append(config)
        runs[config][server][int(rnd)] = json.loads(f.read_text())
    if not runs:
        sys.exit(f"no results in {run}")
    listed = run / "configs.txt"
    if listed.exists():  # the order the run used
        wanted = listed.read_text().split()
        order = [c for c in wanted if c in runs] + [c for c in order if c not in wanted]

    print(f"## Results: {run.name}\n")
    print("Server CPU per request = utime+stime of all server processes over the run / requests "
          "answered. Ratio = median over rounds of (provgate / nginx) in the same round. "
          "Latency in ms, median over rounds of each round's percentile.\n")
    print("| configuration | rounds | provgate µs/req | nginx µs/req | ratio pg/nginx "
          "| provgate p50 / p99 ms | nginx p50 / p99 ms | provgate req/s | nginx req/s "
          "| loadgen µs/req (pg / nginx) | errors (pg / nginx) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for config in order:
        pg, ng = runs[config].get("provgate", {}), runs[config].get("nginx", {})

        def col(reports, key, sub=None):
            vals = []
            for r in reports.values():
                v = r.get(key)
                if sub is not None and isinstance(v, dict):
                    v = v.get(sub)
                vals.append(v)
            return median(vals)

        ratios = [pg[r]["server_cpu_us_per_request"] / ng[r]["server_cpu_us_per_request"]
                  for r in sorted(set(pg) & set(ng))
                  if pg[r].get("server_cpu_us_per_request") and ng[r].get("server_cpu_us_per_request")]
        errors_pg = sum(r.get("errors_total", 0) for r in pg.values())
        errors_ng = sum(r.get("errors_total", 0) for r in ng.values())
        print(f"| {config} | {min(len(pg), len(ng))} "
              f"| {fmt(col(pg, 'server_cpu_us_per_request'))} "
              f"| {fmt(col(ng, 'server_cpu_us_per_request'))} "
              f"| {fmt(median(ratios), 2)} "
              f"| {fmt(col(pg, 'latency_us', 'p50'), 1, 1e-3)} / {fmt(col(pg, 'latency_us', 'p99'), 1, 1e-3)} "
              f"| {fmt(col(ng, 'latency_us', 'p50'), 1, 1e-3)} / {fmt(col(ng, 'latency_us', 'p99'), 1, 1e-3)} "
              f"| {fmt(col(pg, 'requests_per_s'))} | {fmt(col(ng, 'requests_per_s'))} "
              f"| {fmt(col(pg, 'client_cpu_us_per_request'))} / {fmt(col(ng, 'client_cpu_us_per_request'))} "
              f"| {errors_pg} / {errors_ng} |")

    for version in ("1.3", "1.2"):
        harness = run / f"tls-harness-{version}.txt"
        if harness.exists():
            print(f"\n### In-memory mTLS handshake, TLS {version} (bench/tls_harness.cpp)\n")
            print("```")
            print(harness.read_text().rstrip())
            print("```")
    speed = run / "openssl-speed.txt"
    if speed.exists():
        text = speed.read_text()
        print("\n### openssl speed -seconds 1 (pinned to the server's core)\n")
        m = re.search(r"256 bits ecdsa \(nistp256\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", text)
        if m:
            sign, verify = float(m.group(1)), float(m.group(2))
            print(f"- ECDSA P-256: sign {1e6 / sign:.1f} µs, verify {1e6 / verify:.1f} µs")
        m = re.search(r"rsa 2048 bits\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", text)
        if m:
            sign, verify = float(m.group(1)), float(m.group(2))
            print(f"- RSA-2048: sign {1e6 / sign:.1f} µs, verify {1e6 / verify:.1f} µs")
        m = re.search(r"253 bits ecdh \(X25519\)\s+\S+s\s+([\d.]+)", text)
        if m:
            print(f"- X25519 derive: {1e6 / float(m.group(1)):.1f} µs")
    for name in ("load-before.txt", "load-after.txt"):
        p = run / name
        if p.exists():
            print(f"\n### {name[:-4]}\n\n```\n{p.read_text().rstrip()}\n```")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
