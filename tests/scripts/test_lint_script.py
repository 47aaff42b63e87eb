"""scripts/lint.sh as CI runs it: called by scripts/test.sh before anything is built, and its
format exclusions name real folders (the list is meant to shrink to empty, never to rot)."""
import re
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
