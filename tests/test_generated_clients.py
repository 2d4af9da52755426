"""Clients generated from the service's OpenAPI document work with no hand edits.

A Python client (openapi-python-client) is generated without a warning, imported, and
every operation of the document is called through it against a real server on the demo
catalog, each answer parsed into the generated models. TypeScript types (openapi-typescript)
are generated and a small client-side file using them compiles under ``tsc --strict``.
"""

from __future__ import annotations

import datetime
import importlib
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.auth import mint_token
from tests.conftest import SECRET, make_settings
from tests.live import live_server

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the virtualenv's tools: the generator and its ruff
TYPESCRIPT = ROOT / "clients" / "typescript"
CLIENT_ID = "gen"
SAMPLE_ID = "c_ch1_q_000025"


@pytest.fixture(scope="module")
def server(mongo_url: str, catalog_db: str) -> Iterator[str]:
    """The service on the seeded catalog, served over real HTTP."""
    with live_server(make_settings(mongo_url, catalog_db, "fakeredis")) as url:
        yield url


@pytest.fixture(scope="module")
def document(server: str) -> dict[str, Any]:
    """The OpenAPI document the server publishes."""
    import httpx

    answer = httpx.get(server + "/openapi.json", timeout=30)
    assert answer.status_code == 200
    result: dict[str, Any] = answer.json()
    return result


def _operation_ids(document: dict[str, Any]) -> set[str]:
    return {op["operationId"] for item in document["paths"].values() for op in item.values()}


@pytest.fixture(scope="module")
def generated(document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The generated Python client package, imported (its import name is unique to the run)."""
    work = tmp_path_factory.mktemp("python-client")
    spec = work / "openapi.json"
    spec.write_text(json.dumps(document), encoding="utf-8")
    package = f"lumetrix_client_{uuid.uuid4().hex[:8]}"
    run = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--output-path",
            str(work / package),
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        # Its post-generation hook runs ruff, which lives next to the generator.
        env={"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(work)},
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "warning" not in output.lower(), output
    assert "error" not in output.lower(), output
    sys.path.insert(0, str(work))
    try:
        yield importlib.import_module(package)
    finally:
        sys.path.remove(str(work))


def test_python_client_calls_every_operation(
    generated: Any, document: dict[str, Any], server: str
) -> None:
    student = f"SIDHI_GEN{uuid.uuid4().hex[:10]}"
    token = mint_token(SECRET, sub=student, client_id=CLIENT_ID)
    client = generated.AuthenticatedClient(base_url=server, token=token, timeout=30)
    plain = generated.Client(base_url=server, timeout=30)
    models = importlib.import_module(f"{generated.__name__}.models")
    called: set[str] = set()

    def call(group: str, operation: str, expected: type | None = None, **kwargs: Any) -> Any:
        """Call ``operation`` through the generated client; its answer must be a 200 parsed
        into the model named after it (or ``expected``)."""
        module = importlib.import_module(f"{generated.__name__}.api.{group}.{operation}")
        answer = module.sync_detailed(client=client if group == "training" else plain, **kwargs)
        assert answer.status_code == 200, (operation, answer.content[:500])
        assert answer.parsed is not None, operation
        if expected is not None:
            assert isinstance(answer.parsed, expected), (operation, type(answer.parsed))
        called.add(operation)
        return answer.parsed

    auth: dict[str, Any] = {"x_client_id": CLIENT_ID}
    page = call(
        "training",
        "get_samples",
        models.SamplePage,
        language=models.GetSamplesLanguage.C,
        limit=3,
        **auth,
    )
    assert len(page.data) == 3 and page.data[0].type_ in set(models.ReadSampleType)
    first = call(
        "training",
        "mark_read",
        models.MarkReadOut,
        sample_id=SAMPLE_ID,
        time_spent=45,  # the query parameter alone: no body is sent
        **auth,
    )
    assert first.is_first_read and first.points_awarded >= 1
    again = call(
        "training",
        "mark_read",
        models.MarkReadOut,
        sample_id=SAMPLE_ID,
        body=models.TimeSpentIn(time_spent=30),
        **auth,
    )
    assert not again.is_first_read
    one = call("training", "get_sample", models.SampleOut, sample_id=SAMPLE_ID, **auth)
    assert one.data.is_read and isinstance(one.data.read_at, datetime.datetime)
    assert one.data.time_spent == 75
    call(
        "training",
        "get_chapters",
        models.ChaptersOut,
        language=models.GetChaptersLanguage.C,
        **auth,
    )
    call("training", "get_filters", models.FiltersOut, **auth)
    call(
        "training", "get_filters", models.FiltersOut, language=models.GetFiltersLanguage.CPP, **auth
    )
    stats = call(
        "training", "get_stats", models.StatsOut, language=models.GetStatsLanguage.PYTHON, **auth
    )
    assert isinstance(stats.as_of, datetime.datetime)
    call("training", "get_random", models.RandomOut, language=models.GetRandomLanguage.CPP, **auth)
    call(
        "training",
        "search",
        models.SearchPage,
        language=models.SearchLanguage.C,
        q="pointer",
        **auth,
    )
    call(
        "training",
        "get_knowledge_areas",
        models.KnowledgeAreasOut,
        language=models.GetKnowledgeAreasLanguage.C,
        **auth,
    )
    zones = call("training", "get_timezones", models.TimezonesOut, **auth)
    assert "Europe/Berlin" in zones.timezones
    prefs = call(
        "training",
        "put_preferences",
        models.PreferencesOut,
        body=models.PreferencesIn(tz="Asia/Kolkata"),
        **auth,
    )
    assert prefs.tz == "Asia/Kolkata"
    progress = call(
        "training",
        "get_my_progress",
        models.ProgressOut,
        language=models.GetMyProgressLanguage.C,
        tz="Europe/Berlin",
        **auth,
    )
    assert progress.streak.tz == "Europe/Berlin" and progress.streak.current == 1
    assert isinstance(progress.streak.last_active_date, datetime.date)
    assert isinstance(progress.recent_activity[0].read_at, datetime.datetime)
    board = call(
        "training",
        "get_leaderboard",
        models.LeaderboardOut,
        language=models.GetLeaderboardLanguage.C,
        period=models.GetLeaderboardPeriod.WEEK,
        **auth,
    )
    assert board.me.student == student and board.period == models.LeaderboardOutPeriod.WEEK
    # Others appear by name only; the caller's own name is their pseudonym (none was set).
    assert board.me.name.startswith("Learner-") and all(e.name for e in board.top)
    call("training", "get_next", models.NextOut, language=models.GetNextLanguage.C, **auth)
    call("ops", "health", models.HealthOut)
    call("ops", "ready", models.ReadyOut)
    assert "lumetrix" in call("ops", "metrics", str)
    # A route added without a call here fails the test.
    assert called == _operation_ids(document)


def test_python_client_errors_parse_into_the_error_model(generated: Any, server: str) -> None:
    token = mint_token(SECRET, sub=f"SIDHI_GEN{uuid.uuid4().hex[:10]}", client_id=CLIENT_ID)
    client = generated.AuthenticatedClient(base_url=server, token=token, timeout=30)
    models = importlib.import_module(f"{generated.__name__}.models")
    samples: Callable[..., Any] = importlib.import_module(
        f"{generated.__name__}.api.training.get_samples"
    ).sync_detailed
    refused = samples(client=client, language=models.GetSamplesLanguage.C, x_client_id="other")
    assert refused.status_code == 401 and isinstance(refused.parsed, models.ErrorBody)
    assert refused.parsed.code == models.ErrorBodyCode.NOT_AUTHENTICATED
    sample = importlib.import_module(f"{generated.__name__}.api.training.get_sample")
    unknown = sample.sync_detailed("c_ch1_q_999999", client=client, x_client_id=CLIENT_ID)
    assert unknown.status_code == 404 and isinstance(unknown.parsed, models.ErrorBody)
    assert unknown.parsed.code == models.ErrorBodyCode.NOT_FOUND


CHECK_TS = TYPESCRIPT / "check.ts"


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        # `make test` installs nodejs and npm (tools/run_tests.sh); a skip would hide the check.
        pytest.fail(
            "the TypeScript client check needs Node.js and npm: apt-get install nodejs npm "
            "(or run `make test`)",
            pytrace=False,
        )
    return npm


def test_typescript_types_compile_strictly(tmp_path: Path) -> None:
    npm = _npm()
    if not (TYPESCRIPT / "node_modules").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=TYPESCRIPT, check=True, timeout=600
        )
    from app.main import create_app

    spec = tmp_path / "openapi.json"
    app = create_app(make_settings("mongodb://127.0.0.1:1", "unused", "fakeredis"))
    spec.write_text(json.dumps(app.openapi()), encoding="utf-8")
    # check.ts imports "./schema": generate the types next to a copy of it.
    shutil.copy(CHECK_TS, tmp_path / "check.ts")
    npx = [str(Path(npm).with_name("npx")), "--no", "--"]  # the pinned local tools only
    generate = subprocess.run(
        [*npx, "openapi-typescript", str(spec), "--output", str(tmp_path / "schema.d.ts")],
        cwd=TYPESCRIPT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generate.returncode == 0, generate.stdout + generate.stderr
    assert "warn" not in (generate.stdout + generate.stderr).lower(), generate.stderr
    compile_ = subprocess.run(
        [
            *npx,
            "tsc",
            "--noEmit",
            "--strict",
            "--target",
            "es2020",
            "--moduleResolution",
            "node",
            str(tmp_path / "check.ts"),
            str(tmp_path / "schema.d.ts"),
        ],
        cwd=TYPESCRIPT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert compile_.returncode == 0, compile_.stdout + compile_.stderr
