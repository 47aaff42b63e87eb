"""The README's two commands, ./scripts/demo.sh and ./scripts/test.sh, in either order: each
build keeps its own folder and options, so the test pass's configuration includes the unit
tests (and scripts/test.sh's `ctest --no-tests=error`, after the build, stops a pass that
finds none). Configure steps only (scripts/configure.sh, which both scripts call), in
temporary folders: before a build, CTest lists the unit-test executable as a placeholder."""
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIGURE = ROOT / "scripts" / "configure.sh"


def configure(name, build_dir):
    subprocess.run([str(CONFIGURE), name, str(build_dir)], check=True, timeout=300)


def cache(build_dir):
    text = (build_dir / "CMakeCache.txt").read_text()
    return dict(re.findall(r"^(\w+):\w+=(.*)$", text, re.M))


def ctest_names(build_dir):
    p = subprocess.run(["ctest", "-N"], cwd=build_dir, capture_output=True, text=True, timeout=120)
    assert re.search(r"Total Tests: \d+", p.stdout), p.stdout + p.stderr
    return re.findall(r"Test +#\d+: (\S+)", p.stdout)


def test_each_command_has_its_own_build_folder():
    dirs = [subprocess.run([str(CONFIGURE), "--dir", name], check=True, capture_output=True,
                           text=True).stdout.strip() for name in ("demo", "asan", "tsan", "release")]
    assert len(set(dirs)) == 4, dirs
    for script, names in (("demo.sh", ["demo"]), ("test.sh", ["asan", "release"])):
        text = (ROOT / "scripts" / script).read_text()
        assert "cmake -S" not in text, f"{script} configures on its own instead of scripts/configure.sh"
        for name in names:
            assert re.search(rf"configure\.sh\b.*\b{name}\b|run_pass {name}\b", text), (script, name)


@pytest.mark.parametrize("before", ["demo", "asan"])
def test_release_pass_has_tests_and_errors_on_warnings_after_another_build(tmp_path, before):
    configure(before, tmp_path)
    configure("release", tmp_path)
    c = cache(tmp_path)
    assert c["PROVGATE_TESTS"] == "ON"
    assert c["PROVGATE_WERROR"] == "ON"
    assert c["PROVGATE_SANITIZE"] == "OFF"
    assert c["CMAKE_BUILD_TYPE"] == "Release"
    assert any(name.startswith("provgate_unit_tests") for name in ctest_names(tmp_path))


def test_demo_after_a_test_pass_is_its_own_build(tmp_path):
    configure("release", tmp_path)
    configure("demo", tmp_path)
    c = cache(tmp_path)
    assert c["PROVGATE_TESTS"] == "OFF"
    assert c["PROVGATE_WERROR"] == "OFF"
    assert c["CMAKE_BUILD_TYPE"] == "RelWithDebInfo"


def test_a_run_without_tests_fails():
    text = (ROOT / "scripts" / "test.sh").read_text()
    assert re.search(r"ctest [^\n]*--no-tests=error", text)


@pytest.mark.parametrize("name,unity", [("asan", "ON"), ("tsan", "ON"), ("release", "ON"),
                                        ("demo", "OFF")])
def test_test_builds_are_unity_builds_and_the_demo_compiles_each_source(tmp_path, name, unity):
    configure(name, tmp_path)
    assert cache(tmp_path)["CMAKE_UNITY_BUILD"] == unity
