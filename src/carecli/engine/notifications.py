"""Customer notifications: one message per event and channel, rendered as plain text.

The event id is derived from the order and what happened (``ON-100234/v3/ORDER_AMENDED``), so the same
event rendered twice is the same message: the outbox keeps one row per (event id, channel).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

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
    for channel, to in channels_for(customer):
        out.append(Notification(
            id=f"{event_id}/{channel}", event_id=event_id, kind=kind, order_ref=order_ref,
            customer_id=customer.id, channel=channel, to=to, subject=subject,
            body=email_body if channel == "email" else sms, created_at=at,
        ))
    return tuple(out)
