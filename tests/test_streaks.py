"""Daily streaks in the student's zone (``app.training.streaks``), over HTTP and as functions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from app.timefmt import quarter_of
from app.training import shapes
from app.training.names import pseudonym
from app.training.streaks import ZONES, reads_per_day, streak, zone
from tests.conftest import Api, conforms


def _quarters(*moments: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for moment in moments:
        key = quarter_of(datetime.fromisoformat(moment))
        out[key] = out.get(key, 0) + 1
    return out


# --- streaks: pure rules -----------------------------------------------------------------


def test_streak_across_a_dst_change() -> None:
    # New York springs forward on 2026-03-08 (a 23-hour local day): reads late each evening.
    reads = _quarters(
        "2026-03-07T03:30:00+00:00",
        "2026-03-08T03:30:00+00:00",
        "2026-03-09T02:30:00+00:00",
        "2026-03-10T02:30:00+00:00",
    )
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    ny = streak(reads, tz=zone("America/New_York"), now=now)
    assert ny == {
        "current": 4,
        "longest": 4,
        "last_active_date": "2026-03-09",
        "tz": "America/New_York",
    }
    # Berlin falls back on 2026-10-25 (a 25-hour day): 23:30 local on both sides.
    berlin = _quarters(
        "2026-10-23T21:30:00+00:00", "2026-10-24T21:30:00+00:00", "2026-10-25T22:30:00+00:00"
    )
    result = streak(berlin, tz=zone("Europe/Berlin"), now=datetime(2026, 10, 26, 8, tzinfo=UTC))
    assert result["current"] == 3 and result["last_active_date"] == "2026-10-25"


def test_midnight_is_local_to_each_zone() -> None:
    # 23:50 and 00:10 local Tokyo time: two Tokyo days, one UTC day, one Los Angeles day.
    reads = _quarters("2026-06-01T14:50:00+00:00", "2026-06-01T15:10:00+00:00")
    assert len(reads_per_day(reads, zone("Asia/Tokyo"))) == 2
    assert len(reads_per_day(reads, zone("UTC"))) == 1
    assert len(reads_per_day(reads, zone("America/Los_Angeles"))) == 1
    # Nepal is UTC+05:45: a quarter-hour bucket never straddles its midnight either.
    nepal = _quarters("2026-06-01T18:14:00+00:00", "2026-06-01T18:15:00+00:00")
    assert len(reads_per_day(nepal, zone("Asia/Kathmandu"))) == 2


def test_streak_rules() -> None:
    now = datetime(2026, 5, 20, 9, tzinfo=UTC)
    gap = _quarters(
        "2026-05-10T10:00:00+00:00",
        "2026-05-11T10:00:00+00:00",
        "2026-05-12T10:00:00+00:00",
        "2026-05-18T10:00:00+00:00",
        "2026-05-19T10:00:00+00:00",
    )
    assert streak(gap, tz=zone("UTC"), now=now)["current"] == 2  # today not read yet
    assert streak(gap, tz=zone("UTC"), now=now)["longest"] == 3
    stale = streak(gap, tz=zone("UTC"), now=datetime(2026, 5, 22, tzinfo=UTC))
    assert stale["current"] == 0 and stale["longest"] == 3
    assert streak(gap, tz=zone("UTC"), now=now, minimum=2)["current"] == 0
    assert streak({}, tz=zone("UTC"), now=now)["last_active_date"] is None


def test_today_is_the_students_day_in_zones_behind_utc() -> None:
    # 02:00 UTC on 20 May is still the evening of 19 May in Los Angeles (UTC-7) and
    # Honolulu (UTC-10): reads on their 17th and 18th make a live two-day streak, though
    # the last of them was two UTC days ago.
    now = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
    reads = _quarters("2026-05-18T01:00:00+00:00", "2026-05-19T01:00:00+00:00")
    for name in ("America/Los_Angeles", "Pacific/Honolulu"):
        assert streak(reads, tz=zone(name), now=now) == {
            "current": 2,
            "longest": 2,
            "last_active_date": "2026-05-18",
            "tz": name,
        }
    # In UTC itself those reads fell on the 18th and 19th: also live, ending yesterday.
    assert streak(reads, tz=zone("UTC"), now=now)["last_active_date"] == "2026-05-19"
    # A day later in Los Angeles (20 May, 19:00 there) the streak has lapsed.
    later = datetime(2026, 5, 21, 2, 0, tzinfo=UTC)
    assert streak(reads, tz=zone("America/Los_Angeles"), now=later)["current"] == 0


# --- streaks over HTTP ---------------------------------------------------------------------


async def test_fifty_first_reads_on_one_day_credit_it_once(api: Api) -> None:
    ids = [
        s["sample_id"]
        for s in (await api.get("/training/samples", language="python", limit=50)).json()["data"]
    ]
    results = await asyncio.gather(
        *[api.post(f"/training/samples/{sid}/mark-read", time_spent=5) for sid in ids]
    )
    assert all(r.json()["is_first_read"] for r in results)
    body = (await api.get("/training/my-progress", language="python")).json()
    conforms(shapes.ProgressOut, body)
    today = datetime.now(UTC).date().isoformat()
    assert body["streak"] == {"current": 1, "longest": 1, "last_active_date": today, "tz": "UTC"}
    stats = await api.db["student_stats"].find_one({"_id": api.student})
    assert sum(stats["quarters"].values()) == 50


async def test_time_zone_from_query_or_preference(api: Api) -> None:
    [sample] = (await api.get("/training/samples", language="c", limit=1)).json()["data"]
    await api.post(f"/training/samples/{sample['sample_id']}/mark-read", time_spent=5)
    res = await api.client.put(
        "/training/preferences", json={"tz": "Asia/Kathmandu"}, headers=api.headers()
    )
    assert res.json() == {
        "status": "success",
        "tz": "Asia/Kathmandu",
        "leaderboard_opt_out": False,
        "display_name": None,
        "name": pseudonym(api.student, key=api.settings.pseudonym_secret),
    }
    body = (await api.get("/training/my-progress", language="c")).json()
    assert body["streak"]["tz"] == "Asia/Kathmandu"
    body = (await api.get("/training/my-progress", language="c", tz="Pacific/Auckland")).json()
    assert body["streak"]["tz"] == "Pacific/Auckland" and body["streak"]["current"] == 1
    bad = await api.get("/training/my-progress", language="c", tz="Mars/Olympus")
    assert bad.status_code == 400 and "time zone" in bad.json()["detail"]
    bad = await api.client.put(
        "/training/preferences", json={"tz": "Nowhere/Land"}, headers=api.headers()
    )
    assert bad.status_code == 400


@pytest.mark.parametrize(
    "tz", ["posix/Europe/Berlin", "right/UTC", "Factory", "localtime", "posixrules", "../UTC"]
)
async def test_zones_off_the_list_are_refused(api: Api, tz: str) -> None:
    assert tz not in ZONES
    bad = await api.get("/training/my-progress", language="c", tz=tz)
    assert bad.status_code == 400 and "time zone" in bad.json()["detail"]
    bad = await api.client.put("/training/preferences", json={"tz": tz}, headers=api.headers())
    assert bad.status_code == 400 and "time zone" in bad.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"leaderboard_opt_out": "yes"},
        {"leaderboard_opt_out": "true"},
        {"leaderboard_opt_out": 1},
        {"leaderboard_opt_out": 0},
        {"tz": 5},
        {"display_name": 12345},
    ],
)
async def test_preferences_take_json_types_as_they_are(api: Api, body: dict[str, object]) -> None:
    res = await api.client.put("/training/preferences", json=body, headers=api.headers())
    assert res.status_code == 422 and res.json()["code"] == "validation_error"
    assert next(iter(body)) in res.json()["detail"]
    assert await api.db["student_stats"].find_one({"_id": api.student}) is None


async def test_recompute_keeps_streak_and_preferences(api: Api) -> None:
    from app.training.reconcile import recompute_stats

    ids = [
        s["sample_id"]
        for s in (await api.get("/training/samples", language="cpp", limit=3)).json()["data"]
    ]
    for sid in ids:
        await api.post(f"/training/samples/{sid}/mark-read", time_spent=5)
    await api.client.put(
        "/training/preferences", json={"leaderboard_opt_out": True}, headers=api.headers()
    )
    before = await api.db["student_stats"].find_one({"_id": api.student}, {"updated_at": 0})
    await recompute_stats(db=api.db, progress=api.resources.progress, student=api.student)
    after = await api.db["student_stats"].find_one({"_id": api.student}, {"updated_at": 0})
    assert after == before


# --- leaderboards ---------------------------------------------------------------------------
