"""Customer notifications: one message per event and channel, as plain text and HTML.

The event id is derived from the order and what happened (``ON-100234/v3/ORDER_AMENDED``), so the same
event rendered twice is the same message: the outbox keeps one row per (event id, channel).

Every message — fulfilment milestones and exceptions (DOMAIN §8), amendments, placing, returns — is
rendered from :class:`MessageTemplate` s:
``string.Template`` text (``$placeholder``; no code runs in a template) with a subject, a plain text,
an HTML body and an SMS text per kind. The defaults ship in ``templates.toml`` beside this module; an
operator's templates (loaded outside the engine) replace them part by part. Values are inserted as
they are into the text parts and HTML-escaped into the HTML part.
"""

from __future__ import annotations

import html as _html
import re
import string
import tomllib
from datetime import datetime
from importlib import resources
from typing import TYPE_CHECKING, Literal, Mapping

from pydantic import BaseModel, ConfigDict

from .errors import TemplateError  # noqa: F401 - one of this module's names

if TYPE_CHECKING:
    from .model import Customer


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str  # event_id + "/" + channel
    event_id: str
    kind: str  # ORDER_AMENDED, ORDER_CANCELLED, APPEASEMENT_GRANTED, ...
    order_ref: str
    customer_id: str
    channel: Literal["email", "sms"]
    to: str
    subject: str
    body: str
    created_at: datetime
    html: str = ""  # the HTML part of an e-mail (empty for SMS, and for messages stored before it existed)


def channels_for(customer: Customer) -> list[tuple[str, str]]:
    """(channel, address) pairs the customer agreed to; SMS needs a phone number and consent."""
    out: list[tuple[str, str]] = []
    if customer.preferences.email and customer.email:
        out.append(("email", customer.email))
    if customer.preferences.sms and customer.phone:
        out.append(("sms", customer.phone))
    return out


def render(
    *, event_id: str, kind: str, order_ref: str, customer: Customer, subject: str, lines: list[str],
    sms: str, at: datetime,
) -> tuple[Notification, ...]:
    """One notification per channel the customer agreed to."""
    out = []
    first = customer.name.split()[0] if customer.name.split() else customer.name
    email_body = "\n".join([f"Hello {first},", "", *lines, "", "Thank you for shopping with us."])
    html_body = text_to_html(email_body)
    for channel, to in channels_for(customer):
        out.append(Notification(
            id=f"{event_id}/{channel}", event_id=event_id, kind=kind, order_ref=order_ref,
            customer_id=customer.id, channel=channel, to=to, subject=subject,
            body=email_body if channel == "email" else sms, created_at=at,
            html=html_body if channel == "email" else "",
        ))
    return tuple(out)


def text_to_html(text: str) -> str:
    """A plain-text message as simple HTML: escaped, a paragraph per blank-line block."""
    paras = [p for p in text.split("\n\n") if p.strip()]
    body = "\n".join("<p>" + _html.escape(p).replace("\n", "<br>\n") + "</p>" for p in paras)
    return f"<!DOCTYPE html>\n<html><body>\n{body}\n</body></html>\n"


# --------------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------------

TEMPLATE_PARTS = ("subject", "text", "html", "sms")


class MessageTemplate(BaseModel):
    """One kind of message: ``string.Template`` texts. ``$first_name``, ``$order_ref`` and the kind's
    own placeholders (``PLACEHOLDERS``) are filled in; HTML values are escaped."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str
    text: str
    html: str
    sms: str


COMMON_PLACEHOLDERS = ("first_name", "name", "order_ref")

# The placeholders each kind's template may use (besides the common ones).
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "SHORT_PICKED": ("item", "units", "next_steps"),
    "BACKORDERED": ("item", "units", "expected"),
    "DISPATCHED": ("carrier", "tracking", "items"),
    "READY_FOR_COLLECTION": ("store", "store_address", "items"),
    "COLLECTED": ("items", "store"),
    "DELIVERED": ("items",),
    "DELIVERY_FAILED": ("reason", "carrier", "tracking"),
    # Amendments (engine/plan.py): $changes is the bulleted list of changes; $summary the sentences that
    # follow it (new total, new delivery or collection point, each refund / store credit / charge), also
    # one by one as $total_change, $fulfilment_change and $money_lines; $money is the first money sentence.
    "ORDER_AMENDED": ("changes", "summary", "new_total", "old_total", "total_change", "fulfilment_change",
                      "money_lines", "money"),
    "ORDER_CANCELLED": ("changes", "summary", "new_total", "old_total", "total_change", "fulfilment_change",
                        "money_lines", "money"),
    "APPEASEMENT_GRANTED": ("changes", "summary", "new_total", "old_total", "total_change", "fulfilment_change",
                            "money_lines", "money"),
    # Placing (engine/placing.py): $items one line per item; $summary totals, delivery and payment sentences.
    "ORDER_PLACED": ("items", "summary", "total"),
    "REPLACEMENT_PLACED": ("items", "summary", "original_ref", "replacing"),
    # Returns (engine/returns.py).
    "RETURN_CREATED": ("rma", "items", "units"),
    "RETURN_RECEIVED": ("rma",),
    "RETURN_REFUNDED": ("rma", "items", "refund_total", "money_lines", "money"),
    "EXCHANGE_SETTLED": ("rma", "exchange_ref", "money"),
}


def check_template(kind: str, tpl: MessageTemplate, source: str) -> None:
    """Refuse placeholders the kind does not have, and malformed ``$`` syntax, naming the part."""
    allowed = set(COMMON_PLACEHOLDERS) | set(PLACEHOLDERS.get(kind, ()))
    for part in TEMPLATE_PARTS:
        t = string.Template(getattr(tpl, part))
        if not t.is_valid():
            raise TemplateError(f"{source}: the {part} of {kind} has a malformed placeholder "
                                "(write $name or ${name}, and $$ for a dollar sign)")
        unknown = sorted(set(t.get_identifiers()) - allowed)
        if unknown:
            raise TemplateError(f"{source}: the {part} of {kind} uses unknown placeholder(s) "
                                f"{', '.join('$' + u for u in unknown)}; it may use "
                                f"{', '.join('$' + a for a in sorted(allowed))}")


_DEFAULTS: dict[str, MessageTemplate] | None = None
_BLANKS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_EMPTY_P = re.compile(r"<p>\s*</p>\n?")


def default_templates() -> dict[str, MessageTemplate]:
    """The shipped templates (``templates.toml`` beside this module), by kind."""
    global _DEFAULTS
    if _DEFAULTS is None:
        text = resources.files(__package__).joinpath("templates.toml").read_text("utf-8")
        data = tomllib.loads(text)
        out = {}
        for kind, parts in data.items():
            tpl = MessageTemplate.model_validate(parts)
            check_template(kind, tpl, "(built-in templates.toml)")
            out[kind] = tpl
        _DEFAULTS = out
    return dict(_DEFAULTS)


def render_template(
    *, kind: str, event_id: str, order_ref: str, customer: Customer, values: Mapping[str, str],
    at: datetime, templates: Mapping[str, MessageTemplate] | None = None,
) -> tuple[Notification, ...]:
    """One notification per channel the customer agreed to, from the kind's template (the operator's
    ``templates`` over the shipped ones)."""
    tpl = (templates or {}).get(kind) or default_templates()[kind]
    first = customer.name.split()[0] if customer.name.split() else customer.name
    vals = {"first_name": first, "name": customer.name, "order_ref": order_ref, **values}
    esc = {k: _html.escape(str(v)).replace("\n", "<br>\n") for k, v in vals.items()}

    def fill(t: str, v: Mapping[str, str]) -> str:
        return string.Template(t).safe_substitute(v)

    subject = " ".join(fill(tpl.subject, vals).split())  # one line, whatever a value held
    # A placeholder that is empty for this message leaves no hole: runs of blank lines fold into one,
    # an empty HTML paragraph goes, and an SMS loses its trailing space.
    body = _BLANKS.sub("\n\n", fill(tpl.text, vals))
    html_body = _EMPTY_P.sub("", fill(tpl.html, esc))
    sms = " ".join(fill(tpl.sms, vals).split())[:320]
    out = []
    for channel, to in channels_for(customer):
        out.append(Notification(
            id=f"{event_id}/{channel}", event_id=event_id, kind=kind, order_ref=order_ref,
            customer_id=customer.id, channel=channel, to=to, subject=subject,
            body=body if channel == "email" else sms, html=html_body if channel == "email" else "",
            created_at=at,
        ))
    return tuple(out)
