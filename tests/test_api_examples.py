"""docs/API_EXAMPLES.md is what the service answers: regenerated here, it must not differ."""

from __future__ import annotations

import difflib

from tests.conftest import unique_name
from tools.api_examples import EXAMPLES, OUTPUT, generate, normalise, to_json


async def test_api_examples_are_up_to_date(mongo_url: str) -> None:
    expected = await generate(mongo_url, db_name=unique_name("lmx_test_examples"))
    committed = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
    if committed != expected:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    expected.splitlines(keepends=True),
                    "docs/API_EXAMPLES.md (committed)",
                    "docs/API_EXAMPLES.md (what the service answers)",
                )
            )[:80]
        )
        raise AssertionError(
            "docs/API_EXAMPLES.md is out of date with what the service answers; "
            f"run `make docs` and commit the result.\n{diff}"
        )


def test_every_example_is_documented_once_and_leaks_no_token() -> None:
    text = OUTPUT.read_text(encoding="utf-8")
    for n, call in enumerate(EXAMPLES, start=1):
        assert f"## {n}. {call['title']}\n" in text
    assert "eyJ" not in text  # a JWT never appears, only $TOKEN


def test_normalise_hides_volatile_values() -> None:
    body = {
        "readAt": "2025-03-04T05:06:07.890Z",
        "nested": [{"as_of": "2025-03-04T05:06:07+00:00", "when": "2025-03-04T05:06:07Z"}],
        "question": "q" * 200,
        "note": "n" * 200,
        "readAt_missing": None,
    }
    out = normalise(body)
    assert out["readAt"] == out["nested"][0]["as_of"] == out["nested"][0]["when"]
    assert out["readAt"] == "2026-01-29T12:00:00.000Z"
    assert out["question"] == "q" * 160 + "…" and out["note"] == "n" * 200
    assert to_json({"ids": [1, 2]}) == '{\n  "ids": [1, 2]\n}'
