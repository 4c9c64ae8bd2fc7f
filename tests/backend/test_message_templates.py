"""Amendment messages come from templates the operator can override, and the amend session's preview
shows exactly the message the commit queues — the store's outbox row, byte for byte — with the shipped
templates and with an operator's. Real SQLite store (tests/backend/business.py), real template files."""

from __future__ import annotations

import sqlite3

import pytest

from carecli.backend.sqlite import SqliteStore
from carecli.backend.templates import load_templates
from carecli.engine.commands import CancelOrder, ChangeQuantity
from carecli.engine.notifications import Notification
from carecli.screens.session import AmendSession
from tests.backend import business

REF = business.DANA_REF


def _outbox(path, event_id: str) -> list[Notification]:
    c = sqlite3.connect(path)
    try:
        rows = c.execute("SELECT json FROM notifications WHERE event_id = ? ORDER BY channel", (event_id,)).fetchall()
    finally:
        c.close()
    return [Notification.model_validate_json(r[0]) for r in rows]


def _preview_then_commit(store: SqliteStore, path, amendment):
    session = AmendSession(view=store.get_order(REF), reference=store.reference())
    assert session.stage(amendment, business.NOW) == []
    previewed = session.preview.notifications
    reason = business.POLICY.reasons_for(session.reason_kind)[0].code
    result = store.commit(session.request(reason, "", "agent@test"))
    assert previewed, "the customer has an e-mail address: a message is previewed"
    stored = _outbox(path, previewed[0].event_id)
    return previewed, result, stored


def test_the_previewed_amendment_message_is_the_queued_one_with_the_shipped_templates(store_path):
    with SqliteStore.open(store_path, clock=lambda: business.NOW, templates=load_templates(None)) as store:
        previewed, result, stored = _preview_then_commit(store, store_path, ChangeQuantity(line_id=1, quantity=1))
    assert [n.model_dump() for n in previewed] == [n.model_dump() for n in result.notifications] \
        == [n.model_dump() for n in stored]
    email = stored[0]
    assert email.subject == f"Your order {REF} has been updated"
    assert email.body.startswith(f"Hello Dana,\n\nWe have made these changes to your order {REF}:\n- ")
    assert "New order total: " in email.body and email.body.endswith("\n\nThank you for shopping with us.")
    assert "\n\n\n" not in email.body


def test_an_operator_override_is_previewed_and_queued_alike_with_html_escaped_values(store_path, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "order_amended.subject").write_text("Update to $order_ref (now $new_total)\n")
    (folder / "order_amended.txt").write_text("Hi $first_name!\n$changes\n--\n$summary\nThe Shop")
    (folder / "order_amended.html").write_text("<p>Hi $name</p><pre>$changes</pre>")
    templates = load_templates(folder)
    with SqliteStore.open(store_path, clock=lambda: business.NOW, templates=templates) as store:
        before = store.get_order(REF)
        previewed, result, stored = _preview_then_commit(store, store_path, ChangeQuantity(line_id=1, quantity=1))
    assert [n.model_dump() for n in previewed] == [n.model_dump() for n in stored]
    email = stored[0]
    total = store_total(result)
    assert email.subject == f"Update to {REF} (now {total})"
    assert email.body.startswith("Hi Dana!\n- ") and email.body.endswith("The Shop")
    assert "New order total:" in email.body
    assert email.html.startswith("<p>Hi Dana Whitfield</p><pre>- ")
    assert before.order.version + 1 == result.order.version


def store_total(result) -> str:
    from carecli.engine.pricing import price

    return str(price(result.order, business.POLICY, business.LOCMAP).grand_total)


def test_a_cancellation_message_comes_from_its_template_and_matches_the_preview(store_path, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "order_cancelled.sms").write_text("$order_ref cancelled <ok>. $money")
    (folder / "order_cancelled.html").write_text("<p>$changes</p>")
    with SqliteStore.open(store_path, clock=lambda: business.NOW, templates=load_templates(folder)) as store:
        previewed, _, stored = _preview_then_commit(store, store_path, CancelOrder())
    assert [n.model_dump() for n in previewed] == [n.model_dump() for n in stored]
    assert stored[0].kind == "ORDER_CANCELLED"
    assert stored[0].subject == f"Your order {REF} has been cancelled"  # the shipped subject: not overridden
    sms = [n for n in stored if n.channel == "sms"]
    if sms:
        assert sms[0].body.startswith(f"{REF} cancelled <ok>. We are refunding ")


def test_a_template_with_an_unknown_placeholder_is_refused_naming_the_file(tmp_path):
    from carecli.backend.templates import TemplateError

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "return_created.txt").write_text("Your return $rma: $refund_total")
    with pytest.raises(TemplateError, match=r"return_created\.txt.*\$refund_total"):
        load_templates(folder)
