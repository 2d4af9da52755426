"""Generate ``docs/API_EXAMPLES.md``: a real request and response for every endpoint.

``make docs`` (``python -m tools.api_examples``) seeds the demo catalog into a fresh database,
runs the service in-process, sends every call of ``EXAMPLES`` in order as one student and
writes what the service answered as markdown. ``tests/test_api_examples.py`` renders the
same document and fails when the committed file differs, so the examples cannot go stale.

To document a new endpoint, append a dict to ``EXAMPLES`` (see ``ExampleCall``) and run
``make docs``. The output is byte-identical across runs: datetimes are replaced by a fixed
placeholder, random picks use a fixed seed (``seed``), and the token never appears.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import re
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict
from urllib.parse import urlencode

import httpx

from app.auth import mint_token
from app.main import create_app
from app.resources import database_settings, open_resources
from app.seed import seed_demo
from app.settings import Settings
from app.training.queries import meta
from migrations.add_language_to_samples import migrate

OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "API_EXAMPLES.md"
BASE_URL = "http://127.0.0.1:8000"
STUDENT = "SIDHI_A6281C8BA865"
CLIENT_ID = "web"
# Only ever signs the in-process requests of the generator; never rendered.
JWT_SECRET = "lumetrix-api-examples-secret-0123456789abcdef"
SAMPLE_ID = "c_ch1_q_000025"
TIME_PLACEHOLDER = "2026-01-29T12:00:00.000Z"
TRUNCATE_AT = 160
INLINE_LIST_WIDTH = 80
TRUNCATED_KEYS = frozenset({"question", "answer"})
VOLATILE_KEYS = frozenset({"readAt", "read_at", "last_revisited", "as_of", "exported_at"})
ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
)

Auth = Literal["token", "client-id-only", "none"]


class ExampleCall(TypedDict):
    """One documented call; the optional keys default as described."""

    title: str  # one line: the section heading
    note: str  # one line shown under the heading
    method: str
    path: str
    query: NotRequired[dict[str, str | int]]  # sent (and shown) in this order
    json: NotRequired[Any]  # JSON body, if any
    # "token" (default under /training): Bearer token + X-Client-Id; "client-id-only":
    # X-Client-Id without a token; "none" (default elsewhere): no auth headers.
    auth: NotRequired[Auth]
    seed: NotRequired[int]  # seed Python's `random` right before the call (random picks)
    headers: NotRequired[dict[str, str]]  # extra request headers, shown in the curl line


# The extension point: append new endpoints here (they run in this order, as one student).
EXAMPLES: list[ExampleCall] = [
    {
        "title": "Liveness",
        "note": "No auth; 200 while the process serves requests.",
        "method": "GET",
        "path": "/health",
    },
    {
        "title": "Readiness",
        "note": "No auth; MongoDB and Redis status (503 when MongoDB is down).",
        "method": "GET",
        "path": "/ready",
    },
    {
        "title": "List samples of a language",
        "note": "A page of samples, each with the student's `isRead`/`readAt`.",
        "method": "GET",
        "path": "/training/samples",
        "query": {"language": "c", "limit": 2},
    },
    {
        "title": "List samples with filters",
        "note": "Filters combine: chapter, knowledge_area, type and difficulty.",
        "method": "GET",
        "path": "/training/samples",
        "query": {
            "language": "c",
            "chapter": 6,
            "knowledge_area": "pointers",
            "type": "debug",
            "difficulty": "hard",
            "limit": 2,
        },
    },
    {
        "title": "Unknown language",
        "note": "An unknown `language` is a 400 naming the valid ones.",
        "method": "GET",
        "path": "/training/samples",
        "query": {"language": "invalid"},
    },
    {
        "title": "One sample",
        "note": "Not read yet: `isRead` false, `timeSpent` and `revisitedCount` 0.",
        "method": "GET",
        "path": f"/training/samples/{SAMPLE_ID}",
    },
    {
        "title": "Unknown sample",
        "note": "A sample id that does not exist is a 404.",
        "method": "GET",
        "path": "/training/samples/c_ch1_q_999999",
    },
    {
        "title": "Mark a sample read (first read)",
        "note": "`time_spent` as a query parameter; the first read awards the sample's points.",
        "method": "POST",
        "path": f"/training/samples/{SAMPLE_ID}/mark-read",
        "query": {"time_spent": 45},
    },
    {
        "title": "Mark the same sample read again (revisit)",
        "note": "`time_spent` as a JSON body; a revisit adds time but no points.",
        "method": "POST",
        "path": f"/training/samples/{SAMPLE_ID}/mark-read",
        "json": {"time_spent": 30},
    },
    {
        "title": "The sample after two reads",
        "note": "`isRead`, `readAt`, the summed `timeSpent` and `revisitedCount`.",
        "method": "GET",
        "path": f"/training/samples/{SAMPLE_ID}",
    },
    {
        "title": "Chapters with progress",
        "note": "Each chapter's totals by type and difficulty, the student's reads and %.",
        "method": "GET",
        "path": "/training/chapters",
        "query": {"language": "c"},
    },
    {
        "title": "Filter values",
        "note": "Every value the filters accept (`?language=` narrows chapters and areas).",
        "method": "GET",
        "path": "/training/filters",
    },
    {
        "title": "Catalog stats",
        "note": "Sample counts of a language by chapter, type, difficulty and area.",
        "method": "GET",
        "path": "/training/stats",
        "query": {"language": "python"},
    },
    {
        "title": "A random unread sample",
        "note": "The pick is random on every call (seeded here so this file is stable).",
        "method": "GET",
        "path": "/training/random",
        "query": {"language": "cpp", "unread_only": "true"},
        "seed": 1,
    },
    {
        "title": "Search question and answer text",
        "note": "Literal, case-insensitive search; paginated like `/samples`.",
        "method": "GET",
        "path": "/training/search",
        "query": {"language": "c", "q": "pointer", "limit": 2},
    },
    {
        "title": "Knowledge areas",
        "note": "Each knowledge area with its sample count by difficulty.",
        "method": "GET",
        "path": "/training/knowledge-areas",
        "query": {"language": "c"},
    },
    {
        "title": "My progress",
        "note": "Overview with points, every chapter and area, the last 10 reads.",
        "method": "GET",
        "path": "/training/my-progress",
        "query": {"language": "c"},
    },
    {
        "title": "Preferences",
        "note": "Time zone for streaks, leaderboard visibility, the name leaderboards show.",
        "method": "PUT",
        "path": "/training/preferences",
        "json": {"tz": "Europe/Berlin", "leaderboard_opt_out": False, "display_name": "Ada L."},
    },
    {
        "title": "My progress in a time zone",
        "note": "`tz` overrides the stored zone for this answer's streak.",
        "method": "GET",
        "path": "/training/my-progress",
        "query": {"language": "c", "tz": "America/New_York"},
    },
    {
        "title": "Leaderboard",
        "note": "Top students by name (never by id) this UTC week, and the caller's own rank.",
        "method": "GET",
        "path": "/training/leaderboard",
        "query": {"language": "c", "period": "week", "limit": 5},
    },
    {
        "title": "Next sample",
        "note": "The unread sample to read next: lowest unfinished chapter, weakest area.",
        "method": "GET",
        "path": "/training/next",
        "query": {"language": "c"},
    },
    {
        "title": "Catalog unchanged (304)",
        "note": "Catalog answers carry an ETag; send it back in If-None-Match.",
        "method": "GET",
        "path": "/training/stats",
        "query": {"language": "python"},
        "headers": {"If-None-Match": '"catalog-v2"'},
    },
    {
        "title": "Missing token",
        "note": "Every `/training` route needs a Bearer token; without one it is a 401.",
        "method": "GET",
        "path": "/training/samples",
        "query": {"language": "c", "limit": 2},
        "auth": "client-id-only",
    },
    {
        "title": "Invalid parameter",
        "note": "Out-of-range parameters are a 422 (`limit` is 1-100).",
        "method": "GET",
        "path": "/training/samples",
        "query": {"language": "c", "limit": 101},
    },
]


def url_of(call: ExampleCall) -> str:
    """Path and query string of ``call`` (relative to the base URL)."""
    query = call.get("query")
    return call["path"] + (f"?{urlencode(query)}" if query else "")


def auth_of(call: ExampleCall) -> Auth:
    """The auth a call is sent with (default: a token under /training)."""
    return call.get("auth", "token" if call["path"].startswith("/training") else "none")


def normalise(value: Any, key: str | None = None) -> Any:
    """``value`` with datetimes replaced by a placeholder and long texts truncated."""
    if isinstance(value, dict):
        return {k: normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, key) for v in value]
    if isinstance(value, str):
        if key in VOLATILE_KEYS or ISO_DATETIME.match(value):
            return TIME_PLACEHOLDER
        if key == "period_key" and value != "all":  # the week or month of the run
            return "2026-W05" if "W" in value else "2026-01"
        if key == "last_active_date":  # the day of the run, in the student's zone
            return TIME_PLACEHOLDER[:10]
        if key in TRUNCATED_KEYS and len(value) > TRUNCATE_AT:
            return value[:TRUNCATE_AT] + "…"
    return value


def curl_of(call: ExampleCall) -> str:
    """The curl command for ``call`` (the token shown as ``$TOKEN``)."""
    parts = ["curl -s"]
    if call["method"] != "GET":
        parts.append(f"-X {call['method']}")
    auth = auth_of(call)
    if auth == "token":
        parts.append('-H "Authorization: Bearer $TOKEN"')
    if auth in ("token", "client-id-only"):
        parts.append(f'-H "X-Client-Id: {CLIENT_ID}"')
    for name, value in call.get("headers", {}).items():
        parts.append(f"-H '{name}: {value}'")
    if "json" in call:
        parts.append('-H "Content-Type: application/json"')
        parts.append(f"-d '{json.dumps(call['json'])}'")
    parts.append(f"'{BASE_URL}{url_of(call)}'")
    if len(parts) == 2:
        return " ".join(parts)
    return " \\\n  ".join(parts)


def _status_line(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def to_json(value: Any, level: int = 0) -> str:
    """Pretty JSON (indent 2), with short lists of scalars kept on one line."""
    pad, inner = "  " * level, "  " * (level + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {to_json(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and value:
        if not any(isinstance(v, dict | list) for v in value):
            flat = json.dumps(value, ensure_ascii=False)
            if len(pad) + len(flat) <= INLINE_LIST_WIDTH:
                return flat
        items = [f"{inner}{to_json(v, level + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False)


def _body_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text
    return to_json(normalise(body))


HEADER = f"""\
# Lumetrix training API — request and response examples

<!-- GENERATED FILE: do not edit by hand. Regenerate with `make docs` (tools/api_examples.py). -->

> **Generated by `make docs` — do not edit by hand.** `tests/test_api_examples.py`
> fails when this file differs from what the service answers; to change a call, edit
> `EXAMPLES` in `tools/api_examples.py` and run `make docs`.

Every response below is real: the calls were sent in this order to the service (run
in-process) on the demo catalog (`lumetrix seed-demo` then `lumetrix migrate`), as
student `{STUDENT}` from client `{CLIENT_ID}`, starting with no reads, so later
calls show the reads of earlier ones.

To keep this file stable and readable:

- datetimes (`readAt`, `read_at`, `last_revisited`, …) are shown as `{TIME_PLACEHOLDER}`;
- `question` and `answer` texts longer than {TRUNCATE_AT} characters are cut, ending in `…`
  (the service returns them whole);
- `/training/random` was seeded; it returns a different sample on each call.

## Getting a token

Every `/training` route needs `Authorization: Bearer <JWT>` and an `X-Client-Id` header
equal to the token's client id. With `make run` up (or the server's `JWT_SECRET` set):

```bash
export TOKEN=$(lumetrix token --sub {STUDENT} --client-id {CLIENT_ID})
```

`make run` serves on `{BASE_URL}`, the base URL used below.
"""


def render(results: Sequence[tuple[ExampleCall, httpx.Response]]) -> str:
    """The markdown document of the calls and the service's answers."""
    index = ["## Calls", "", "| # | request | status |", "|---|---|---|"]
    sections: list[str] = []
    for n, (call, response) in enumerate(results, start=1):
        request = f"{call['method']} {url_of(call)}"
        status = _status_line(response.status_code)
        index.append(f"| {n} | `{request}` — {call['title']} | {status} |")
        sections.append(
            "\n".join(
                [
                    f"## {n}. {call['title']}",
                    "",
                    call["note"],
                    "",
                    "```bash",
                    curl_of(call),
                    "```",
                    "",
                    f"**Response:** `{status}`",
                    "",
                    "```json",
                    _body_of(response),
                    "```",
                ]
            )
        )
    return "\n\n".join([HEADER.rstrip("\n"), "\n".join(index), *sections]) + "\n"


async def run_calls(
    client: httpx.AsyncClient, token: str, calls: Sequence[ExampleCall]
) -> list[tuple[ExampleCall, httpx.Response]]:
    """Send ``calls`` in order; a call with ``seed`` runs with Python's `random` seeded."""
    results = []
    for call in calls:
        headers: dict[str, str] = {}
        auth = auth_of(call)
        if auth == "token":
            headers["Authorization"] = f"Bearer {token}"
        if auth in ("token", "client-id-only"):
            headers["X-Client-Id"] = CLIENT_ID
        headers.update(call.get("headers", {}))
        kwargs: dict[str, Any] = {"headers": headers}
        if "json" in call:
            kwargs["json"] = call["json"]
        state = random.getstate()
        if "seed" in call:
            random.seed(call["seed"])
        try:
            response = await client.request(call["method"], url_of(call), **kwargs)
        finally:
            random.setstate(state)
        results.append((call, response))
    return results


def example_settings(mongo_url: str | None, db_name: str, data_dir: Path | None = None) -> Settings:
    """Settings of the documented service: every value that shows in answers is pinned."""
    settings = Settings(
        mongodb_url=mongo_url,
        mongodb_db=db_name,
        redis_url=None,
        redis_prefix=f"lmxdocs:{uuid.uuid4().hex[:8]}:",
        jwt_secret=JWT_SECRET,
        lumetrix_env="development",
        lumetrix_cache="on",
        warm_on_start=True,
        mark_read_rate=0,
    )
    return settings if data_dir is None else settings.model_copy(update={"data_dir": data_dir})


async def generate(
    mongo_url: str,
    *,
    db_name: str | None = None,
    calls: Sequence[ExampleCall] = EXAMPLES,
    extra_settings: Mapping[str, Any] | None = None,
) -> str:
    """Seed a fresh database at ``mongo_url``, run ``calls`` against the app, render them.

    The database (``db_name``, default a new unique name) is dropped afterwards.
    """
    settings = example_settings(mongo_url, db_name or f"lmx_examples_{uuid.uuid4().hex[:10]}")
    if extra_settings:
        settings = settings.model_copy(update=dict(extra_settings))
    async with open_resources(settings, indexes=False) as res:
        try:
            await seed_demo(res.db, show_progress=False)
            await migrate(res.db, show_progress=False)
            app = create_app(settings)
            token = mint_token(JWT_SECRET, sub=STUDENT, client_id=CLIENT_ID)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                    results = await run_calls(client, token, calls)
            return render(results)
        finally:
            await meta.drop_database(res.db)


def _generate_standalone(mongo_url: str | None) -> str:
    if mongo_url:
        return asyncio.run(generate(mongo_url))
    with tempfile.TemporaryDirectory(prefix="lumetrix-docs-") as tmp:
        pinned = example_settings(None, "unused", data_dir=Path(tmp))
        with database_settings(pinned) as started:
            return asyncio.run(generate(str(started.mongodb_url)))


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m tools.api_examples [--output PATH]``: write the examples document."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"default: {OUTPUT}")
    args = parser.parse_args(argv)
    text = _generate_standalone(os.environ.get("MONGODB_URL") or None)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(EXAMPLES)} calls)")


if __name__ == "__main__":
    main()
