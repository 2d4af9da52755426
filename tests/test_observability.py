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
