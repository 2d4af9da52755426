"""Leaderboards (``app.training.leaderboard``, ``cache.leaderboard``): ranks under
concurrent awards, Redis outages and opt-out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from app.training import shapes
from tests.conftest import conforms, small_catalog_app
from tests.test_cache import redis_outage


async def test_leaderboard_ranks_under_concurrent_awards(
    mongo_url: str, mongo_client: Any, redis_kind: str
) -> None:
    app_cm, name = await small_catalog_app(mongo_url, mongo_client, redis_kind, 20)
    try:
        async with app_cm as api:
            students = [f"LB_{i:02d}" for i in range(8)]
            # Load the boards first, so what follows is write-through, not a rebuild.
            await api.get("/training/leaderboard", student=students[0], language="c")
            # Student i reads i+1 samples, all at once with everyone else.
            calls = [
                api.post(f"/training/samples/c_ch1_q_{j:06d}/mark-read", student=s, time_spent=5)
                for i, s in enumerate(students)
                for j in range(i + 1)
            ]
            results = await asyncio.gather(*calls)
            assert all(r.status_code == 200 for r in results)
            expected = {s: sum(1 + j % 2 for j in range(i + 1)) for i, s in enumerate(students)}
            body = (
                await api.get(
                    "/training/leaderboard",
                    student=students[0],
                    language="c",
                    period="all",
                    limit=3,
                )
            ).json()
            conforms(shapes.LeaderboardOut, body)
            ranked = sorted(expected.items(), key=lambda kv: -kv[1])
            assert [(e["student"], e["points"]) for e in body["top"]] == ranked[:3]
            assert [e["rank"] for e in body["top"]] == [1, 2, 3]
            # The caller is outside the top 3 and still sees their own place.
            assert body["me"] == {"student": students[0], "rank": 8, "points": 1, "hidden": False}
            for period in ("week", "month"):
                again = (
                    await api.get(
                        "/training/leaderboard",
                        student=students[0],
                        language="c",
                        period=period,
                        limit=3,
                    )
                ).json()
                assert again["top"] == body["top"]
            # A rebuild from MongoDB agrees with the write-through board.
            boards = api.boards
            from app.training.leaderboard import board_for

            board, _, _ = board_for("c", "all", datetime.now(UTC))
            await api.backend.client.delete(boards.keys(board)[0])
            rebuilt = (
                await api.get(
                    "/training/leaderboard",
                    student=students[0],
                    language="c",
                    period="all",
                    limit=3,
                )
            ).json()
            assert rebuilt["top"] == body["top"] and rebuilt["me"] == body["me"]
            async with redis_outage(api):
                down = (
                    await api.get(
                        "/training/leaderboard",
                        student=students[0],
                        language="c",
                        period="all",
                        limit=3,
                    )
                ).json()
            assert down["top"] == body["top"] and down["me"] == body["me"]
    finally:
        await mongo_client.drop_database(name)


async def test_leaderboard_opt_out(mongo_url: str, mongo_client: Any, redis_kind: str) -> None:
    app_cm, name = await small_catalog_app(mongo_url, mongo_client, redis_kind, 6)
    try:
        async with app_cm as api:
            for i, student in enumerate(["OPT_A", "OPT_B"]):
                for j in range(2 + i):
                    await api.post(
                        f"/training/samples/c_ch1_q_{j:06d}/mark-read",
                        student=student,
                        time_spent=5,
                    )
            res = await api.client.put(
                "/training/preferences",
                json={"leaderboard_opt_out": True},
                headers=api.headers("OPT_B"),
            )
            assert res.json()["leaderboard_opt_out"] is True
            seen_by_a = (
                await api.get("/training/leaderboard", student="OPT_A", language="c", period="all")
            ).json()
            assert [e["student"] for e in seen_by_a["top"]] == ["OPT_A"]
            own = (
                await api.get("/training/leaderboard", student="OPT_B", language="c", period="all")
            ).json()
            assert own["me"]["hidden"] is True and own["me"]["rank"] == 1
            assert own["me"]["points"] == 4
            assert all(e["student"] != "OPT_B" for e in own["top"])
            # Reads after opting out stay off the board too.
            await api.post(
                "/training/samples/c_ch1_q_000005/mark-read", student="OPT_B", time_spent=5
            )
            seen_by_a = (
                await api.get("/training/leaderboard", student="OPT_A", language="c", period="all")
            ).json()
            assert [e["student"] for e in seen_by_a["top"]] == ["OPT_A"]
    finally:
        await mongo_client.drop_database(name)


# --- next-best sample -------------------------------------------------------------------
