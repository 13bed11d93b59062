"""The docs point auditors and operators at the tests that prove each promise
(docs/invariants.md names over a hundred). A renamed or deleted test would leave a promise
pointing at nothing, so every test file and test function they name must exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Named from the repository, from tests/, or (contract tests, as `brownie test` runs them) from tests/contracts.
SEARCHED = [ROOT, ROOT / "tests", ROOT / "tests" / "contracts"]
# `dir/test_file.py`, `dir/test_file.py::test_name` or, after one of those, `::test_name`.
_REFERENCE = re.compile(r"((?:[\w.-]+/)*test_\w+\.py)?(?:::(\w+))?")


def named_tests(text: str) -> list[tuple[str | None, str | None]]:
    """(file, function) pairs named in inline code, in order; a lone `::name` has no file."""
    found = []
    for code in re.findall(r"`([^`\n]+)`", text):
        for part in re.split(r",\s*|\s+", code.strip()):
            match = _REFERENCE.fullmatch(part)
            if match and (match.group(1) or match.group(2)):
                found.append((match.group(1), match.group(2)))
    return found


def missing_tests(text: str) -> list[str]:
    missing: list[str] = []
    current: Path | None = None
    for file, function in named_tests(text):
        if file is not None:
            current = next((base / file for base in SEARCHED if (base / file).is_file()), None)
            if current is None:
                missing.append(file)
                continue
        if function is not None:
            if current is None:
                missing.append(f"::{function} (after a missing file)")
            elif not re.search(rf"^\s*def {function}\(", current.read_text(), re.MULTILINE):
                missing.append(f"{current.relative_to(ROOT)}::{function}")
    return missing


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_test_a_document_names_exists(doc: Path) -> None:
    assert missing_tests(doc.read_text()) == []


def test_the_auditors_guide_names_its_tests() -> None:
    assert len(named_tests((ROOT / "docs" / "invariants.md").read_text())) > 100


def test_a_renamed_test_is_caught() -> None:
    text = ("`registry/test_caps.py::test_a_lifetime_that_would_pass_uint96_is_skipped`, "
            "`::test_no_such_test`, `coin/test_no_such_file.py`")
    assert missing_tests(text) == ["tests/contracts/registry/test_caps.py::test_no_such_test", "coin/test_no_such_file.py"]
