"""The OpenAPI 3.1 document of the HTTP contract, built from the route table and the pydantic models.

Served at ``/openapi.json`` and written to ``docs/openapi.json``:

    python -m carecli.server.openapi docs/openapi.json

(a test checks that the file in docs/ is up to date).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from ..backend.http.routes import MAX_BODY_BYTES, MAX_PAGE, REQUIRED, ROUTES, STATUS, Route

REF = "#/components/schemas/{model}"

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "title", "message"],
    "properties": {
        "code": {"type": "string", "enum": sorted(STATUS)},
        "title": {"type": "string"},
        "message": {"type": "string"},
        "current_version": {"type": "integer", "description": "version_conflict: the order's version now"},
        "violations": {"type": "array", "items": {"type": "object"},
                       "description": "rule_violations: each rule broken and why"},
        "retry_after": {"type": "number", "description": "rate_limited: seconds to wait"},
    },
    "additionalProperties": True,
}


def _schema(tp: Any, defs: dict[str, Any], mode: str) -> dict[str, Any]:
    s = TypeAdapter(tp).json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
    for name, d in s.pop("$defs", {}).items():
        defs.setdefault(name, d)
    return s


def _errors(route: Route) -> dict[str, Any]:
    codes: dict[int, list[str]] = {}
    wanted = {"bad_request", "not_found", "rate_limited", "unavailable"}
    if route.auth:
        wanted |= {"unauthorized"}
    if route.writes:
        wanted |= {"forbidden", "rule_violations", "payment_declined", "too_large"}
    if route.if_match:
        wanted |= {"precondition_required", "version_conflict"}
    if route.idempotency:
        wanted |= {"precondition_required", "idempotency_mismatch", "in_progress"}
    for code in sorted(wanted):
        codes.setdefault(STATUS[code], []).append(code)
    return {str(status): {"description": ", ".join(names),
                          "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
            for status, names in sorted(codes.items())}


def document() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for r in ROUTES:
        params: list[dict[str, Any]] = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string", "maxLength": 200}}
            for p in r.path_params]
        for q in r.query:
            schema: dict[str, Any] = {"type": "integer" if q.kind is int else "string"}
            if q.kind is int:
                if q.ge is not None:
                    schema["minimum" if not q.clamp else "x-clamped-minimum"] = q.ge
                if q.le is not None:
                    schema["maximum" if not q.clamp else "x-clamped-maximum"] = q.le
            else:
                schema["maxLength"] = q.max_chars
            if q.default is not None and q.default is not REQUIRED:
                schema["default"] = q.default
            params.append({"name": q.name, "in": "query", "required": q.default is REQUIRED, "schema": schema,
                           "description": q.doc + (" (clamped into range)" if q.clamp else "")})
        if r.if_match:
            params.append({"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"},
                           "description": f"the order's ETag: must equal the body's {r.if_match}"})
        if r.idempotency:
            params.append({"name": "Idempotency-Key", "in": "header", "required": True,
                           "schema": {"type": "string", "minLength": 8, "maxLength": 200},
                           "description": f"must equal the body's {r.idempotency}; the same key and body "
                                          "replay the first answer"})
        op: dict[str, Any] = {
            "operationId": r.name,
            "summary": r.summary,
            "tags": list(r.tags),
            "parameters": params,
            "responses": {"200": {"description": "OK", "content": {
                "application/json": {"schema": _schema(r.response, defs, "serialization")}}},
                **_errors(r)},
        }
        if r.etag:
            op["responses"]["200"]["headers"] = {"ETag": {"schema": {"type": "string"},
                                                          "description": "the order's version, quoted"}}
        if r.body is not None:
            op["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _schema(r.body, defs, "validation")}},
                "description": f"at most {MAX_BODY_BYTES:,} bytes"}
        if not r.auth:
            op["security"] = []
        if r.writes:
            op["x-writes"] = True
        if r.idempotency:
            op["x-moves-money"] = True
        paths.setdefault(r.path, {})[r.method.lower()] = op
    defs["Error"] = _ERROR_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {"title": "carecli", "version": "1",
                 "description": "The carecli backend contract over HTTP (docs/HTTP.md). Every request but "
                                f"/health needs a bearer token. Search pages hold at most {MAX_PAGE} orders."},
        "paths": paths,
        "components": {"schemas": dict(sorted(defs.items())),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    }


def render() -> str:
    return json.dumps(document(), indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
        print(f"wrote {args[0]}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
