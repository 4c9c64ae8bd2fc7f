"""The backend contract over HTTP: an httpx client of ``carecli serve``.

* Requests are built from the shared route table (:mod:`.routes`); answers are parsed with the same
  pydantic models the server dumped them with; error bodies become the same contract errors.
* Timeouts: connect and read, from settings. Retries with jittered exponential back-off on network
  errors and 5xx, for reads and for commits (a commit is re-sent with the same idempotency key and
  the very same bytes); never on a 4xx answer, except 409 ``in_progress`` (the server is still working
  on the same key: asking again with the same key is exactly what it asks for).
* Commits go through the local :class:`~.journal.Journal` first (see there); :meth:`recover` re-sends
  what never got an answer.
* The token is sent as a bearer header and is never logged, repr'd, or put in an error message.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import httpx

from ...engine.audit import ChainProblem
from ...engine.model import Customer
from ...engine.returns import ReturnOrder
from ..contract import (
    AccountView, BackendError, CommitRequest, CommitResult, Connection, CreateExchangeRequest,
    CreateReturnRequest, CustomerSummary, EventResult, ExceptionItem, Forbidden, NewCustomerRequest,
    Offline, OrderView, PlaceOrderRequest, PlaceOrderResult, RecoveredCommit, ReferenceData,
    RefundReturnRequest, RejectedEvent, ReturnEligibility, ReturnResult, ReturnStepRequest, Role,
    SearchPage, TimelineEntry, Unavailable, VerifyReturnRequest, error_from_json,
)
from .journal import Entry, Journal
from .routes import BY_NAME, MAX_QUERY_CHARS, EventBody, Identity, NoteBody, Route

log = logging.getLogger("carecli.http")

RETRY_STATUS = {500, 502, 503, 504}
_QUERY_SENT = 800  # the store reads at most this many characters of a search text


class HttpBackend:
    """Implements :class:`~carecli.backend.contract.Backend` against a carecli server."""

    def __init__(self, base_url: str, token: str, *, read_only: bool | None = None, role: Role = "agent",
                 journal: Journal | None = None, ca_bundle: str | Path | None = None,
                 connect_timeout: float = 3.0, read_timeout: float = 35.0,  # float-ok: seconds
                 retries: int = 3, backoff: float = 0.2,  # float-ok: seconds
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:  # float-ok
        self.base_url = base_url.rstrip("/")
        self._force_ro = bool(read_only)
        self._role_hint: Role = role
        self._journal = journal
        self._retries = max(0, retries)
        self._backoff = backoff
        self._sleep = sleep
        self._identity: Identity | None = None
        self._online = True
        self._lock = threading.Lock()
        verify: ssl.SSLContext | bool = True
        if ca_bundle:
            verify = ssl.create_default_context(cafile=str(Path(ca_bundle).expanduser()))
        self._client = httpx.Client(
            base_url=self.base_url, verify=verify, transport=transport,
            timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout,
                                  pool=connect_timeout),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json",
                     "User-Agent": "carecli"})

    def __repr__(self) -> str:
        return f"HttpBackend({self.base_url!r})"

    # -- identity -------------------------------------------------------------------------------------
    def whoami(self, *, retries: int | None = None) -> Identity:
        """The signed-in user (asks the server once; raises Unauthorized / Offline). ``retries``
        overrides the setting (the app's start asks once, so a dead server does not delay it)."""
        if self._identity is None:
            r = self._send("GET", BY_NAME["whoami"].path, retries=retries)
            self._identity = self._parse(BY_NAME["whoami"], r)
        return self._identity

    @property
    def role(self) -> Role:
        return self._identity.role if self._identity is not None else self._role_hint

    @property
    def read_only(self) -> bool:
        if self._force_ro:
            return True
        if self._identity is not None:
            return self._identity.read_only
        return self._role_hint == "supervisor"

    @property
    def online(self) -> bool:
        return self._online

    # -- the contract ---------------------------------------------------------------------------------
    def search_orders(self, query: str, *, stage: str | None = None, limit: int = 50,
                      offset: int = 0) -> SearchPage:
        q = (query if isinstance(query, str) else "")[:_QUERY_SENT]
        return self._call("search_orders", q=q, stage=stage or "", limit=int(limit), offset=int(offset))

    def get_order(self, ref: str) -> OrderView:
        return self._call("get_order", ref=ref)

    def get_account(self, account_id: str) -> AccountView:
        return self._call("get_account", account_id=account_id)

    def get_timeline(self, ref: str) -> list[TimelineEntry]:
        return self._call("get_timeline", ref=ref)

    def reference(self) -> ReferenceData:
        return self._call("reference")

    def verify_audit(self) -> ChainProblem | None:
        return self._call("verify_audit")

    def commit(self, req: CommitRequest) -> CommitResult:
        if not isinstance(req, CommitRequest):
            raise TypeError("commit() takes a CommitRequest")
        return self._call("commit", ref=req.order_ref, body=req)

    def place_order(self, req: PlaceOrderRequest) -> PlaceOrderResult:
        return self._call("place_order", body=req)

    def create_customer(self, req: NewCustomerRequest) -> Customer:
        return self._call("create_customer", body=req)

    def find_customers(self, query: str, *, limit: int = 20) -> list[CustomerSummary]:
        return self._call("find_customers", q=query, limit=limit)

    def ingest_event(self, event: Any) -> EventResult:
        from ...engine.events import parse_event

        if isinstance(event, (dict, str, bytes)):
            event = parse_event(event)
        return self._call("ingest_event", body=EventBody(event=event))

    def rejected_events(self, *, limit: int = 100, include_resolved: bool = False) -> list[RejectedEvent]:
        return self._call("rejected_events", limit=limit, include_resolved=int(include_resolved))

    def list_exceptions(self, *, limit: int = 200) -> list[ExceptionItem]:
        return self._call("list_exceptions", limit=limit)

    def add_contact_note(self, ref: str, text: str, *, actor: str) -> TimelineEntry:
        return self._call("add_contact_note", ref=ref, body=NoteBody(text=text, actor=actor))

    def return_eligibility(self, ref: str) -> ReturnEligibility:
        return self._call("return_eligibility", ref=ref)

    def list_returns(self, order_ref: str) -> list[ReturnOrder]:
        return self._call("list_returns", ref=order_ref)

    def get_return(self, return_id: str) -> ReturnOrder:
        return self._call("get_return", return_id=return_id)

    def create_return(self, req: CreateReturnRequest) -> ReturnResult:
        return self._call("create_return", ref=req.order_ref, body=req)

    def create_exchange(self, req: CreateExchangeRequest) -> ReturnResult:
        return self._call("create_exchange", ref=req.order_ref, body=req)

    def receive_return(self, req: ReturnStepRequest) -> ReturnResult:
        return self._call("receive_return", return_id=req.return_id, body=req)

    def verify_return(self, req: VerifyReturnRequest) -> ReturnResult:
        return self._call("verify_return", return_id=req.return_id, body=req)

    def refund_return(self, req: RefundReturnRequest) -> ReturnResult:
        return self._call("refund_return", return_id=req.return_id, body=req)

    def close_return(self, req: ReturnStepRequest) -> ReturnResult:
        return self._call("close_return", return_id=req.return_id, body=req)

    def ping(self) -> Connection:
        try:
            r = self._client.get("/health", timeout=3.0)
        except httpx.HTTPError as e:
            self._online = False
            return Connection(online=False, detail=_network_text(self.base_url, e))
        self._online = r.status_code == 200
        name = self._identity.name if self._identity else ""
        return Connection(online=self._online, user=name,
                          detail="" if self._online else f"the server answered HTTP {r.status_code}")

    def recover(self) -> list[RecoveredCommit]:
        if self._journal is None:
            return []
        out = []
        for entry in self._journal.pending(self.base_url):
            out.append(self._recover_one(entry))
        return out

    def close(self) -> None:
        self._client.close()

    # -- plumbing -------------------------------------------------------------------------------------
    def _call(self, name: str, **kwargs: Any) -> Any:
        route = BY_NAME[name]
        path = route.path
        for p in route.path_params:
            path = path.replace("{" + p + "}", quote(str(kwargs.pop(p)), safe=""))
        body = kwargs.pop("body", None)
        params = {q.name: kwargs.pop(q.name) for q in route.query if q.name in kwargs}
        for k, v in list(params.items()):
            if isinstance(v, str) and len(v) > MAX_QUERY_CHARS:
                params[k] = v[:MAX_QUERY_CHARS]
        if kwargs:  # pragma: no cover - a programming error in a client method
            raise TypeError(f"{name}: unexpected arguments {sorted(kwargs)}")
        if route.writes and self.read_only:
            raise Forbidden("You work read-only; nothing was changed.")
        if route.body is None:
            return self._parse(route, self._send(route.method, path, params=params))
        content = body.model_dump_json().encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if route.if_match:
            headers["If-Match"] = f'"{getattr(body, route.if_match)}"'
        key = getattr(body, route.idempotency) if route.idempotency else None
        if key is not None:
            headers["Idempotency-Key"] = key
            if self._journal is not None:
                # Written (and on disk) before the first byte leaves: a crash from here on is recovered.
                entry = self._journal.record(key=key, server=self.base_url, order_ref=str(kwargs.get("ref", "")
                                             or getattr(body, "order_ref", "")), method=route.method,
                                             path=path, headers=headers, body=content)
                if entry.body != content:  # the same key sent with other content: the server decides
                    log.info("commit %s re-sent with other content than first journalled", key[:12])
        # A write the server cannot recognise as sent before (no key, no id of its own) goes once.
        once = 0 if key is None and not route.replay_safe else None
        try:
            r = self._send(route.method, path, headers=headers, content=content, key=key, retries=once)
        except Offline:
            raise  # the journal entry stays pending: recover() sends it again with the same key
        if key is not None and self._journal is not None and r.status_code < 500:
            self._journal.resolve(key, r.status_code, r.text)
        return self._parse(route, r)

    def _send(self, method: str, path: str, *, params: dict[str, Any] | None = None,
              headers: dict[str, str] | None = None, content: bytes | None = None,
              key: str | None = None, retries: int | None = None) -> httpx.Response:
        """Send with retries (network errors, 5xx; and 409 in_progress for a keyed request)."""
        max_retries = self._retries if retries is None else max(0, retries)
        attempt = 0
        in_progress_deadline = time.monotonic() + 60
        last: httpx.Response | None = None
        while True:
            try:
                r = self._client.request(method, path, params=params, headers=headers, content=content)
            except httpx.HTTPError as e:
                # The request may or may not have reached the server: only a keyed (idempotent) write or
                # a read may go again.
                self._online = False
                if attempt >= max_retries:
                    what = "the change was kept and will be sent again, with the same request id, when " \
                           "carecli reconnects (do not enter it again)" if key else "nothing was changed"
                    raise Offline(f"{_network_text(self.base_url, e)}; {what}.") from None
                self._pause(attempt)
                attempt += 1
                continue
            self._online = True
            last = r
            if r.status_code in RETRY_STATUS and attempt < max_retries:
                self._pause(attempt)
                attempt += 1
                continue
            if key is not None and r.status_code == 409 and _code(r) == "in_progress" \
                    and time.monotonic() < in_progress_deadline:
                self._sleep(min(1.0, self._backoff * (1 + attempt)))
                attempt = min(attempt + 1, max_retries)
                continue
            return last

    def _pause(self, attempt: int) -> None:
        self._sleep(min(2.0, self._backoff * (2 ** attempt)) * (0.5 + random.random()))

    def _parse(self, route: Route, r: httpx.Response) -> Any:
        if 200 <= r.status_code < 300:
            try:
                return route.adapter.validate_json(r.content)
            except ValueError as e:
                raise Unavailable(f"The server at {self.base_url} sent an answer carecli cannot read "
                                  f"({str(e).splitlines()[0]}).", title="Server answer unreadable") from None
        raise _error(self.base_url, r)

    def _recover_one(self, entry: Entry) -> RecoveredCommit:
        assert self._journal is not None
        base = dict(idempotency_key=entry.key, order_ref=entry.order_ref)
        try:
            r = self._send(entry.method, entry.path, headers=entry.headers, content=entry.body, key=entry.key)
        except Offline as e:
            return RecoveredCommit(**base, outcome="pending",
                                   message=f"A change to {entry.order_ref} is still waiting for the server's "
                                           f"answer; it will be sent again with the same request id. ({e.message})")
        if r.status_code >= 500:
            return RecoveredCommit(**base, outcome="pending",
                                   message=f"A change to {entry.order_ref} is still waiting: the server "
                                           f"answered HTTP {r.status_code}; it will be sent again later.")
        self._journal.resolve(entry.key, r.status_code, r.text)
        if r.status_code < 300:
            result = CommitResult.model_validate_json(r.content)
            was = "was already applied" if result.replayed else "has now been applied"
            return RecoveredCommit(**base, outcome="applied", new_version=result.order.version,
                                   message=f"Your change to {entry.order_ref} whose answer was lost {was} "
                                           f"(version {result.order.version}); nothing was applied twice.")
        err = _error(self.base_url, r)
        return RecoveredCommit(**base, outcome="refused",
                               message=f"Your change to {entry.order_ref} whose answer was lost was not "
                                       f"applied: {err.title}: {err.message}")


def _code(r: httpx.Response) -> str:
    try:
        data = r.json()
    except ValueError:
        return ""
    return str(data.get("code", "")) if isinstance(data, dict) else ""


def _error(base_url: str, r: httpx.Response) -> BackendError:
    try:
        data = r.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and "code" in data:
        try:
            return error_from_json(data)
        except (KeyError, TypeError, ValueError):
            pass
    if r.status_code >= 500:
        return Unavailable(f"The server at {base_url} answered HTTP {r.status_code}; try again in a moment.")
    return BackendError(f"The server at {base_url} answered HTTP {r.status_code} without an explanation.")


def _network_text(base_url: str, e: httpx.HTTPError) -> str:
    kind = {httpx.ConnectTimeout: "did not accept a connection in time",
            httpx.ReadTimeout: "did not answer in time",
            httpx.ConnectError: "cannot be reached"}.get(type(e), "dropped the connection")
    if isinstance(e, httpx.ConnectError) and "CERTIFICATE" in str(e).upper():
        kind = "presented a certificate that could not be verified (set ca_bundle in settings for a " \
               "private CA)"
    return f"The server at {base_url} {kind}"
