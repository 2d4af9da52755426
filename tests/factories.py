"""Sample documents for tests, from one place: what a catalog sample looks like before and
after the migration (``migrations.add_language_to_samples``).

A test states only what it is about (``make_sample(chapter=3, read_points=2)``); a field
the catalog gains later is added here once, not in every file that builds a catalog.
"""

from __future__ import annotations

from typing import Any


def make_raw_sample(**overrides: Any) -> dict[str, Any]:
    """A pre-migration sample record (what mongoexport of the demo catalog gives: no
    language, knowledge area, points or tags), with ``overrides`` replacing or adding
    fields. A fresh dict each call."""
    raw: dict[str, Any] = {
        "sample_id": "c_ch1_q_000001",
        "chapter": 1,
        "type": "program",
        "difficulty": "easy",
        "question": "q",
        "answer": "a",
    }
    return raw | overrides


def make_sample(**overrides: Any) -> dict[str, Any]:
    """A migrated sample document (C, chapter 1, an easy one-point MCQ on the basics),
    with ``overrides`` replacing or adding fields. A fresh dict each call."""
    migrated = {"language": "c", "knowledge_area": "basics", "read_points": 1, "tags": []}
    return make_raw_sample(type="mcq") | migrated | overrides
