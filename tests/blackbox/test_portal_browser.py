"""The web portal in real headless Chromium (Debian's chromium + chromium-driver, driven by
python3-selenium): sign in with password and TOTP, find a device, reactivate it and see the
new window, sign out; reveal a softphone's credentials once; request an engineer password and
see the device's next config after the window carry another one. Screenshots are kept under the test's tmp dir (pytest --basetemp to
keep them elsewhere)."""
import re
import shutil
import subprocess
import time

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import YEALINK
from portal_client import PASSWORD, add_user
from test_portal_secrets import WINDOW_SECONDS, add_softphone, admin_password_in, short_window_server  # noqa: F401

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def spki_sha256(cert):
    """base64 SHA-256 of the certificate's public key, as Chromium's SPKI allow-list wants."""
    pub = subprocess.run(["openssl", "x509", "-in", str(cert), "-pubkey", "-noout"], capture_output=True,
                         check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub, capture_output=True,
                         check=True).stdout
    import base64
    import hashlib
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def start_browser(server, tmp_path):
    """Headless Chromium that trusts exactly the server's key."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1280,900",
                # The demo CA is not in the browser's trust store: exactly the demo server's
                # key is accepted, nothing else.
                "--ignore-certificate-errors-spki-list=" + spki_sha256(server.dir / "tls" / "server.crt")):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture
def browser(server, tmp_path):
    driver = start_browser(server, tmp_path)
    yield driver
    driver.quit()


def shot(driver, tmp_path, name):
    path = tmp_path / "screenshots" / f"{name}.png"
    path.parent.mkdir(exist_ok=True)
    assert driver.save_screenshot(str(path))
    return path


def test_sign_in_find_a_device_reactivate_it_and_sign_out(server, browser, tmp_path):
    user = add_user(server, "olivia", "admin")
    base = f"https://localhost:{server.admin_port}"
    wait = WebDriverWait(browser, 20)

    browser.get(base + "/portal/")
    wait.until(EC.presence_of_element_located((By.ID, "sign-in")))
    assert browser.current_url.endswith("/portal/login")
    browser.find_element(By.ID, "user").send_keys(user.name)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "code").send_keys(user.next_code())
    shot(browser, tmp_path, "1-sign-in")
    browser.find_element(By.ID, "sign-in").click()
    wait.until(EC.presence_of_element_located((By.ID, "devices")))
    assert browser.find_element(By.ID, "who").text == "olivia"
    shot(browser, tmp_path, "2-devices")

    # Find the device by part of its MAC.
    browser.find_element(By.ID, "q").send_keys("65:a1:b2:c3")
    browser.find_element(By.ID, "filter").click()
    wait.until(EC.url_contains("q=65"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#devices tbody tr")
    assert [r.find_element(By.TAG_NAME, "a").text for r in rows] == ["00:15:65:a1:b2:c3"]
    rows[0].find_element(By.TAG_NAME, "a").click()
    wait.until(EC.presence_of_element_located((By.ID, "action-reactivate")))
    old_window = browser.find_element(By.ID, "window-expires").text
    shot(browser, tmp_path, "3-device")

    # Reactivate: the checkbox the server requires, then the script's confirmation dialog.
    browser.find_element(By.ID, "confirm-reactivate").click()
    browser.find_element(By.ID, "action-reactivate").click()
    alert = wait.until(EC.alert_is_present())
    assert "Reactivate this device?" in alert.text
    alert.accept()
    wait.until(EC.presence_of_element_located((By.ID, "new-window")))
    new_window = browser.find_element(By.ID, "new-window").text
    assert new_window == browser.find_element(By.ID, "window-expires").text
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", new_window), new_window
    assert new_window >= old_window
    assert browser.find_element(By.ID, "url-token").text
    shot(browser, tmp_path, "4-reactivated")
    # The timeline reads the store's copy of the audit trail, which follows within seconds.
    deadline = time.time() + 10
    while "portal reactivate" not in browser.find_element(By.ID, "timeline").text:
        assert time.time() < deadline, "the reactivation never reached the timeline"
        time.sleep(0.3)
        browser.get(f"{base}/portal/devices/{YEALINK}")
    shot(browser, tmp_path, "5-timeline")
    assert server.last_audit(reason="portal reactivate")["device"] == YEALINK

    browser.find_element(By.ID, "sign-out").click()
    wait.until(EC.presence_of_element_located((By.ID, "sign-in")))
    browser.get(base + "/portal/devices")
    wait.until(EC.presence_of_element_located((By.ID, "sign-in")))
    assert browser.current_url.endswith("/portal/login")
    shot(browser, tmp_path, "6-signed-out")
    assert len(list((tmp_path / "screenshots").glob("*.png"))) == 6


def sign_in(browser, wait, base, user):
    browser.get(base + "/portal/login")
    wait.until(EC.presence_of_element_located((By.ID, "sign-in")))
    browser.find_element(By.ID, "user").send_keys(user.name)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "code").send_keys(user.next_code())
    browser.find_element(By.ID, "sign-in").click()
    wait.until(EC.presence_of_element_located((By.ID, "devices")))


def test_reveal_a_softphone_once_and_the_second_attempt_is_refused(server, browser, tmp_path):
    user = add_user(server, "olivia", "admin")
    mac, sip_password = add_softphone(server)
    base = f"https://localhost:{server.admin_port}"
    wait = WebDriverWait(browser, 20)
    sign_in(browser, wait, base, user)

    browser.get(f"{base}/portal/devices/{mac}")
    wait.until(EC.presence_of_element_located((By.ID, "reveal-1")))
    assert browser.find_element(By.ID, "softphone").text == "yes"
    browser.find_element(By.ID, "reauth-1").send_keys(PASSWORD)
    shot(browser, tmp_path, "reveal-1-device")
    browser.find_element(By.ID, "reveal-1").click()
    wait.until(EC.presence_of_element_located((By.ID, "qr")))
    assert browser.find_element(By.ID, "sip-password").text == sip_password
    assert browser.find_element(By.ID, "sip-server").text == "sip.example.com"
    qr = browser.find_element(By.CSS_SELECTOR, "#qr svg")
    assert qr.size["width"] > 200 and qr.size["height"] > 200  # drawn: the CSP let the inline SVG through
    shot(browser, tmp_path, "reveal-2-credentials")
    # The code as the browser drew it scans to the account (zbarimg, Debian's zbar-tools).
    code_png = tmp_path / "screenshots" / "reveal-qr.png"
    browser.set_window_size(1280, 1600)  # the whole code inside the viewport
    assert qr.screenshot(str(code_png))
    scanned = subprocess.run(["zbarimg", "--raw", "-q", str(code_png)], capture_output=True, text=True, timeout=30)
    assert scanned.stdout.strip() == f"sip:1001:{sip_password}@sip.example.com:5061;transport=tls", scanned

    # The second attempt, with the password entered again, is refused.
    browser.get(f"{base}/portal/devices/{mac}")
    wait.until(EC.presence_of_element_located((By.ID, "reveal-1")))
    browser.find_element(By.ID, "reauth-1").send_keys(PASSWORD)
    browser.find_element(By.ID, "reveal-1").click()
    wait.until(EC.presence_of_element_located((By.ID, "error")))
    assert "revealed (or delivered) already" in browser.find_element(By.ID, "error").text
    assert sip_password not in browser.page_source
    shot(browser, tmp_path, "reveal-3-refused")
    server.last_audit(reason="portal reveal refused (line 1)", device=mac)
    assert len(list((tmp_path / "screenshots").glob("reveal-*.png"))) == 4


def test_an_engineer_password_is_replaced_in_the_next_config_after_the_window(short_window_server, tmp_path):
    server = short_window_server
    user = add_user(server, "olivia", "admin")
    base = f"https://localhost:{server.admin_port}"
    driver = start_browser(server, tmp_path)
    try:
        wait = WebDriverWait(driver, 20)
        sign_in(driver, wait, base, user)
        driver.get(f"{base}/portal/devices/{YEALINK}")
        wait.until(EC.presence_of_element_located((By.ID, "action-engineer-password")))
        shot(driver, tmp_path, "engineer-1-device")
        driver.find_element(By.ID, "action-engineer-password").click()
        wait.until(EC.presence_of_element_located((By.ID, "engineer-password")))
        engineer = driver.find_element(By.ID, "engineer-password").text
        assert len(engineer) == 16
        assert driver.find_element(By.ID, "engineer-window").text != "-"
        shot(driver, tmp_path, "engineer-2-password")

        _, status, body = server.curl(f"/{YEALINK}.cfg", mac=YEALINK)
        assert status == 200 and admin_password_in(body) == engineer
        time.sleep(WINDOW_SECONDS + 0.5)
        _, status, body = server.curl(f"/{YEALINK}.cfg", mac=YEALINK)
        assert status == 200
        rotated = admin_password_in(body)
        assert rotated != engineer

        driver.get(f"{base}/portal/devices/{YEALINK}")
        wait.until(EC.presence_of_element_located((By.ID, "engineer-window")))
        assert driver.find_element(By.ID, "engineer-window").text == "-"
        assert rotated not in driver.page_source and engineer not in driver.page_source
        deadline = time.time() + 10
        while "engineer password rotated" not in driver.find_element(By.ID, "timeline").text:
            assert time.time() < deadline, "the rotation never reached the timeline"
            time.sleep(0.3)
            driver.get(f"{base}/portal/devices/{YEALINK}")
        shot(driver, tmp_path, "engineer-3-rotated")
    finally:
        driver.quit()
    assert len(list((tmp_path / "screenshots").glob("engineer-*.png"))) == 3


def test_the_fleet_overview_draws_its_charts(server, browser, tmp_path):
    user = add_user(server, "olivia", "admin")
    base = f"https://localhost:{server.admin_port}"
    wait = WebDriverWait(browser, 20)
    sign_in(browser, wait, base, user)
    browser.find_element(By.ID, "nav-overview").click()
    wait.until(EC.presence_of_element_located((By.ID, "chart-states")))
    for chart in ("chart-states", "chart-provisioned", "chart-firmware", "chart-refusals"):
        svg = browser.find_element(By.ID, chart)
        assert svg.tag_name == "svg" and svg.get_attribute("role") == "img"
        assert svg.size["width"] > 300 and svg.size["height"] > 10, (chart, svg.size)
    # The demo fleet has devices: the state chart draws at least one bar.
    assert browser.find_elements(By.CSS_SELECTOR, "#chart-states rect")
    # The table behind each picture opens for readers who cannot see it.
    table = browser.find_element(By.ID, "chart-states-table")
    assert not table.is_displayed()
    table.find_element(By.XPATH, "./ancestor::details/summary").click()
    assert table.is_displayed() and "provisioned" in table.text
    shot(browser, tmp_path, "overview")


def test_a_csv_import_with_a_bad_row_shows_the_row_error(server, browser, tmp_path):
    user = add_user(server, "olivia", "admin")
    base = f"https://localhost:{server.admin_port}"
    wait = WebDriverWait(browser, 20)
    sign_in(browser, wait, base, user)
    manifest = tmp_path / "devices.csv"
    manifest.write_text("mac,vendor,model,tenant\n001565c0ffee,yealink,T54W,demo\nnot-a-mac,yealink,T54W,demo\n")
    browser.find_element(By.ID, "nav-import").click()
    wait.until(EC.presence_of_element_located((By.ID, "import-file"))).send_keys(str(manifest))
    browser.find_element(By.ID, "import").click()
    wait.until(EC.presence_of_element_located((By.ID, "import-errors")))
    assert "Rows processed: 2. Imported: 0. Failed: 1." in browser.find_element(By.ID, "import-summary").text
    rows = browser.find_elements(By.CSS_SELECTOR, "#import-errors tbody tr")
    assert len(rows) == 1 and rows[0].find_element(By.TAG_NAME, "td").text == "3"
    assert "not-a-mac" in rows[0].text
    shot(browser, tmp_path, "import-bad-row")
