#!/usr/bin/env python3
"""Time to first response byte for a client that keeps Nagle's algorithm on, as most
embedded TLS stacks do: Python's ssl, a new connection per request, TCP_NODELAY never set.
Prints one line per TLS version: median and range over --rounds requests, in ms.

    bench/nagle_ttfb.py --port 8443 --cacert ca.crt --cert dev.crt --key dev.key --path /x.cfg
"""
import argparse
import socket
import ssl
import statistics
import time


def first_byte_ms(args, version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(args.cacert)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.minimum_version = ctx.maximum_version = version
    with socket.create_connection((args.host, args.port), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname=args.server_name) as tls:
            request = (f"GET {args.path} HTTP/1.1\r\nHost: {args.server_name}\r\n"
                       "Connection: close\r\n\r\n").encode()
            start = time.perf_counter()
            tls.sendall(request)
            first = tls.recv(1)
            elapsed = (time.perf_counter() - start) * 1000
            response = first
            while data := tls.recv(65536):
                response += data
            if not response.startswith(b"HTTP/1.1 200 "):
                raise SystemExit(f"unexpected response: {response[:80]!r}")
            return elapsed


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--server-name", default="localhost")
    p.add_argument("--cacert", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--label", default="")
    args = p.parse_args()
    for name, version in (("TLS 1.3", ssl.TLSVersion.TLSv1_3), ("TLS 1.2", ssl.TLSVersion.TLSv1_2)):
        times = [first_byte_ms(args, version) for _ in range(args.rounds)]
        print(f"{args.label} {name}: median {statistics.median(times):.2f} ms "
              f"(min {min(times):.2f}, max {max(times):.2f}, n={len(times)})")


if __name__ == "__main__":
    main()
