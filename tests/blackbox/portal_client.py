"""A browser-like client of the web portal for the black-box tests: real TLS, real cookies,
users made with the real CLI, TOTP codes computed here (RFC 6238) from the printed secret."""
import base64
import hashlib
import hmac
import re
import struct
import time
from dataclasses import dataclass, field

import requests

PASSWORD = "portal test password 1"


def totp(secret_b32, offset=0, now=None):
    """The 6-digit code of `secret_b32` for the current 30-second step + `offset`."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    step = int((now if now is not None else time.time()) // 30) + offset
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[o:o + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


@dataclass
class User:
    name: str
    secret: str
    otpauth: str
    recovery: list = field(default_factory=list)
    offset: int = 0  # the next sign-in's TOTP step offset (a code is accepted only once)

    def next_code(self):
        code = totp(self.secret, self.offset)
        self.offset += 1
        return code


def add_user(server, name, role, tenant=None, password=PASSWORD):
    args = ["-c", str(server.config), "user", "add", name, "--role", role, "--password-stdin"]
    if tenant:
        args += ["--tenant", tenant]
    import subprocess
    from conftest import BINARY
    p = subprocess.run([str(BINARY), *args], input=password + "\n", capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    secret = re.search(r"^totp-secret: ([A-Z2-7]+)$", p.stdout, re.M).group(1)
    otpauth = re.search(r"^otpauth-uri: (\S+)$", p.stdout, re.M).group(1)
    recovery = re.findall(r"^recovery-code: (\S+)$", p.stdout, re.M)
    return User(name, secret, otpauth, recovery)


class Portal:
    def __init__(self, server):
        self.server = server
        self.base = f"https://localhost:{server.admin_port}"
        self.http = requests.Session()
        self.ca = str(server.ca)

    def get(self, path, **kw):
        return self.http.get(self.base + path, verify=self.ca, allow_redirects=False, timeout=30, **kw)

    def post(self, path, data, **kw):
        return self.http.post(self.base + path, data=data, verify=self.ca, allow_redirects=False, timeout=30,
                              **kw)

    @staticmethod
    def csrf(html):
        m = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
        assert m, html
        return m.group(1)

    def sign_in(self, user, password=PASSWORD, code=None):
        """The sign-in response (303 on success)."""
        page = self.get("/portal/login")
        assert page.status_code == 200, page.text
        return self.post("/portal/login", {"csrf": self.csrf(page.text), "user": user.name, "password": password,
                                           "code": code if code is not None else user.next_code()})

    def page(self, path):
        r = self.get(path)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.text
