"""Hypothesis-driven fuzzing of every route in the table (the routes the OpenAPI document lists):
whatever the path, query, headers and body, the server never answers 500 and always answers a JSON
contract error with a stable code. Examples scale with CARECLI_STRESS_SCALE."""

from __future__ import annotations

import json
import shutil
from typing import get_args
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecli.backend.contract import ERRORS
from carecli.backend.http.routes import ROUTES, Route
from carecli.demo import SCENARIOS
from carecli.engine.commands import Amendment

from ..conftest import stress_scale
from .serving import serve_store

EXAMPLES = max(15, int(60 * stress_scale()))
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60).map(str.strip)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)
KINDS = sorted(cls.model_fields["kind"].default for cls in get_args(get_args(Amendment)[0]))


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    from datetime import timedelta

    from carecli.backend.sqlite.load import build_demo
    from carecli.demo import DEMO_NOW

    d = tmp_path_factory.mktemp("fuzz")
    build_demo(d / "template.db", orders=40, seed=7, parallel=False)
    shutil.copy(d / "template.db", d / "store.db")
    now = DEMO_NOW + timedelta(minutes=5)
    served = serve_store(d / "store.db", clock=lambda: now)
    yield served
    served.stop()


def amendment() -> st.SearchStrategy:
    return st.fixed_dictionaries({"kind": st.sampled_from(KINDS)},
                                 optional={"line_id": st.integers(-5, 10) | JSON,
                                           "quantity": st.integers(-5, 200) | JSON,
                                           "sku": st.text(max_size=20), "amount": JSON, "reason": JSON})


def commit_body() -> st.SearchStrategy:
    good = st.fixed_dictionaries({
        "order_ref": st.sampled_from([SCENARIOS["backordered"], SCENARIOS["chicago_jacket"], "ON-1", ""])
        | st.text(max_size=70),
        "expected_version": st.integers(-3, 5) | JSON,
        "amendments": st.lists(amendment(), max_size=3) | JSON,
        "reason_code": st.sampled_from(["CUSTOMER_REQUEST", "WRONG_SIZE", "", "NOPE"]) | JSON,
        "note": st.text(max_size=50),
        "idempotency_key": st.text(min_size=0, max_size=30),
        "actor": st.text(max_size=10),
    })
    return good | JSON


def request_for(route: Route) -> st.SearchStrategy:
    path_params = st.fixed_dictionaries({p: st.sampled_from([SCENARIOS["backordered"], "A-000001"])
                                         | st.text(min_size=1, max_size=260) for p in route.path_params})
    query = st.fixed_dictionaries({}, optional={
        **{q.name: (st.integers(-10**6, 10**6).map(str) if q.kind is int else st.text(max_size=60))
           | st.text(max_size=1100) for q in route.query},
        "unknown": st.text(max_size=5)})
    headers = st.fixed_dictionaries({}, optional={"If-Match": HEADER_TEXT, "Idempotency-Key": HEADER_TEXT,
                                                  "Content-Type": HEADER_TEXT})
    body = commit_body() if route.body is not None else st.none()
    return st.tuples(path_params, query, headers, body, st.sampled_from(["agent", "supervisor", "none"]))


@pytest.mark.slow
@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_no_input_makes_the_server_fail(fuzz_server, route):
    client = httpx.Client(base_url=fuzz_server.url, timeout=30)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(request_for(route))
    def check(req) -> None:
        path_params, query, headers, body, who = req
        path = route.path
        for name, value in path_params.items():
            path = path.replace("{" + name + "}", quote(value, safe=""))
        h = dict(headers)
        if who != "none":
            h["Authorization"] = f"Bearer {fuzz_server.tokens[who]}"
        content = None
        if body is not None:
            content = json.dumps(body)
            if isinstance(body, dict) and "If-Match" not in h and isinstance(body.get("expected_version"), int):
                h["If-Match"] = f'"{body["expected_version"]}"'
            if isinstance(body, dict) and "Idempotency-Key" not in h and isinstance(body.get("idempotency_key"), str) \
                    and body["idempotency_key"].isprintable() and body["idempotency_key"].isascii():
                h["Idempotency-Key"] = body["idempotency_key"]
        r = client.request(route.method, path, params=query, headers=h, content=content)
        assert r.status_code < 500, (r.status_code, r.text[:300])
        if r.status_code >= 400:
            data = r.json()
            assert data["code"] in ERRORS and data["message"], data

    check()
    client.close()
