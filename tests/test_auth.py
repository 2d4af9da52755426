"""Client-bound JWT auth: every failure is a 401 with a clear detail."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from app.auth import mint_token
from app.settings import Settings
from tests.conftest import SECRET, Api, make_settings, running_app


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _token(claims: dict[str, object], key: str = SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


def _claims(**over: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {"sub": "SIDHI_AUTH0001", "cid": "web", "exp": now + 60}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


async def _call(
    api: Api,
    token: str | None,
    client_id: str | None = "web",
    path: str = "/training/samples?language=c",
) -> tuple[int, dict[str, object], dict[str, str]]:
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if client_id is not None:
        headers["X-Client-Id"] = client_id
    res = await api.client.get(path, headers=headers)
    return res.status_code, res.json(), dict(res.headers)


async def test_valid_token_is_accepted(api: Api) -> None:
    status, body, _ = await _call(api, _token(_claims()))
    assert status == 200, body


@pytest.mark.parametrize(
    ("case", "detail"),
    [
        ("no header", "missing Authorization"),
        ("malformed", "malformed token"),
        ("alg none", "algorithm must be HS256"),
        ("other key", "signature is invalid"),
        ("asymmetric alg", "algorithm must be HS256"),
        ("expired", "expired"),
        ("nbf future", "not yet valid"),
        ("missing sub", "'sub'"),
        ("missing cid", "'cid'"),
        ("missing exp", "'exp'"),
        ("bad sub", "not a valid student id"),
        ("sub with a newline", "not a valid student id"),
        ("boards' sentinel as sub", "reserved"),
        ("reserved sub", "reserved"),
        ("string exp", "'exp' must be a number"),
        ("bool exp", "exp"),
        ("string nbf", "'nbf' must be a number"),
        ("string iat", "'iat' must be a number"),
        ("bool iat", "'iat' must be a number"),
        ("exp in 9999", "lifetime exceeds the maximum of 86400 s"),
        ("exp - iat over a day", "lifetime exceeds the maximum of 86400 s"),
        ("long cid", "'cid' is not a valid client id"),
        ("cid with a space", "'cid' is not a valid client id"),
        ("empty cid", "'cid' is not a valid client id"),
    ],
)
async def test_bad_tokens_are_refused(api: Api, case: str, detail: str) -> None:
    now = int(time.time())
    token: str | None = {
        "no header": None,
        "malformed": "not.a.jwt",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.",
        "other key": _token(_claims(), key="another-secret-another-secret-123456"),
        "asymmetric alg": f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(_claims())}.c2ln",
        "expired": _token(_claims(exp=now - 10)),
        "nbf future": _token(_claims(nbf=now + 600)),
        "missing sub": _token(_claims(sub=None)),
        "missing cid": _token(_claims(cid=None)),
        "missing exp": _token(_claims(exp=None)),
        "bad sub": _token(_claims(sub="a}b{c")),
        "sub with a newline": _token(_claims(sub="SIDHI_AUTH0001\n")),
        "boards' sentinel as sub": _token(_claims(sub="__loaded__")),
        "reserved sub": _token(_claims(sub="__x")),
        "string exp": _token(_claims(exp=str(now + 60))),
        "bool exp": _token(_claims(exp=True)),
        "string nbf": _token(_claims(nbf=str(now - 10))),
        "string iat": _token(_claims(iat=str(now))),
        "bool iat": _token(_claims(iat=True)),
        "exp in 9999": _token(_claims(exp=253402300799)),
        "exp - iat over a day": _token(_claims(iat=now - 86400, exp=now + 60)),
        "long cid": _token(_claims(cid="w" * 65)),
        "cid with a space": _token(_claims(cid="w b")),
        "empty cid": _token(_claims(cid="")),
    }[case]
    client_id = {"long cid": "w" * 65, "cid with a space": "w b"}.get(case, "web")
    status, body, headers = await _call(api, token, client_id=client_id)
    assert status == 401
    assert detail in str(body["detail"])
    assert headers.get("www-authenticate") == "Bearer"


async def test_client_id_must_match(api: Api) -> None:
    token = _token(_claims())
    status, body, _ = await _call(api, token, client_id=None)
    assert status == 401 and "X-Client-Id" in str(body["detail"])
    status, body, _ = await _call(api, token, client_id="mobile")
    assert status == 401 and "does not match" in str(body["detail"])


# (Authorization, X-Client-Id) values, each header sent once per value, in order.
DUPLICATES = {
    "client ids [mob, web]": (["t"], ["mob", "web"]),
    "client ids [web, mob]": (["t"], ["web", "mob"]),
    "client id twice, equal": (["t"], ["web", "web"]),
    "tokens [good, bad]": (["t", "x"], ["web"]),
    "tokens [bad, good]": (["x", "t"], ["web"]),
    "token twice, equal": (["t", "t"], ["web"]),
}


@pytest.mark.parametrize("lean", [True, False], ids=["lean-path", "no-lean-path"])
@pytest.mark.parametrize("case", list(DUPLICATES))
async def test_repeated_auth_headers_are_refused_on_every_path(
    mongo_url: str, catalog_db: str, lean: bool, case: str
) -> None:
    """One rule for both code paths: a repeated Authorization or X-Client-Id is a 401,
    whichever copy would have checked out (the lean path took the last, FastAPI the first)."""
    tokens, client_ids = DUPLICATES[case]
    good = _token(_claims())
    headers = [
        *(("Authorization", f"Bearer {good if t == 't' else good + 'x'}") for t in tokens),
        *(("X-Client-Id", c) for c in client_ids),
    ]
    settings = make_settings(mongo_url, catalog_db, "fakeredis", lean_path=lean)
    async with running_app(settings) as api:
        for path in (
            "/training/samples?language=c",  # served by the lean path when it is on
            "/training/samples/c_ch1_q_000001",  # never by the lean path
            "/training/filters",
        ):
            res = await api.client.get(path, headers=headers)
            assert res.status_code == 401, (path, res.text)
            assert res.json()["code"] == "not_authenticated"
            assert "once" in res.json()["detail"]
            assert res.headers["www-authenticate"] == "Bearer"
        post = await api.client.post(
            "/training/samples/c_ch1_q_000001/mark-read?time_spent=5", headers=headers
        )
        assert post.status_code == 401, post.text
        # Sent once each, the same values are accepted.
        once = {"Authorization": f"Bearer {good}", "X-Client-Id": "web"}
        res = await api.client.get("/training/samples?language=c", headers=once)
        assert res.status_code == 200


async def test_token_in_query_string_is_refused(api: Api) -> None:
    token = _token(_claims())
    status, body, _ = await _call(api, None, path=f"/training/samples?language=c&token={token}")
    assert status == 401 and "query string" in str(body["detail"])


async def test_every_training_route_needs_auth(api: Api) -> None:
    for path in [
        "/training/samples?language=c",
        "/training/samples/c_ch1_q_000001",
        "/training/chapters?language=c",
        "/training/filters",
        "/training/stats?language=c",
        "/training/random?language=c",
        "/training/search?language=c&q=int",
        "/training/knowledge-areas?language=c",
        "/training/my-progress?language=c",
    ]:
        res = await api.client.get(path)
        assert res.status_code == 401, path
    res = await api.client.post("/training/samples/c_ch1_q_000001/mark-read?time_spent=5")
    assert res.status_code == 401


async def test_health_is_public(api: Api) -> None:
    res = await api.client.get("/health")
    assert res.status_code == 200 and res.json() == {"status": "ok"}


def test_production_refuses_weak_secret() -> None:
    with pytest.raises(ValueError, match="JWT_SECRET"):
        Settings(lumetrix_env="production")
    with pytest.raises(ValueError, match="JWT_SECRET"):
        Settings(lumetrix_env="production", jwt_secret="short")
    assert Settings(lumetrix_env="production", jwt_secret="x" * 32).jwt_secret == "x" * 32


async def test_a_remembered_token_still_expires(api: Api) -> None:
    token = _token(_claims(exp=int(time.time()) + 2))
    status, _, _ = await _call(api, token)
    assert status == 200
    # The verifier remembers this token; its expiry must still be enforced on reuse.
    api.resources.tokens.verified[token]["exp"] = int(time.time()) - 1
    status, body, _ = await _call(api, token)
    assert status == 401 and body["detail"] == "token expired"


async def test_a_remembered_token_is_rechecked_whatever_its_claims_hold(api: Api) -> None:
    token = _token(_claims(exp=int(time.time()) + 60))
    assert (await _call(api, token))[0] == 200
    # Had a string exp ever reached the memo, the clock check must not skip it.
    api.resources.tokens.verified[token]["exp"] = str(int(time.time()) + 3)
    status, body, _ = await _call(api, token)
    assert (
        status == 401 and body["detail"] == "token 'exp' must be a number (seconds since the epoch)"
    )


async def test_a_day_long_token_is_the_longest_accepted(api: Api) -> None:
    token = mint_token(SECRET, sub="SIDHI_AUTH0001", client_id="web", ttl=24 * 3600)
    assert (await _call(api, token))[0] == 200
    now = int(time.time())
    assert (await _call(api, _token(_claims(iat=now, exp=now + 24 * 3600))))[0] == 200


async def test_max_token_lifetime_is_a_setting(mongo_url: str, catalog_db: str) -> None:
    settings = make_settings(mongo_url, catalog_db, "fakeredis", max_token_lifetime=600)
    async with running_app(settings) as api:
        short = mint_token(SECRET, sub="SIDHI_AUTH0001", client_id="web", ttl=600)
        assert (await _call(api, short))[0] == 200
        hour = mint_token(SECRET, sub="SIDHI_AUTH0001", client_id="web", ttl=3600)
        status, body, _ = await _call(api, hour)
        assert status == 401 and body["detail"] == "token lifetime exceeds the maximum of 600 s"


def test_max_token_lifetime_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().max_token_lifetime == 24 * 3600
    monkeypatch.setenv("MAX_TOKEN_LIFETIME", "3600")
    assert Settings().max_token_lifetime == 3600


def test_internal_members_are_reserved_ids() -> None:
    """Every sentinel a Redis structure keeps beside student ids is an id no token can
    carry (the boards' ``__loaded__`` would otherwise be a student's entry)."""
    from app.auth import is_reserved_id
    from cache import leaderboard, progress, progress_view

    for sentinel in (leaderboard.SENTINEL, progress.SENTINEL, progress_view.SENTINEL):
        assert is_reserved_id(sentinel)
    assert not is_reserved_id("SIDHI_A6281C8BA865") and not is_reserved_id("_x")


async def test_the_boards_sentinel_cannot_sign_in_anywhere(api: Api) -> None:
    token = _token(_claims(sub="__loaded__"))
    for method, path in (
        ("POST", "/training/samples/c_ch1_q_000000/mark-read?time_spent=5"),
        ("GET", "/training/leaderboard?language=c&period=all"),
        ("GET", "/training/my-progress?language=c"),
    ):
        res = await api.client.request(
            method, path, headers={"Authorization": f"Bearer {token}", "X-Client-Id": "web"}
        )
        assert res.status_code == 401, (path, res.text)
        assert "reserved" in res.json()["detail"]
