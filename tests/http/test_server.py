"""The server's HTTP rules, with raw httpx requests against a real server: auth, roles, headers, limits."""

from __future__ import annotations

import logging
import threading
import uuid

import httpx
import pytest

from carecli.backend.contract import CommitRequest, Unauthorized
from carecli.backend.http import HttpBackend
from carecli.backend.http.routes import MAX_PAGE, ROUTES, STATUS
from carecli.demo import SCENARIOS
from carecli.engine.commands import RemoveLine, ReplaceProduct
from carecli.server.app import Limits, create_app
from carecli.server.runner import ThreadedServer

from .serving import add_users

BOOKED_SMS = SCENARIOS["backordered"]
JACKET = SCENARIOS["chicago_jacket"]

SAMPLE_PATH = {"ref": BOOKED_SMS, "account_id": "A-000001"}


def url_of(route, served) -> str:
    path = route.path
    for p in route.path_params:
        path = path.replace("{" + p + "}", SAMPLE_PATH.get(p, "x"))
    return served.url + path


def body_for(ref: str, version: int, key: str | None = None, **kw) -> CommitRequest:
    return CommitRequest(order_ref=ref, expected_version=version, amendments=(RemoveLine(line_id=2),),
                         reason_code="CUSTOMER_REQUEST", note=kw.pop("note", "server test"),
                         idempotency_key=key or "srv-" + uuid.uuid4().hex, actor="agent.test")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def send(route, served, headers: dict[str, str]) -> httpx.Response:
    content = None
    if route.body is not None:
        body = body_for(BOOKED_SMS, 1)
        content = body.model_dump_json()
        headers = {**headers, "If-Match": '"1"', "Idempotency-Key": body.idempotency_key}
    return httpx.request(route.method, url_of(route, served), headers=headers, content=content)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer cc_not-a-real-token"},
                                     {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}],
                         ids=["missing", "unknown", "basic", "empty"])
def test_every_route_but_health_needs_a_valid_token(served, headers, caplog):
    caplog.set_level(logging.WARNING, logger="carecli.server")
    for route in ROUTES:
        r = send(route, served, headers)
        if not route.auth:
            assert r.status_code == 200, route.name
            continue
        assert r.status_code == 401, route.name
        assert r.json()["code"] == "unauthorized" and r.json()["message"]
    assert sum("unauthorized" in m for m in caplog.messages) == sum(r.auth for r in ROUTES)


def test_revoked_token_is_refused_at_once(served):
    from carecli.backend.sqlite import SqliteStore

    h = bearer(served.tokens["agent"])
    assert httpx.get(served.url + "/whoami", headers=h).json()["name"] == "ana.agent"
    with SqliteStore.open(served.path) as s:
        s.revoke_user("ana.agent")
    r = httpx.get(served.url + "/whoami", headers=h)
    assert r.status_code == 401 and r.json()["title"] == "Token refused"


def test_supervisor_token_is_403_on_every_write_route(served, caplog):
    caplog.set_level(logging.WARNING, logger="carecli.server")
    writes = [r for r in ROUTES if r.writes]
    assert writes
    version = httpx.get(served.url + f"/orders/{BOOKED_SMS}", headers=bearer(served.tokens["agent"])).json()
    for route in writes:
        r = send(route, served, bearer(served.tokens["supervisor"]))
        assert r.status_code == 403 and r.json()["code"] == "forbidden", route.name
    for route in ROUTES:  # and every read works for them
        if not route.writes:
            assert send(route, served, bearer(served.tokens["supervisor"])).status_code in (200, 404)
    after = httpx.get(served.url + f"/orders/{BOOKED_SMS}", headers=bearer(served.tokens["agent"])).json()
    assert after == version
    refusals = [m for m in caplog.messages if "forbidden" in m]
    assert len(refusals) == len(writes) and all("sam.super" in m for m in refusals)
    for token in served.tokens.values():  # refusals never carry a token
        assert not any(token in m for m in caplog.messages)


def test_whoami(served):
    r = httpx.get(served.url + "/whoami", headers=bearer(served.tokens["supervisor"]))
    assert r.json() == {"name": "sam.super", "role": "supervisor", "read_only": True}


def test_get_order_has_its_version_as_etag(served):
    r = httpx.get(served.url + f"/orders/{BOOKED_SMS}", headers=bearer(served.tokens["agent"]))
    assert r.headers["etag"] == f'"{r.json()["order"]["version"]}"'


def _commit(served, body: CommitRequest, *, if_match: str | None = "auto", key: str | None = "auto",
            token: str | None = None) -> httpx.Response:
    h = bearer(token or served.tokens["agent"]) | {"Content-Type": "application/json"}
    if if_match == "auto":
        if_match = f'"{body.expected_version}"'
    if if_match is not None:
        h["If-Match"] = if_match
    if key == "auto":
        key = body.idempotency_key
    if key is not None:
        h["Idempotency-Key"] = key
    return httpx.post(served.url + f"/orders/{body.order_ref}/commits", headers=h,
                      content=body.model_dump_json())


def _version(served, ref: str) -> int:
    return httpx.get(served.url + f"/orders/{ref}", headers=bearer(served.tokens["agent"])).json()["order"]["version"]


def test_commit_needs_if_match_and_an_idempotency_key(served):
    v = _version(served, BOOKED_SMS)
    r = _commit(served, body_for(BOOKED_SMS, v), if_match=None)
    assert r.status_code == 428 and r.json()["code"] == "precondition_required" and "If-Match" in r.json()["message"]
    r = _commit(served, body_for(BOOKED_SMS, v), key=None)
    assert r.status_code == 428 and "Idempotency-Key" in r.json()["message"]
    r = _commit(served, body_for(BOOKED_SMS, v), if_match='"999"')
    assert r.status_code == 400 and "disagree" in r.json()["message"]
    r = _commit(served, body_for(BOOKED_SMS, v), key="another-key-123")
    assert r.status_code == 400 and "disagree" in r.json()["message"]
    assert _version(served, BOOKED_SMS) == v  # none of them changed anything


def test_stale_if_match_is_412_with_the_current_version(served):
    v = _version(served, BOOKED_SMS)
    assert _commit(served, body_for(BOOKED_SMS, v)).status_code == 200
    r = _commit(served, body_for(BOOKED_SMS, v))
    assert r.status_code == 412
    assert r.json()["code"] == "version_conflict" and r.json()["current_version"] == v + 1


def test_same_key_same_body_replays_other_body_is_422(served):
    v = _version(served, BOOKED_SMS)
    body = body_for(BOOKED_SMS, v)
    first = _commit(served, body)
    again = _commit(served, body)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("idempotent-replayed") == "true" and "idempotent-replayed" not in first.headers
    assert again.json() == first.json() | {"replayed": True}
    other = _commit(served, body_for(BOOKED_SMS, v, key=body.idempotency_key, note="other"))
    assert other.status_code == 422 and other.json()["code"] == "idempotency_mismatch"
    assert _version(served, BOOKED_SMS) == v + 1


class SlowGateway:
    """The demo gateway, held at the charge until the test lets it go (to catch a commit mid-way)."""

    def __init__(self) -> None:
        from carecli.backend.gateway import DemoGateway

        self.inner, self.entered, self.release = DemoGateway(), threading.Event(), threading.Event()

    def charge(self, pm, amount, key):
        self.entered.set()
        assert self.release.wait(30)
        return self.inner.charge(pm, amount, key)


def test_retry_while_the_first_is_running_is_409(store_copy, clock):
    gw = SlowGateway()
    tokens = add_users(store_copy, clock)
    with ThreadedServer(create_app(store_copy, clock=clock, gateway=gw)) as srv:
        class S:
            url = srv.url
        S.tokens = tokens
        v = _version(S, JACKET)
        body = CommitRequest(order_ref=JACKET, expected_version=v,
                             amendments=(ReplaceProduct(line_id=1, sku="JKT-ALP-L-NVY"),),
                             reason_code="WRONG_SIZE", idempotency_key="slow-" + uuid.uuid4().hex, actor="a")
        out: list[httpx.Response] = []
        t = threading.Thread(target=lambda: out.append(_commit(S, body)))
        t.start()
        assert gw.entered.wait(30)
        retry = _commit(S, body)
        assert retry.status_code == 409 and retry.json()["code"] == "in_progress"
        gw.release.set()
        t.join(30)
        assert out[0].status_code == 200
        assert _commit(S, body).headers.get("idempotent-replayed") == "true"
        assert len(gw.inner.captures) == 1


def test_body_size_limit_is_413(served):
    v = _version(served, BOOKED_SMS)
    body = body_for(BOOKED_SMS, v)
    h = bearer(served.tokens["agent"]) | {"If-Match": f'"{v}"', "Idempotency-Key": body.idempotency_key}
    big = body.model_dump_json()[:-1] + ', "pad": "' + "x" * 300_000 + '"}'
    r = httpx.post(served.url + f"/orders/{BOOKED_SMS}/commits", headers=h, content=big)
    assert r.status_code == 413 and r.json()["code"] == "too_large"

    def chunks():  # no Content-Length: the limit holds on the bytes read
        for _ in range(40):
            yield b"x" * 10_000

    r = httpx.post(served.url + f"/orders/{BOOKED_SMS}/commits", headers=h, content=chunks())
    assert r.status_code == 413
    assert _version(served, BOOKED_SMS) == v


def test_malformed_bodies_and_params_are_400_naming_the_problem(served):
    v = _version(served, BOOKED_SMS)
    h = bearer(served.tokens["agent"]) | {"If-Match": f'"{v}"', "Idempotency-Key": "k-12345678"}
    url = served.url + f"/orders/{BOOKED_SMS}/commits"
    r = httpx.post(url, headers=h, content=b"{not json")
    assert r.status_code == 400 and "JSON" in r.json()["message"]
    r = httpx.post(url, headers=h, content=b'{"order_ref": "ON-100003"}')
    assert r.status_code == 400 and "expected_version" in r.json()["message"]
    r = httpx.get(served.url + "/orders?limit=abc", headers=bearer(served.tokens["agent"]))
    assert r.status_code == 400 and "limit" in r.json()["message"]
    r = httpx.get(served.url + "/orders?colour=red", headers=bearer(served.tokens["agent"]))
    assert r.status_code == 400 and "colour" in r.json()["message"]
    r = httpx.get(served.url + "/nowhere", headers=bearer(served.tokens["agent"]))
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = httpx.delete(served.url + "/orders", headers=bearer(served.tokens["agent"]))
    assert r.status_code == 405 and r.json()["code"] == "bad_request"


def test_page_size_is_capped(served):
    r = httpx.get(served.url + "/orders?limit=100000", headers=bearer(served.tokens["agent"]))
    assert r.status_code == 200 and r.json()["limit"] == MAX_PAGE


def test_rate_limit_per_token_is_429_with_retry_after(store_copy, clock):
    tokens = add_users(store_copy, clock)
    with ThreadedServer(create_app(store_copy, clock=clock, limits=Limits(rate_per_s=0.5, burst=3))) as srv:
        codes = [httpx.get(srv.url + "/whoami", headers=bearer(tokens["agent"])).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        r = httpx.get(srv.url + "/whoami", headers=bearer(tokens["agent"]))
        assert r.json()["code"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
        # another user's bucket is their own
        assert httpx.get(srv.url + "/whoami", headers=bearer(tokens["supervisor"])).status_code == 200


def test_every_error_code_has_a_status():
    from carecli.backend.contract import ERRORS

    assert set(ERRORS) <= set(STATUS)


def test_openapi_is_served_and_docs_copy_is_up_to_date(served):
    from pathlib import Path

    from carecli.server.openapi import document, render

    served_doc = httpx.get(served.url + "/openapi.json").json()
    assert served_doc == document()
    assert {op["operationId"] for ops in served_doc["paths"].values() for op in ops.values()} == \
        {r.name for r in ROUTES}
    docs = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
    assert docs.read_text("utf-8") == render(), \
        "docs/openapi.json is out of date: python -m carecli.server.openapi docs/openapi.json"


def test_no_token_in_any_log_record(served, caplog):
    caplog.set_level(logging.DEBUG)
    c = served.client()
    c.get_order("ON-100001")
    c.search_orders("dana")
    with pytest.raises(Unauthorized):
        HttpBackend(served.url, "cc_bad-token-value", retries=0).whoami()
    assert caplog.records  # httpx and httpcore did log at DEBUG
    text = "\n".join(r.getMessage() for r in caplog.records)
    for token in [*served.tokens.values(), "cc_bad-token-value"]:
        assert token not in text
