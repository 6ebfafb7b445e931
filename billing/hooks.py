"""Places where apps built on billing add to what it does, without billing importing them."""

from collections.abc import Callable

# Each provider: (account_ids=..., period=..., issued_on=...) -> {account_id: [note, ...]}.
# The bill run prints the notes on each bill (for example a payment plan's installment).
BILL_NOTE_PROVIDERS: list[Callable] = []


def register_bill_notes(provider: Callable) -> None:
    if provider not in BILL_NOTE_PROVIDERS:
        BILL_NOTE_PROVIDERS.append(provider)
