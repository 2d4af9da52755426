"""Metrics, request ids and logs."""

from __future__ import annotations

import json
import logging

import pytest

from tests.conftest import Api


async def test_request_id_is_echoed_or_made(api: Api) -> None:
    res = await api.client.get("/health", headers={"X-Request-Id": "abc-123"})
    assert res.headers["x-request-id"] == "abc-123"
    made = await api.client.get("/health", headers={"X-Request-Id": "bad id {} <script>"})
    assert made.headers["x-request-id"] != "bad id" and len(made.headers["x-request-id"]) == 32


async def test_metrics_count_requests_caches_and_reads(api: Api) -> None:
    [sample] = (await api.get("/training/samples", language="c", limit=1)).json()["data"]
    await api.post(f"/training/samples/{sample['sample_id']}/mark-read", time_spent=5)
    await api.post(f"/training/samples/{sample['sample_id']}/mark-read", time_spent=5)
    await api.get("/training/samples", language="c", limit=1)
    res = await api.client.get("/metrics")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/plain")
    text = res.text
    assert (
        'lumetrix_request_seconds_count{method="GET",route="/training/samples",status="2xx"}'
        in text
    )
    for needle in [
        'cache="catalog_l1",outcome="hit"',
        'cache="progress_set",outcome="hit"',
        'cache="progress_set",outcome="miss"',
        'lumetrix_reads_total{kind="first_read"}',
        'lumetrix_reads_total{kind="revisit"}',
        "lumetrix_points_awarded_total",
        "lumetrix_redis_fallbacks_total",
    ]:
        assert needle in text, needle


async def test_logs_are_json_with_request_id_and_never_a_token(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    from app.observability import JsonFormatter

    headers = api.headers()
    with caplog.at_level(logging.INFO, logger="lumetrix.access"):
        await api.client.get(
            "/training/samples?language=c&limit=1", headers={**headers, "X-Request-Id": "req-42"}
        )
        await api.client.get(
            "/training/samples?language=c",
            headers={"Authorization": headers["Authorization"] + "x", "X-Client-Id": "web"},
        )
    lines = [JsonFormatter().format(r) for r in caplog.records]
    entries = [json.loads(line) for line in lines]
    assert any(
        e["request_id"] == "req-42" and e["route"] == "/training/samples" and e["status"] == 200
        for e in entries
    )
    assert any(e.get("status") == 401 for e in entries)
    token = headers["Authorization"].split()[1]
    assert all(token not in line for line in lines)


def test_an_access_line_written_directly_is_the_formatted_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The access log's direct write gives the line a LogRecord would, and steps aside
    (a record, through logging) whenever another handler listens."""
    import io

    from app.observability import JsonFormatter, JsonHandler, log, write_access_line

    handler = JsonHandler()
    handler.stream = io.StringIO()
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [handler])
    # setLevel, not the attribute: it also empties the loggers' cached isEnabledFor answers,
    # which earlier tests may have filled at another level.
    monkeypatch.setattr(root, "level", root.level)  # restored after the test
    root.setLevel(logging.INFO)
    monkeypatch.setattr(log, "disabled", False)
    fields = {"request_id": "r-1", "method": "GET", "route": "/x", "status": 200, "ms": 1.5}
    write_access_line(fields)
    record = log.makeRecord(
        log.name, logging.INFO, "", 0, "request", (), None, extra={"fields": fields}
    )
    record.request_id = "r-1"
    direct = json.loads(handler.stream.getvalue())
    formatted = json.loads(JsonFormatter().format(record))
    assert direct.pop("ts")[:4] == formatted.pop("ts")[:4]
    assert list(direct) == list(formatted) and direct == formatted

    seen: list[logging.LogRecord] = []

    class Listener(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    monkeypatch.setattr(root, "handlers", [handler, Listener()])
    write_access_line(fields)
    assert [r.fields for r in seen] == [fields]  # type: ignore[attr-defined]
    assert len(handler.stream.getvalue().splitlines()) == 2  # and the JSON line still


async def test_access_lines_of_one_loop_turn_are_written_together_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Inside an event loop the access lines wait for the end of the turn, then go out in
    one write, in order, and before any record logged after them."""
    import asyncio
    import io

    from app.observability import JsonHandler, log, write_access_line

    handler = JsonHandler()
    writes: list[str] = []

    class Stream(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return super().write(text)

    handler.stream = Stream()
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [handler])
    monkeypatch.setattr(root, "level", root.level)
    root.setLevel(logging.INFO)
    monkeypatch.setattr(log, "disabled", False)
    for n in range(3):
        write_access_line({"request_id": f"r-{n}", "method": "GET", "route": "/x", "status": 200})
    assert writes == []  # not yet: the turn has not ended
    await asyncio.sleep(0)
    assert len(writes) == 1
    write_access_line({"request_id": "r-3", "method": "GET", "route": "/x", "status": 200})
    logging.getLogger("lumetrix.other").warning("after")
    lines = [json.loads(line) for line in handler.stream.getvalue().splitlines()]
    assert [e["request_id"] for e in lines[:4]] == ["r-0", "r-1", "r-2", "r-3"]
    assert lines[4]["msg"] == "after"
    write_access_line({"request_id": "r-4", "method": "GET", "route": "/x", "status": 200})
    handler.flush()  # what logging.shutdown does at exit
    assert json.loads(handler.stream.getvalue().splitlines()[-1])["request_id"] == "r-4"


def test_access_lines_are_not_held_back_by_a_loop_that_ended_before_writing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A line whose loop closed before the end of its turn goes out with the next loop's."""
    import asyncio
    import io

    from app.observability import JsonHandler, log, write_access_line

    handler = JsonHandler()
    handler.stream = io.StringIO()
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [handler])
    monkeypatch.setattr(root, "level", root.level)
    root.setLevel(logging.INFO)
    monkeypatch.setattr(log, "disabled", False)

    def line(n: int) -> None:
        write_access_line({"request_id": f"r-{n}", "method": "GET", "route": "/x", "status": 200})

    async def one(n: int) -> None:
        line(n)

    loop = asyncio.new_event_loop()

    def last_turn() -> None:
        line(0)
        loop.stop()  # the loop ends with this turn: the write due after it never runs

    loop.call_soon(last_turn)
    loop.run_forever()
    loop.close()
    assert handler.stream.getvalue() == ""
    asyncio.run(one(1))
    lines = [json.loads(line) for line in handler.stream.getvalue().splitlines()]
    assert [e["request_id"] for e in lines] == ["r-0", "r-1"]
