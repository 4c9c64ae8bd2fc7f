"""A server renders customer messages with the operator's templates, and hands the same templates to
its clients in the reference data, so the client's amend preview shows the message the server queues."""

from __future__ import annotations

import uuid

from carecli.backend.http import HttpBackend
from carecli.backend.templates import load_templates
from carecli.engine.commands import ChangeQuantity
from carecli.screens.session import AmendSession
from carecli.server.app import create_app
from carecli.server.runner import ThreadedServer

from .serving import add_users


def test_the_client_previews_with_the_servers_templates_and_the_server_queues_the_same(store_copy, clock,
                                                                                        tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "order_amended.subject").write_text("Changed: $order_ref, now $new_total")
    (folder / "order_amended.sms").write_text("$order_ref changed <$new_total>")
    tokens = add_users(store_copy, clock)
    app = create_app(store_copy, clock=clock, templates=load_templates(folder))
    with ThreadedServer(app) as srv:
        client = HttpBackend(srv.url, tokens["agent"], retries=0)
        try:
            ref = client.reference()
            assert ref.templates["ORDER_AMENDED"].subject == "Changed: $order_ref, now $new_total"
            view = client.get_order("ON-100001")
            line = view.order.lines[0]
            session = AmendSession(view=view, reference=ref)
            problems = session.stage(ChangeQuantity(line_id=line.line_id, quantity=line.quantity + 1), clock())
            assert problems == [], problems
            previewed = session.preview.notifications
            assert previewed and previewed[0].subject.startswith("Changed: ON-100001, now ")
            reason = ref.policy.reasons_for(session.reason_kind)[0].code
            result = client.commit(session.request(reason, "", f"agent-{uuid.uuid4().hex[:6]}"))
        finally:
            client.close()
    assert [n.model_dump() for n in result.notifications] == [n.model_dump() for n in previewed]
