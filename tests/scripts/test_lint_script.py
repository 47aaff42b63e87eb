"""scripts/lint.sh as CI runs it: called by scripts/test.sh before anything is built, and its
format exclusions name real folders (the list is meant to shrink to empty, never to rot)."""
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = ROOT / "scripts" / "lint.sh"


def test_test_sh_lints_before_building():
    text = (ROOT / "scripts" / "test.sh").read_text()
    lint = text.find("./scripts/lint.sh")
    assert lint != -1, "scripts/test.sh does not run scripts/lint.sh"
    assert lint < text.find("run_pass asan"), "lint runs after a build"


def test_exclusions_are_existing_source_folders():
    m = re.search(r"^EXCLUDED=\(([^)]*)\)", LINT.read_text(), re.M)
    assert m, "EXCLUDED not found"
    for folder in m.group(1).split():
        assert (ROOT / folder).is_dir(), folder
        assert folder.startswith(("src/", "fuzz", "bench")), folder


def test_tidy_and_format_configs_exist():
    assert (ROOT / ".clang-format").is_file()
    assert "WarningsAsErrors" in (ROOT / ".clang-tidy").read_text()


def test_clang_tidy_covers_every_source_but_the_unit_tests(tmp_path):
    """The test passes lint the unity files of a unity build: together they must hold every
    source of src/, fuzz/ and bench/ but the unit tests' own."""
    subprocess.run([str(ROOT / "scripts" / "configure.sh"), "release", str(tmp_path)], check=True,
                   timeout=300)
    listed = subprocess.run([str(LINT), "--list", str(tmp_path)], check=True, capture_output=True,
                            text=True, timeout=120).stdout.splitlines()
    units = {line.split("\t")[0] for line in listed}
    covered = {line.split("\t")[1] for line in listed}
    assert any("/Unity/" in unit for unit in units), "no unity file is linted"
    # Nothing is built before lint runs: a unity file holding a generated source breaks it.
    for unit in units:
        if "/Unity/" in unit:
            for source in re.findall(r'^#include "(.*)"$', Path(unit).read_text(), re.M):
                assert Path(source).is_file(), f"{unit} holds {source}, which only a build makes"
    sources = subprocess.run(["git", "ls-files", "src/*.cpp", "fuzz/*.cpp", "bench/*.cpp"], cwd=ROOT,
                             check=True, capture_output=True, text=True).stdout.split()
    checked = {s for s in sources if not s.endswith("_test.cpp")}
    assert covered <= checked, covered - checked
    # Left out: helpers compiled into the unit tests' binary only (src/vendors/testing/).
    missing = checked - covered
    assert all("/testing/" in s for s in missing), missing
