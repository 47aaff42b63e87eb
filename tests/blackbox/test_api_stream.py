"""The admin API's streamed routes against the real binary: a manifest read and checked as it
arrives (Content-Length or chunked), all rows or none, and an audit page written with chunked
transfer encoding as it is read from the store."""
import json
import socket
import ssl
import time

import pytest

from api_client import Api, admin_key
from conftest import Server

CSV = {"Content-Type": "text/csv"}
HEADER = "mac,vendor,model,tenant,line1_user,line1_registrar\n"


@pytest.fixture
def api(tmp_path):
    s = Server(tmp_path, "key_rate = 10000.0\nkey_burst = 10000.0\n")
    s.start()
    yield Api(s, admin_key(s))
    s.stop()


def manifest(first, n, bad_at=None):
    """n rows of MACs from `first` on; row index `bad_at` (0-based) has a MAC that is not one."""
    rows = [HEADER]
    for i in range(n):
        mac = "not-a-mac" if i == bad_at else f"{first + i:012x}"
        rows.append(f"{mac},yealink,T54W,demo,{10000 + i},sip.demo.example\n")
    return "".join(rows)


def pieces(text, sizes=(1, 7, 4096, 13, 65536 + 3)):
    """The text as a generator of odd-sized pieces, so requests sends it chunked and rows are
    cut at arbitrary places."""
    data = text.encode()
    at, k = 0, 0
    while at < len(data):
        size = sizes[k % len(sizes)]
        yield data[at:at + size]
        at, k = at + size, k + 1


def exists(api, mac):
    return api.get(f"/api/v1/devices/{mac}").status_code == 200


def test_a_20000_row_manifest_imports_whole(api):
    first = 0x0015_6520_0000
    r = api.request("POST", "/api/v1/devices/import", data=manifest(first, 20_000), headers=CSV)
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 20_000
    assert all(exists(api, f"{first + i:012x}") for i in (0, 9_999, 19_999))
    page = api.get(f"/api/v1/devices?tenant=demo&limit=1000&cursor={first - 1:012x}").json()
    assert len(page["items"]) == 1000 and page["items"][0]["mac"] == f"{first:012x}"


def test_one_bad_row_in_the_middle_imports_nothing_and_is_named(api):
    first = 0x0015_6530_0000
    r = api.request("POST", "/api/v1/devices/import", data=manifest(first, 20_000, bad_at=10_000), headers=CSV)
    assert r.status_code == 422, r.text
    assert r.headers["Content-Type"] == "application/problem+json"
    body = r.json()
    # Line 1 is the header: row index 10 000 is line 10 002.
    assert body["bad_rows"] == 1
    assert body["rows"] == [{"line": 10_002, "detail": "'not-a-mac' is not a MAC address"}]
    assert not any(exists(api, f"{first + i:012x}") for i in (0, 9_999, 10_001, 19_999))
    # A refused upload is not kept: refusals cannot fill the disk.
    assert list((api.server.dir / "imports").glob("*.csv")) == []
    assert list((api.server.dir / "imports").glob(".upload-*")) == []


def test_a_chunked_upload_cut_mid_row_imports(api):
    first = 0x0015_6540_0000
    text = manifest(first, 3_000)
    r = api.request("POST", "/api/v1/devices/import", data=pieces(text), headers=CSV)
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 3_000
    # The upload is kept as sent, whatever its pieces.
    kept = api.server.dir / "imports" / (r.json()["upload_sha256"] + ".csv")
    assert kept.read_text() == text


def test_listed_bad_rows_are_capped_and_all_counted(api):
    rows = [HEADER] + [f"bad{i},yealink,T54W,demo,1,sip.demo.example\n" for i in range(150)]
    r = api.request("POST", "/api/v1/devices/import", data="".join(rows), headers=CSV)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["bad_rows"] == 150 and len(body["rows"]) == 100
    assert [row["line"] for row in body["rows"]] == list(range(2, 102))


def test_malformed_csv_is_a_400_naming_its_line(api):
    r = api.request("POST", "/api/v1/devices/import", data=pieces(HEADER + '001565000001,"yealink\n'), headers=CSV)
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith("line 3: unterminated")


def test_an_import_over_the_limit_is_413_even_chunked(tmp_path):
    s = Server(tmp_path, "max_import_bytes = 4096\n")
    s.start()
    try:
        api = Api(s, admin_key(s))
        r = api.request("POST", "/api/v1/devices/import", data=pieces(manifest(0x001565500000, 200)), headers=CSV)
        assert r.status_code == 413, r.text
        assert not exists(api, "001565500000")
    finally:
        s.stop()


def wait_for_audit(api, count):
    """The store's copy of the audit file lags its commit (audit.store_copy_delay_ms)."""
    deadline = time.time() + 20
    while True:
        r = api.get(f"/api/v1/audit?limit={count}")
        assert r.status_code == 200, r.text
        if len(r.json()["items"]) == count or time.time() > deadline:
            return r
        time.sleep(0.2)


def test_a_large_audit_page_is_streamed_chunked_and_pages_on(api):
    r = api.request("POST", "/api/v1/devices/import", data=manifest(0x0015_6560_0000, 12_000), headers=CSV)
    assert r.status_code == 200, r.text
    r = wait_for_audit(api, 12_000)
    assert r.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in r.headers
    page = r.json()
    assert set(page) == {"items", "next_cursor"}
    ids = [item["id"] for item in page["items"]]
    assert len(ids) == 12_000 and ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    assert all(set(item) == {"id", "record"} and item["record"]["kind"] for item in page["items"])
    assert page["next_cursor"] == ids[-1]
    # The same records as pages of 1000 and 700 from the same starting point (batches of 500
    # cut differently); records appended meanwhile have higher ids and stay out.
    start = ids[0] + 1
    small = api.get(f"/api/v1/audit?limit=1000&cursor={start}").json()
    rest = api.get(f"/api/v1/audit?limit=700&cursor={small['next_cursor']}").json()
    assert [i["id"] for i in small["items"] + rest["items"]] == ids[:1700]
    # A limit beyond the maximum names the parameter.
    r = api.get("/api/v1/audit?limit=100001")
    assert r.status_code == 400 and "limit" in [e["field"] for e in r.json()["errors"]]


def test_the_last_audit_page_ends_with_a_null_cursor(api):
    page = api.get("/api/v1/audit?limit=100000").json()
    assert page["items"] and page["next_cursor"] is None


def test_an_http10_client_gets_the_audit_page_until_the_connection_closes(api):
    ctx = ssl.create_default_context(cafile=str(api.server.ca))
    with socket.create_connection(("127.0.0.1", api.server.admin_port), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname="localhost") as conn:
            conn.sendall(b"GET /api/v1/audit?limit=5 HTTP/1.0\r\nAuthorization: Bearer " + api.key.encode() +
                         b"\r\n\r\n")
            data = b""
            while True:
                try:
                    chunk = conn.recv(65536)
                except ssl.SSLEOFError:
                    break
                if not chunk:
                    break
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 ") and b"chunked" not in head.lower()
    page = json.loads(body)
    assert 1 <= len(page["items"]) <= 5
