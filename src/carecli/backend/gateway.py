"""Payment gateways. Only a stand-in lives here: carecli cannot reach a real card processor."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from .errors import PaymentDeclined

if TYPE_CHECKING:
    from ..engine.model import PaymentMethod
    from ..engine.money import Money

DECLINED_LAST4 = "0002"


class DemoGateway:
    """A stand-in for a real payment gateway, which cannot run here (no processor, no network).

    It approves every charge except on a card whose last four digits are ``0002`` — the test card
    that real processors also use for "declined" — and refuses a non-positive amount. A charge returns
    a capture id derived from the idempotency key, so charging the same key twice captures once, as a
    real gateway's idempotency keys do. It keeps a list of the captures it made, for tests.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.captures: dict[str, tuple[str, Money]] = {}  # key -> (payment method id, amount)

    def charge(self, payment_method: PaymentMethod, amount: Money, key: str) -> str:
        if payment_method.last4 == DECLINED_LAST4:
            raise PaymentDeclined(
                f"The card {payment_method.label()} was declined for {amount}. Ask the customer for "
                "another payment method; nothing was changed on the order."
            )
        if not amount.is_positive:
            raise PaymentDeclined(f"A charge of {amount} cannot be taken; nothing was changed.")
        import hashlib  # here, not at the top: a launch takes no payment

        capture = "cap_" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]
        with self._lock:
            self.captures.setdefault(key, (payment_method.id, amount))
        return capture
