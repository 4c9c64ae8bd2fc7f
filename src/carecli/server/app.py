"""The HTTP server of the backend contract: a Starlette app over the embedded store.

Every endpoint is built from the route table (:mod:`carecli.backend.http.routes`). A request goes:

1. body size (``Content-Length`` and the bytes actually read) → 413;
2. bearer token → user (hashed lookup in the store's ``users`` table; revoked tokens fail) → 401;
3. rate per token (token bucket) → 429 with ``Retry-After``;
4. a write by a read-only user → 403 (and the store of that role refuses again);
5. parameters and body parsed and validated → 400 naming the field;
6. ``If-Match`` (428 without it) and ``Idempotency-Key`` (428 without it; 409 while the same key is
   still being processed);
7. the contract call, in a worker thread, on the SqliteStore of the user's role; contract errors
   become their ``to_json()`` body with the status of :data:`~carecli.backend.http.routes.STATUS`.

The server runs one SqliteStore per kind of user (agent; supervisor read-only; supervisor allowed to
write) on the same store file. Refusals are logged (``carecli.server``) with the user name, never the
token.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import unquote

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute

from ..backend.contract import (
    BackendError, BadRequest, Forbidden, InProgress, NotFound, PaymentGateway, PreconditionRequired, RateLimited,
    TooLarge, Unauthorized,
)
from ..backend.http.routes import (
    MAX_BODY_BYTES, MAX_PATH_PARAM_CHARS, PATH_BODY_FIELDS, REQUIRED, ROUTES, STATUS, Identity, Param,
    Route,
)
from ..backend.sqlite.store import SqliteStore
from ..backend.sqlite.users import User
from ..engine.notifications import MessageTemplate
from ..engine.policy import Policy

log = logging.getLogger("carecli.server")


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = MAX_BODY_BYTES
    rate_per_s: float = 20.0  # float-ok: sustained requests per second per token
    burst: int = 60  # requests a token may make at once before the rate applies


class TokenBuckets:
    """One token bucket per user: ``burst`` requests at once, refilled at ``rate`` per second."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:  # float-ok
        self.rate, self.burst, self.clock = rate, burst, clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # float-ok: (tokens, last refill)

    def take(self, who: str) -> float:
        """0 when allowed, else the seconds to wait."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(who, (float(self.burst), now))  # float-ok
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)  # float-ok
            if tokens >= 1:
                self._buckets[who] = (tokens - 1, now)
                return 0.0
            self._buckets[who] = (tokens, now)
            return (1 - tokens) / self.rate if self.rate > 0 else 60.0


class Stores:
    """One SqliteStore per kind of user, opened on first use, on the same file."""

    def __init__(self, path: Path, *, policy: Policy | None, clock: Callable[[], datetime] | None,
                 gateway: PaymentGateway | None, templates: Mapping[str, MessageTemplate] | None = None) -> None:
        self.path, self.policy, self.clock, self.gateway = path, policy, clock, gateway
        self.templates = templates
        self._lock = threading.Lock()
        self._open: dict[tuple[str, bool], SqliteStore] = {}

    def get(self, role: str, read_only: bool) -> SqliteStore:
        with self._lock:
            s = self._open.get((role, read_only))
            if s is None:
                s = SqliteStore.open(self.path, role=role, read_only=read_only,  # type: ignore[arg-type]
                                     policy=self.policy, clock=self.clock, gateway=self.gateway,
                                     create=False, templates=self.templates)
                self._open[(role, read_only)] = s
            return s

    def users(self) -> SqliteStore:
        """The store the users table is read through (read-only view)."""
        return self.get("supervisor", True)

    def close(self) -> None:
        with self._lock:
            for s in self._open.values():
                s.close()
            self._open.clear()


def error_response(err: BackendError, *, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(err.to_json(), status_code=STATUS.get(err.code, 500), headers=headers)


class InFlight:
    """Idempotency keys being processed right now (a retry meanwhile is told 409)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: set[str] = set()

    def enter(self, key: str) -> bool:
        with self._lock:
            if key in self._keys:
                return False
            self._keys.add(key)
            return True

    def leave(self, key: str) -> None:
        with self._lock:
            self._keys.discard(key)


def _parse_query(route: Route, request: Request) -> dict[str, Any]:
    out: dict[str, Any] = {}
    known = {p.name for p in route.query}
    for name in request.query_params:
        if name not in known:
            raise BadRequest(f"query parameter {name!r} is not known here; known: "
                             f"{', '.join(sorted(known)) or 'none'}")
    for p in route.query:
        raw = request.query_params.get(p.name)
        if raw is None:
            if p.default is REQUIRED:
                raise BadRequest(f"query parameter {p.name!r} is required")
            out[p.name] = p.default
            continue
        out[p.name] = _param_value(p, raw)
    return out


def _param_value(p: Param, raw: str) -> Any:
    if p.kind is int:
        try:
            v = int(raw.strip())
        except ValueError:
            raise BadRequest(f"query parameter {p.name!r}: {raw[:40]!r} is not a whole number") from None
        if p.clamp:
            lo = p.ge if p.ge is not None else v
            hi = p.le if p.le is not None else v
            return max(lo, min(v, hi))
        if (p.ge is not None and v < p.ge) or (p.le is not None and v > p.le):
            raise BadRequest(f"query parameter {p.name!r}: {v} is outside {p.ge}..{p.le}")
        return v
    if len(raw) > p.max_chars:
        raise BadRequest(f"query parameter {p.name!r}: longer than {p.max_chars} characters")
    return raw


def _if_match(value: str) -> int:
    v = value.strip()
    if v.startswith("W/"):
        v = v[2:]
    v = v.strip('"')
    if not v.isdigit():
        raise BadRequest(f"If-Match {value[:40]!r}: expected the order's ETag, a version number such as \"3\"")
    return int(v)


async def _read_body(request: Request, limit: int) -> bytes:
    cl = request.headers.get("content-length")
    if cl is not None:
        try:
            if int(cl) > limit:
                raise TooLarge(f"The request body is {int(cl):,} bytes; the limit is {limit:,}.")
        except ValueError:
            raise BadRequest("Content-Length is not a number") from None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"The request body is larger than the limit of {limit:,} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _validation_message(e: ValidationError, what: str) -> str:
    parts = []
    for err in e.errors()[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ())) or "(body)"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return f"{what}: " + "; ".join(parts)


def create_app(store: str | Path, *, policy: Policy | None = None,
               clock: Callable[[], datetime] | None = None, gateway: PaymentGateway | None = None,
               limits: Limits = Limits(), templates: Mapping[str, MessageTemplate] | None = None) -> Starlette:
    """The ASGI app serving the store file at ``store`` (it must exist: build it with ``carecli demo``)."""
    path = Path(store).expanduser()
    if not path.exists():
        raise NotFound(f"There is no store at {path}. Build one with `carecli demo --store {path}`.",
                       title="No store")
    stores = Stores(path, policy=policy, clock=clock, gateway=gateway, templates=templates)
    stores.users()  # open (and check) the file now: a bad store fails at start, not on the first request
    buckets = TokenBuckets(limits.rate_per_s, limits.burst)
    inflight = InFlight()

    def refuse(request: Request, err: BackendError, user: str = "-",
               headers: dict[str, str] | None = None) -> JSONResponse:
        client = request.client.host if request.client else "-"
        log.warning("refused %s %s for %s from %s: %s (%s)", request.method, request.url.path, user,
                    client, err.code, err.message)
        return error_response(err, headers=headers)

    def authenticate(request: Request) -> User:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            raise Unauthorized("This server needs a bearer token (Authorization: Bearer …). Ask your "
                               "team lead for one (carecli users add).")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
        user = stores.users().user_for_token(token.strip())
        if user is None:
            raise Unauthorized("This token is not valid (unknown or revoked). Ask your team lead for a "
                               "new one (carecli users add).", title="Token refused")
        return user

    def endpoint(route: Route):
        async def handle(request: Request) -> Response:
            user: User | None = None
            try:
                if route.auth:
                    user = authenticate(request)
                    wait = buckets.take(user.name)
                    if wait > 0:
                        err = RateLimited(wait)
                        return refuse(request, err, user.name,
                                      {"Retry-After": str(max(1, math.ceil(wait)))})
                    if route.writes and user.read_only:
                        raise Forbidden(f"{user.name} is a {user.role} who works read-only on this "
                                        "server; nothing was changed.")
                args: dict[str, Any] = {}
                for name in route.path_params:
                    value = request.path_params[name]
                    if len(value) > MAX_PATH_PARAM_CHARS:
                        raise NotFound(f"There is no {name} {value[:20]!r}… (longer than "
                                       f"{MAX_PATH_PARAM_CHARS} characters).")
                    args[name] = value
                args.update(_parse_query(route, request))
                if user is not None:
                    args["identity"] = Identity(name=user.name, role=user.role, read_only=user.read_only)
                key = None
                if route.body is not None:
                    raw = await _read_body(request, limits.max_body_bytes)
                    if route.if_match and request.headers.get("if-match") is None:
                        raise PreconditionRequired(
                            "This change needs an If-Match header with the order's version (its ETag), "
                            "so that it can never overwrite someone else's change.")
                    if route.idempotency:
                        key = request.headers.get("idempotency-key")
                        if not key:
                            raise PreconditionRequired(
                                "This change moves money and needs an Idempotency-Key header, so that a "
                                "retry can never apply it twice.")
                    try:
                        data = json.loads(raw) if raw else None
                    except (ValueError, UnicodeDecodeError):
                        raise BadRequest("The request body is not valid JSON.") from None
                    if isinstance(data, dict) and user is not None and "actor" in route.body.model_fields:
                        data["actor"] = user.name  # the audit trail names the signed-in user
                    try:
                        body = route.body.model_validate(data)
                    except ValidationError as e:
                        raise BadRequest(_validation_message(e, "request body")) from None
                    if route.if_match:
                        want = getattr(body, route.if_match)
                        if _if_match(request.headers["if-match"]) != want:
                            raise BadRequest(f"If-Match ({request.headers['if-match'][:20]}) and the body's "
                                             f"{route.if_match} ({want}) disagree.")
                    if route.idempotency and key != getattr(body, route.idempotency):
                        raise BadRequest(f"Idempotency-Key and the body's {route.idempotency} disagree.")
                    for (rname, pname), fname in PATH_BODY_FIELDS.items():
                        if rname == route.name and args[pname].strip().upper() != \
                                str(getattr(body, fname)).strip().upper():
                            raise BadRequest(f"The path names {pname} {args[pname][:40]!r} but the body's "
                                             f"{fname} is {str(getattr(body, fname))[:40]!r}.")
                    args["body"] = body
                backend = stores.get(user.role, user.read_only) if user is not None else stores.users()
                if key is not None:
                    if not inflight.enter(key):
                        raise InProgress("A request with this Idempotency-Key is still being processed; "
                                         "ask again in a moment (with the same key and body).")
                    try:
                        result = await run_in_threadpool(route.call, backend, args)
                    finally:
                        inflight.leave(key)
                else:
                    result = await run_in_threadpool(route.call, backend, args)
            except (Unauthorized, PreconditionRequired, TooLarge, BadRequest, InProgress) as e:
                return refuse(request, e, user.name if user else "-")
            except BackendError as e:
                if e.code == "forbidden":
                    return refuse(request, e, user.name if user else "-")
                return error_response(e)
            except Exception:  # noqa: BLE001 - a bug: logged in full, the client gets a plain 500
                log.exception("%s %s failed", request.method, request.url.path)
                return error_response(BackendError("The server met an unexpected problem; nothing was "
                                                   "changed. Try again, and tell your team lead if it "
                                                   "keeps happening.", title="Server problem"))
            headers = {}
            if route.etag is not None and result is not None:
                headers["ETag"] = f'"{route.etag(result)}"'
            if getattr(result, "replayed", False):
                headers["Idempotent-Replayed"] = "true"
            return Response(route.adapter.dump_json(result), media_type="application/json", headers=headers)

        return handle

    async def openapi(request: Request) -> Response:
        from .openapi import document

        return JSONResponse(document())

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        if status == 405:
            err = BadRequest(f"{request.method} is not allowed on {unquote(request.url.path)[:80]}.")
            return JSONResponse(err.to_json(), status_code=405)
        return error_response(NotFound(f"There is nothing at {unquote(request.url.path)[:80]}."))

    routes = [StarletteRoute(r.path, endpoint(r), methods=[r.method], name=r.name) for r in ROUTES]
    routes.append(StarletteRoute("/openapi.json", openapi, methods=["GET"], name="openapi"))
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        try:
            yield
        finally:
            stores.close()

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found}, lifespan=lifespan)
    app.router.redirect_slashes = False  # "/orders/" is an empty ref (404), not a redirect
    app.state.stores = stores
    return app
