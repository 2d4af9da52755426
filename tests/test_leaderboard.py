"""Leaderboards (``app.training.leaderboard``, ``cache.leaderboard``): ranks under
concurrent awards, Redis outages and opt-out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from app.training import shapes
from app.training.names import pseudonym
from tests.conftest import Api, conforms, drop_database, small_catalog_app
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
            key = api.settings.pseudonym_secret
            assert [(e["name"], e["points"]) for e in body["top"]] == [
                (pseudonym(s, key=key), p) for s, p in ranked[:3]
            ]
            assert [e["rank"] for e in body["top"]] == [1, 2, 3]
            # The caller is outside the top 3 and still sees their own place.
            assert body["me"] == {
                "student": students[0],
                "name": pseudonym(students[0], key=key),
                "rank": 8,
                "points": 1,
                "hidden": False,
            }
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
        await drop_database(mongo_client, name)


async def test_tied_students_share_a_rank_and_the_next_skips(
    mongo_url: str, mongo_client: Any, redis_kind: str
) -> None:
    # Samples alternate 1 and 2 points: 6, 3, 3 and 1 points give ranks 1, 2, 2, 4.
    reads = {"TIE_A": [0, 1, 2, 3], "TIE_B": [0, 1], "TIE_C": [2, 3], "TIE_D": [4]}
    app_cm, name = await small_catalog_app(mongo_url, mongo_client, redis_kind, 10)
    try:
        async with app_cm as api:
            for student, samples in reads.items():
                for j in samples:
                    res = await api.post(
                        f"/training/samples/c_ch1_q_{j:06d}/mark-read",
                        student=student,
                        time_spent=5,
                    )
                    assert res.status_code == 200, res.text
            body = (
                await api.get("/training/leaderboard", student="TIE_D", language="c", period="all")
            ).json()
            assert [(e["rank"], e["points"]) for e in body["top"]] == [
                (1, 6),
                (2, 3),
                (2, 3),
                (4, 1),
            ]
            assert (body["me"]["rank"], body["me"]["points"]) == (4, 1)
            tied = (
                await api.get("/training/leaderboard", student="TIE_C", language="c", period="all")
            ).json()
            assert tied["me"]["rank"] == 2
    finally:
        await drop_database(mongo_client, name)


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
            name_a = pseudonym("OPT_A", key=api.settings.pseudonym_secret)
            seen_by_a = (
                await api.get("/training/leaderboard", student="OPT_A", language="c", period="all")
            ).json()
            assert [(e["name"], e["is_me"]) for e in seen_by_a["top"]] == [(name_a, True)]
            own = (
                await api.get("/training/leaderboard", student="OPT_B", language="c", period="all")
            ).json()
            assert own["me"]["hidden"] is True and own["me"]["rank"] == 1
            assert own["me"]["points"] == 4
            assert [e["name"] for e in own["top"]] == [name_a]
            # Reads after opting out stay off the board too.
            await api.post(
                "/training/samples/c_ch1_q_000005/mark-read", student="OPT_B", time_spent=5
            )
            seen_by_a = (
                await api.get("/training/leaderboard", student="OPT_A", language="c", period="all")
            ).json()
            assert [e["name"] for e in seen_by_a["top"]] == [name_a]
    finally:
        await drop_database(mongo_client, name)


async def test_opting_back_in_restores_every_point(
    mongo_url: str, mongo_client: Any, redis_kind: str
) -> None:
    app_cm, name = await small_catalog_app(mongo_url, mongo_client, redis_kind, 6)
    try:
        async with app_cm as api:

            async def points_seen_by_other(period: str) -> dict[str, int]:
                body = (
                    await api.get(
                        "/training/leaderboard", student="IN_OTHER", language="c", period=period
                    )
                ).json()
                return {e["name"]: e["points"] for e in body["top"]}

            async def opt_out(flag: bool) -> None:
                res = await api.client.put(
                    "/training/preferences",
                    json={"leaderboard_opt_out": flag},
                    headers=api.headers("IN_BACK"),
                )
                assert res.status_code == 200 and res.json()["leaderboard_opt_out"] is flag

            async def read(j: int) -> None:
                res = await api.post(
                    f"/training/samples/c_ch1_q_{j:06d}/mark-read", student="IN_BACK", time_spent=5
                )
                assert res.status_code == 200 and res.json()["is_first_read"] is True

            shown = pseudonym("IN_BACK", key=api.settings.pseudonym_secret)
            for j in range(3):  # 1 + 2 + 1 points
                await read(j)
            for period in ("week", "month", "all"):
                assert await points_seen_by_other(period) == {shown: 4}  # boards loaded
            await opt_out(True)
            for period in ("week", "month", "all"):
                assert await points_seen_by_other(period) == {}  # loaded without them
            await opt_out(False)
            await opt_out(False)  # resent: nothing changes
            await read(3)  # 2 more points
            for period in ("week", "month", "all"):
                assert await points_seen_by_other(period) == {shown: 6}, period
            own = await _board(api, "IN_BACK")
            assert own["me"]["points"] == 6 and own["me"]["hidden"] is False
            await read(4)  # write-through onto the rebuilt boards
            assert await points_seen_by_other("all") == {shown: 7}
    finally:
        await drop_database(mongo_client, name)


# --- names instead of ids ---------------------------------------------------------------


async def _board(api: Any, student: str) -> dict[str, Any]:
    res = await api.get("/training/leaderboard", student=student, language="c", period="all")
    assert res.status_code == 200, res.text
    body: dict[str, Any] = res.json()
    conforms(shapes.LeaderboardOut, body)
    return body


async def _set_name(api: Any, student: str, body: dict[str, Any]) -> Any:
    return await api.client.put("/training/preferences", json=body, headers=api.headers(student))


async def test_leaderboard_shows_names_never_other_ids(
    mongo_url: str, mongo_client: Any, redis_kind: str
) -> None:
    app_cm, name = await small_catalog_app(mongo_url, mongo_client, redis_kind, 6)
    try:
        async with app_cm as api:
            ids = ["SIDHI_NAME_A", "SIDHI_NAME_B", "SIDHI_NAME_C"]
            for i, student in enumerate(ids):
                for j in range(i + 1):
                    await api.post(
                        f"/training/samples/c_ch1_q_{j:06d}/mark-read",
                        student=student,
                        time_spent=5,
                    )
            res = await _set_name(api, ids[2], {"display_name": "Zoë the Great"})
            assert res.status_code == 200, res.text
            assert res.json()["display_name"] == res.json()["name"] == "Zoë the Great"
            key = api.settings.pseudonym_secret
            for viewer in ids:
                body = await _board(api, viewer)
                others = [s for s in ids if s != viewer]
                assert not any(s in str(body["top"]) for s in others), body["top"]
                assert all(set(e) == {"rank", "name", "points", "is_me"} for e in body["top"])
                assert [e["name"] for e in body["top"]] == [
                    "Zoë the Great",
                    pseudonym(ids[1], key=key),
                    pseudonym(ids[0], key=key),
                ]
                assert [e["is_me"] for e in body["top"]] == [s == viewer for s in ids[::-1]]
                # The caller's own entry carries their id and the name others see.
                mine = "Zoë the Great" if viewer == ids[2] else pseudonym(viewer, key=key)
                assert body["me"]["student"] == viewer and body["me"]["name"] == mine
            # Pseudonyms are stable (also across a rebuild of the board), distinct, and
            # not the id.
            before = await _board(api, ids[0])
            from app.training.leaderboard import board_for

            board, _, _ = board_for("c", "all", datetime.now(UTC))
            await api.backend.client.delete(api.boards.keys(board)[0])
            assert (await _board(api, ids[0]))["top"] == before["top"]
            names = [e["name"] for e in before["top"][1:]]
            assert len(set(names)) == 2 and all(n.startswith("Learner-") for n in names)
            # Clearing the display name brings the pseudonym back.
            res = await _set_name(api, ids[2], {"display_name": None})
            assert res.status_code == 200
            assert res.json()["display_name"] is None
            assert res.json()["name"] == pseudonym(ids[2], key=key)
            top = (await _board(api, ids[0]))["top"]
            assert top[0]["name"] == pseudonym(ids[2], key=key)
    finally:
        await drop_database(mongo_client, name)


async def test_display_name_set_kept_and_cleared(api: Api) -> None:
    other = api.student + "_2"
    # The catalog database is shared by the tests: a name of this test's own.
    ada = "Ada " + api.student[-8:]
    res = await _set_name(api, api.student, {"display_name": ada})
    assert res.status_code == 200, res.text
    assert res.json()["display_name"] == ada
    # Absent leaves it; other fields change alone.
    res = await _set_name(api, api.student, {"tz": "Europe/Berlin"})
    assert res.json()["display_name"] == ada and res.json()["tz"] == "Europe/Berlin"
    # Someone else's name, in another case or with compatibility forms, is refused.
    for taken in (ada.lower(), ada.upper(), "\uff21" + ada[1:]):
        res = await _set_name(api, other, {"display_name": taken})
        assert res.status_code == 409, (taken, res.text)
        assert res.json()["code"] == "name_taken" and "already used" in res.json()["detail"]
    # The owner may change its case; once it is cleared, the name is free again.
    res = await _set_name(api, api.student, {"display_name": ada.upper()})
    assert res.status_code == 200 and res.json()["name"] == ada.upper()
    res = await _set_name(api, api.student, {"display_name": None})
    assert res.status_code == 200 and res.json()["display_name"] is None
    assert res.json()["name"] == pseudonym(api.student, key=api.settings.pseudonym_secret)
    res = await _set_name(api, other, {"display_name": ada.lower()})
    assert res.status_code == 200 and res.json()["name"] == ada.lower()
    # Students without a name do not collide with each other (partial index).
    for student in (api.student, api.student + "_3"):
        res = await _set_name(api, student, {"leaderboard_opt_out": False})
        assert res.status_code == 200 and res.json()["display_name"] is None


@pytest.mark.parametrize(
    "bad",
    [
        "ab",  # too short
        "x" * 25,  # too long
        " Ada",  # leading space
        "Ada ",  # trailing space
        "Ada  L",  # two spaces
        "Ada!",  # punctuation outside _ - .
        "Ada\u200bL",  # a format character (zero-width space)
        "Ada\u0007L",  # a control character
        "SIDHI_x",  # an id
        "sidhi_A6281C8BA865",
        "Learner-7F3A9C2E",  # a pseudonym
        "123",  # no letter
        # The probe's impersonations (issue 21): a pseudonym plus punctuation or with a
        # look-alike letter, ids without a separator or with a Cyrillic letter, invisible
        # letters, mixed scripts.
        "Learner-1FCFD9A4.",
        "Learner-1FCFD9A4-",
        "L\u0435arner-1FCFD9A4",  # Cyrillic small ie
        "Learner-lFCFD9A4",  # l for 1: the same skeleton as a pseudonym
        "Learner OO1FCFD9",
        "SIDHIDEMO000001",
        "\u0405IDHI_DEMO000001",  # Cyrillic dze
        "\u0410da L.",  # Cyrillic capital a
        "\u0391da L.",  # Greek capital alpha
        "Ad\u0430 L.",  # Cyrillic small a
        "Ada\u3164L",  # HANGUL FILLER, a default-ignorable letter
        "Ada\u17b4L",  # KHMER VOWEL INHERENT AQ, a default-ignorable mark
        "Ada\u115fL",  # HANGUL CHOSEONG FILLER
        "A\u0301\u0301da",  # one mark twice
    ],
)
async def test_invalid_display_names_are_400_with_a_detail(api: Api, bad: str) -> None:
    res = await _set_name(api, api.student, {"display_name": bad})
    assert res.status_code == 400, (bad, res.text)
    assert res.json()["code"] == "invalid_parameter" and "display_name" in res.json()["detail"]
    prefs = (await _set_name(api, api.student, {})).json()
    assert prefs["display_name"] is None


async def test_look_alikes_of_a_taken_name_are_taken(api: Api) -> None:
    """Names are compared by their confusable skeleton (UTS #39), ignoring case."""
    tail = api.student[-6:].replace("0", "x").replace("1", "y")
    res = await _set_name(api, api.student, {"display_name": f"Emma Io {tail}"})
    assert res.status_code == 200, res.text
    other = api.student + "_2"
    for alike in (
        f"Ernrna Io {tail}",  # rn for m
        f"EMMA lo {tail}",  # l for I, in another case
        f"emma 1o {tail}",  # 1 for I
        f"Emma I0 {tail}",  # 0 for o
        f"Emma \u0399o {tail}",  # a Greek capital iota: mixed scripts, 400
    ):
        res = await _set_name(api, other, {"display_name": alike})
        assert res.status_code in (400, 409), (alike, res.text)
        if "\u0399" not in alike:
            assert res.json()["code"] == "name_taken", (alike, res.text)
    # A name in one other script is fine, also when it is all look-alikes of Latin
    # letters, as long as no one has their skeleton.
    digits = str(int.from_bytes(api.student.encode()) % 10**8)
    res = await _set_name(api, other, {"display_name": f"Ελένη {digits}"})
    assert res.status_code == 200, res.text


async def test_one_name_twenty_times_at_once_is_given_once(api: Api) -> None:
    """The unique index on the skeleton decides: 20 concurrent PUTs of look-alikes of one
    name give exactly one 200."""
    tail = api.student[-6:].replace("0", "x").replace("1", "y")
    forms = [f"Emma {tail}", f"Ernrna {tail}", f"EMMA {tail}", f"emma {tail}"]
    students = [f"{api.student}_{i}" for i in range(20)]

    async def claim(i: int, student: str) -> Any:
        # A 503 (shed on a busy machine, nothing written) is retried, as a client would.
        for _ in range(20):
            res = await _set_name(api, student, {"display_name": forms[i % len(forms)]})
            if res.status_code != 503:
                return res
            await asyncio.sleep(0.05)
        return res

    results = await asyncio.gather(*(claim(i, s) for i, s in enumerate(students)))
    codes = sorted(r.status_code for r in results)
    assert codes == [200] + [409] * 19, [r.text for r in results if r.status_code != 409]


async def test_display_names_accept_unicode_letters_in_nfc(api: Api) -> None:
    tail = api.student[-6:]
    decomposed = "Jose\u0301 हिन्दी " + tail
    res = await _set_name(api, api.student, {"display_name": decomposed})
    assert res.status_code == 200, res.text
    assert res.json()["display_name"] == "José हिन्दी " + tail


# --- next-best sample -------------------------------------------------------------------


# --- opt-out racing mark-reads ----------------------------------------------------------


@pytest.mark.parametrize("rebuilt", [False, True], ids=["loaded", "rebuilt"])
async def test_an_award_held_past_the_opt_out_never_shows_the_student(
    mongo_url: str, mongo_client: Any, redis_kind: str, rebuilt: bool
) -> None:
    """The race the probe hit (2 of 25 trials): a mark-read read the preferences before the
    opt-out committed, so it awards after the opt-out took the student off. Here the award
    is held until the opt-out (and, ``rebuilt``, a rebuild of the boards) is done."""
    app_cm, name = await small_catalog_app(mongo_url, mongo_client, redis_kind, 6)
    try:
        async with app_cm as api:
            student = "RACE_OUT"
            res = await api.post(
                "/training/samples/c_ch1_q_000000/mark-read", student=student, time_spent=5
            )
            assert res.status_code == 200
            for period in ("week", "month", "all"):  # boards loaded, with the student
                body = (
                    await api.get(
                        "/training/leaderboard", student="RACE_OTHER", language="c", period=period
                    )
                ).json()
                assert len(body["top"]) == 1
            store = api.resources.boards
            real_award = store.award
            reached, release = asyncio.Event(), asyncio.Event()

            async def held_award(*args: Any, **kwargs: Any) -> None:
                reached.set()
                await release.wait()
                await real_award(*args, **kwargs)

            store.award = held_award  # committed in MongoDB, not yet on the boards
            read = asyncio.create_task(
                api.post(
                    "/training/samples/c_ch1_q_000001/mark-read", student=student, time_spent=5
                )
            )
            await asyncio.wait_for(reached.wait(), 30)
            res = await api.client.put(
                "/training/preferences",
                json={"leaderboard_opt_out": True},
                headers=api.headers(student),
            )
            assert res.status_code == 200 and res.json()["leaderboard_opt_out"] is True
            from app.training.leaderboard import boards_for

            boards = boards_for("c", datetime.now(UTC))
            if rebuilt:
                for board in boards:
                    await api.backend.client.delete(api.boards.keys(board)[0])
                for period in ("week", "month", "all"):  # rebuilt without the student
                    await api.get(
                        "/training/leaderboard", student="RACE_OTHER", language="c", period=period
                    )
            release.set()
            assert (await read).status_code == 200
            store.award = real_award
            for board in boards:
                key = api.boards.keys(board)[0]
                assert await api.backend.client.zscore(key, student) is None, board
            for period in ("week", "month", "all"):
                body = (
                    await api.get(
                        "/training/leaderboard", student="RACE_OTHER", language="c", period=period
                    )
                ).json()
                assert body["top"] == [], (period, body["top"])
                own = (
                    await api.get(
                        "/training/leaderboard", student=student, language="c", period=period
                    )
                ).json()["me"]
                assert own["hidden"] is True and own["points"] == 3
            # Opting back in restores every point, and later awards count again.
            res = await api.client.put(
                "/training/preferences",
                json={"leaderboard_opt_out": False},
                headers=api.headers(student),
            )
            assert res.status_code == 200
            await api.post(
                "/training/samples/c_ch1_q_000002/mark-read", student=student, time_spent=5
            )
            for period in ("week", "month", "all"):
                body = (
                    await api.get(
                        "/training/leaderboard", student="RACE_OTHER", language="c", period=period
                    )
                ).json()
                assert [e["points"] for e in body["top"]] == [4], period
    finally:
        await drop_database(mongo_client, name)


# --- answers from what is kept ----------------------------------------------------------


class _Names:
    """The names side of a board's sources: display names chosen, and every read of them
    (what the service reads from MongoDB, counted)."""

    def __init__(self) -> None:
        self.chosen: dict[str, str] = {}
        self.reads: list[list[str]] = []

    async def __call__(self, ids: Any) -> dict[str, str]:
        self.reads.append(list(ids))
        return {s: self.chosen.get(s, f"P-{s}") for s in ids}


async def test_a_loaded_board_answers_from_kept_names_until_one_changes(redis_kind: str) -> None:
    """Once a worker has read a board's names, answers need no MongoDB: not the caller's
    preferences (opted out or not comes from the board's marker), not the names; a
    display-name change on any worker, a deletion or a rebuild makes them read again."""
    from app.training.ports import Board, BoardData, BoardSources
    from cache.leaderboard import Leaderboards, RedisBoards
    from tests.conftest import backend_of, drop_backend

    backend = backend_of(redis_kind)
    try:
        lb = Leaderboards(backend)
        worker, other_worker = RedisBoards(lb), RedisBoards(Leaderboards(backend))
        board = Board("c", "all", "all", 3600)
        data = BoardData({"S1": 5.0, "S2": 4.0, "S4": 3.0}, frozenset({"S3"}))
        await lb.load(board, data, await lb.begin_load(board))
        names, snapshots = _Names(), []

        async def snapshot() -> BoardData:
            snapshots.append(1)
            return data

        async def own_points() -> float:
            return 4.0  # S3's, who is on no board

        sources = BoardSources(snapshot, names, own_points)
        first = await worker.placing(board, "S2", 2, sources)
        assert first.standing.top == [("S1", 5.0), ("S2", 4.0)]
        assert (first.standing.my_rank, first.standing.my_points, first.hidden) == (2, 4.0, False)
        assert dict(first.names) == {"S1": "P-S1", "S2": "P-S2"}
        assert names.reads == [["S1", "S2"]]
        # Another caller in the top, and one outside it: only the latter's name is read.
        again = await worker.placing(board, "S1", 2, sources)
        assert again.standing.my_rank == 1 and names.reads == [["S1", "S2"]]
        outside = await worker.placing(board, "S4", 2, sources)
        assert outside.standing.my_rank == 3 and outside.names["S4"] == "P-S4"
        assert names.reads == [["S1", "S2"], ["S4"]]
        hidden = await worker.placing(board, "S3", 2, sources)
        assert hidden.hidden is True and hidden.standing.my_rank == 2
        assert hidden.standing.my_points == 4.0 and hidden.names["S3"] == "P-S3"
        assert snapshots == []
        # A display name set on another worker shows at once here.
        names.chosen["S1"] = "Ada"
        await other_worker.renamed([board], "S1")
        renamed = await worker.placing(board, "S2", 2, sources)
        assert renamed.names["S1"] == "Ada" and names.reads[-1] == ["S1", "S2"]
        # A deletion moves the names too; so does a rebuild (read from the snapshot).
        reads = len(names.reads)
        await lb.forget("S4", [lb.tag(board)])
        await worker.placing(board, "S2", 2, sources)
        assert len(names.reads) == reads + 1
        await backend.client.delete(lb.keys(board)[0])
        rebuilt = await worker.placing(board, "S2", 2, sources)
        assert snapshots == [1] and rebuilt.standing.top == [("S1", 5.0), ("S2", 4.0)]
        assert len(names.reads) == reads + 2
        await worker.placing(board, "S2", 2, sources)
        assert len(names.reads) == reads + 3  # the new load's stamp: read once more
        await worker.placing(board, "S1", 2, sources)
        assert len(names.reads) == reads + 3 and snapshots == [1]
    finally:
        await drop_backend(backend)


async def test_tied_students_keep_their_order_once_the_board_is_loaded(redis_kind: str) -> None:
    """The answer a rebuild gives (from the snapshot) lists tied students in the order the
    loaded board gives every later answer."""
    from app.training.ports import Board, BoardData, BoardSources
    from cache.leaderboard import Leaderboards, RedisBoards
    from tests.conftest import backend_of, drop_backend

    backend = backend_of(redis_kind)
    try:
        store = RedisBoards(Leaderboards(backend))
        data = BoardData({"T_A": 2.0, "T_B": 3.0, "T_C": 3.0, "T_D": 3.0}, frozenset())

        async def snapshot() -> BoardData:
            return data

        async def own_points() -> float:
            return 0.0

        sources = BoardSources(snapshot, _Names(), own_points)
        board = Board("c", "all", "all", 3600)
        rebuilt = await store.placing(board, "T_A", 2, sources)
        loaded = await store.placing(board, "T_A", 2, sources)
        assert rebuilt.standing == loaded.standing
        assert [s for s, _ in loaded.standing.top] == ["T_D", "T_C"]
        assert loaded.standing.my_rank == 4
    finally:
        await drop_backend(backend)
