"""The amend session's dialogs: each a ``ModalScreen[T]`` that dismisses with what the agent chose.

Every dialog is keyboard-only, fits 80×24 (it scrolls where it must), closes with ``None`` on Escape
and dismisses with the engine's own values (:mod:`carecli.engine.commands`). They only *inform*
(limits, stage locks, money): whether an amendment is allowed is decided by the engine when it is
staged and by the backend when it is committed.

Untrusted text (product names, customer names, addresses, notes, problem sentences quoting what was
typed) is only ever shown through :func:`carecli.widgets.safe.text`; plain strings handed to widgets
here are constants written in this file.

Styles live in ``dialogs.tcss`` in this package; every dialog loads it through ``CSS_PATH`` (the
sheet is read once and its selectors all start at ``CareDialog`` so nothing leaks onto other screens).
"""

from .appeasement import AppeasementDialog, appeasement_granted
from .base import PRINTABLE, CareDialog
from .fulfilment import (
    MAJOR_TEXT, MINOR_TEXT, AddressDialog, PickupDialog, ShippingDialog, SwitchDialog, hours_text, shipping_fee_text,
)
from .lines import QuantityDialog, VariantDialog, floor_reason
from .session import CommitDialog, ConfirmDialog, ConflictDialog, conflict_text, money_effect

__all__ = [
    "MAJOR_TEXT", "MINOR_TEXT", "AddressDialog", "AppeasementDialog", "CareDialog", "CommitDialog", "ConfirmDialog", "ConflictDialog",
    "PRINTABLE", "PickupDialog", "QuantityDialog", "ShippingDialog", "SwitchDialog", "VariantDialog",
    "appeasement_granted", "conflict_text", "floor_reason", "hours_text", "money_effect", "shipping_fee_text",
]
