"""Client-bound JWT auth: every failure is a 401 with a clear detail."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from app.settings import Settings
from tests.conftest import SECRET, Api


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
    }[case]
    status, body, headers = await _call(api, token)
    assert status == 401
    assert detail in str(body["detail"])
    assert headers.get("www-authenticate") == "Bearer"


async def test_client_id_must_match(api: Api) -> None:
    token = _token(_claims())
    status, body, _ = await _call(api, token, client_id=None)
    assert status == 401 and "X-Client-Id" in str(body["detail"])
    status, body, _ = await _call(api, token, client_id="mobile")
    assert status == 401 and "does not match" in str(body["detail"])


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
