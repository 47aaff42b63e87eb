#!/usr/bin/env python3
"""Summarises a scripts/bench.sh run directory as Markdown. First table, per configuration:
provgate against the anchor, nginx tuned as a careful operator runs it ("nginx"): median
server CPU per request of each, the median of the per-round paired ratios provgate/nginx,
latency and throughput medians, errors. Second table, if the run has it: nginx with its
session defaults ("nginx-default") against both. Then the TLS harness, openssl speed
figures and the machine's load before and after."""
import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

CPU = "server_cpu_us_per_request"


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, digits=0, scale=1.0):
    return "-" if x is None else f"{x * scale:.{digits}f}"


def col(reports, key, sub=None):
    """Median over rounds of one report field (sub: a field inside it)."""
    vals = []
    for r in reports.values():
        v = r.get(key)
        if sub is not None and isinstance(v, dict):
            v = v.get(sub)
        vals.append(v)
    return median(vals)


def paired_ratio(a, b):
    """Median over the rounds both ran of a's server CPU per request / b's."""
    return median([a[r][CPU] / b[r][CPU] for r in sorted(set(a) & set(b))
                   if a[r].get(CPU) and b[r].get(CPU)])


def latency(reports):
    return (f"{fmt(col(reports, 'latency_us', 'p50'), 1, 1e-3)} / "
            f"{fmt(col(reports, 'latency_us', 'p99'), 1, 1e-3)}")


def errors(reports):
    return sum(r.get("errors_total", 0) for r in reports.values())


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
    print("### provgate against nginx, tuned (Mozilla intermediate: shared session cache, "
          "no session tickets)\n")
    print("| configuration | rounds | provgate µs/req | nginx µs/req | ratio pg/nginx "
          "| provgate p50 / p99 ms | nginx p50 / p99 ms | provgate req/s | nginx req/s "
          "| loadgen µs/req (pg / nginx) | errors (pg / nginx) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for config in order:
        pg, ng = runs[config].get("provgate", {}), runs[config].get("nginx", {})
        print(f"| {config} | {min(len(pg), len(ng))} "
              f"| {fmt(col(pg, CPU))} | {fmt(col(ng, CPU))} | {fmt(paired_ratio(pg, ng), 2)} "
              f"| {latency(pg)} | {latency(ng)} "
              f"| {fmt(col(pg, 'requests_per_s'))} | {fmt(col(ng, 'requests_per_s'))} "
              f"| {fmt(col(pg, 'client_cpu_us_per_request'))} / "
              f"{fmt(col(ng, 'client_cpu_us_per_request'))} "
              f"| {errors(pg)} / {errors(ng)} |")

    if any("nginx-default" in runs[c] for c in order):
        print("\n### nginx-default: nginx with its session defaults (no shared cache, "
              "stateless tickets on)\n")
        print("Same rounds as above. Ratios are paired per round like the first table's.\n")
        print("| configuration | rounds | nginx-default µs/req | ratio pg/nginx-default "
              "| ratio nginx-default/nginx | nginx-default p50 / p99 ms | nginx-default req/s "
              "| errors |")
        print("|---|---|---|---|---|---|---|---|")
        for config in order:
            pg, ng = runs[config].get("provgate", {}), runs[config].get("nginx", {})
            nd = runs[config].get("nginx-default", {})
            print(f"| {config} | {len(nd)} | {fmt(col(nd, CPU))} "
                  f"| {fmt(paired_ratio(pg, nd), 2)} | {fmt(paired_ratio(nd, ng), 2)} "
                  f"| {latency(nd)} | {fmt(col(nd, 'requests_per_s'))} | {errors(nd)} |")

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
