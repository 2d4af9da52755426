"""README.md against the code a newcomer meets first: the Makefile's variables, the
commands as written, the development secret, the parameter limits; and that a test whose
system tool is missing fails with advice rather than being skipped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.settings import DEV_JWT_SECRET
from app.training import params
from tests import live

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
# Names the Makefile sets for itself, not knobs for the reader.
INTERNAL = {"BIN", "STAMP"}


def _code_lines() -> list[str]:
    """The lines of README's ```bash blocks."""
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    return [line for block in blocks for line in block.splitlines()]


def test_every_make_variable_is_documented() -> None:
    makefile = (ROOT / "Makefile").read_text()
    names = set(re.findall(r"\$\(([A-Z][A-Z_]*)\)", makefile))
    names |= set(re.findall(r"\$\$\{([A-Z][A-Z_]*)", makefile))
    names -= INTERNAL
    assert {"PORT", "PYTEST_ARGS", "LOADTEST_ARGS", "BENCH_ARGS", "BASE"} <= names
    missing = sorted(name for name in names if f"`{name}`" not in README)
    assert missing == []


def test_commands_run_as_written_from_a_fresh_clone() -> None:
    # `lumetrix` and `python` live in .venv/bin, which a fresh clone has not on its PATH.
    bare = [
        line
        for line in _code_lines()
        if re.match(r"^(?:[A-Z_]+=\S+ )*(lumetrix|python3?) ", line.strip())
    ]
    assert bare == []
    assert "make run PORT=" in README


def test_the_development_secret_is_stated() -> None:
    assert f"`{DEV_JWT_SECRET}`" in README


def _bounds(param: object) -> tuple[int, int]:
    """The (lower, upper) bound a query parameter declares (ge/le or min/max_length)."""
    low = high = 0
    for meta in getattr(param, "__metadata__", ()):
        for item in getattr(meta, "metadata", ()):
            low = getattr(item, "ge", None) or getattr(item, "min_length", None) or low
            high = getattr(item, "le", None) or getattr(item, "max_length", None) or high
    return low, high


def test_parameter_limits_are_documented() -> None:
    dash = "\N{EN DASH}"
    rows = {
        "| `q` (search) | {} characters": params.SearchText,
        "| `page` | {}": params.Page,
        "| `limit` (samples, leaderboard) | {}": params.Limit,
        "| `chapter` | {}": params.Chapter,
        "| `time_spent` | {} seconds": params.TimeSpent,
    }
    for row, param in rows.items():
        low, high = _bounds(param)
        assert low and high, row
        text = row.format(f"{low:,}{dash}{high:,}")
        assert text in README or text.replace(",", "") in README, text


def test_a_missing_browser_fails_the_test_instead_of_skipping_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(live, "CHROMIUM", None)
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium chromium-driver"):
        with live.chromium():
            pass
