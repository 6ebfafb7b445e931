"""Places where apps built on billing add to what it does, without billing importing them."""

from collections.abc import Callable

# Each provider: (account_ids=..., period=..., issued_on=...) -> {account_id: [note, ...]}.
# The bill run prints the notes on each bill (for example a payment plan's installment).
BILL_NOTE_PROVIDERS: list[Callable] = []


def register_bill_notes(provider: Callable) -> None:
    if provider not in BILL_NOTE_PROVIDERS:
        BILL_NOTE_PROVIDERS.append(provider)


# Each provider: (service_account=..., today=..., user=...) -> {"template": ..., "context": {...}}.
# The account page shows each section (for example certified charges and the delinquency timeline).
ACCOUNT_PAGE_SECTIONS: list[Callable] = []


def register_account_page_section(provider: Callable) -> None:
    if provider not in ACCOUNT_PAGE_SECTIONS:
        ACCOUNT_PAGE_SECTIONS.append(provider)


# Each provider: (service_account=...) -> [(label, text), ...]: what the staff account page
# shows about the account from an app built on billing (autopay, a payment plan, certification).
STAFF_ACCOUNT_FLAGS: list[Callable] = []


def register_staff_account_flags(provider: Callable) -> None:
    if provider not in STAFF_ACCOUNT_FLAGS:
        STAFF_ACCOUNT_FLAGS.append(provider)


# Each provider: (user=...) -> [{"label": ..., "count": ..., "url": ...}, ...]: work waiting for
# staff, shown on the staff home to those whose role may do it.
STAFF_QUEUES: list[Callable] = []


def register_staff_queues(provider: Callable) -> None:
    if provider not in STAFF_QUEUES:
        STAFF_QUEUES.append(provider)


# Each provider: (account_ids=..., as_of=...) -> set of account ids the delinquent worklist leaves
# off (an account on a payment plan in good standing is being paid down as agreed).
WORKLIST_EXCLUSIONS: list[Callable] = []


def register_worklist_exclusions(provider: Callable) -> None:
    if provider not in WORKLIST_EXCLUSIONS:
        WORKLIST_EXCLUSIONS.append(provider)


# Each provider: (old=..., new=..., by=...) -> [text, ...]: what an app built on billing moves to
# the new account when a customer moves within the service area (autopay moves with them). Each
# text is for the customer's email and may be lazy (translated per reader).
ACCOUNT_TRANSFER_PROVIDERS: list[Callable] = []


def register_account_transfer(provider: Callable) -> None:
    if provider not in ACCOUNT_TRANSFER_PROVIDERS:
        ACCOUNT_TRANSFER_PROVIDERS.append(provider)


# Each provider: (service_account=..., user=...) -> [{"label": ..., "url": ...}, ...]: actions an
# app built on billing offers on the staff account page (a payment plan agreed on the phone).
STAFF_ACCOUNT_ACTIONS: list[Callable] = []


def register_staff_account_actions(provider: Callable) -> None:
    if provider not in STAFF_ACCOUNT_ACTIONS:
        STAFF_ACCOUNT_ACTIONS.append(provider)


# Each provider: () -> {"title": ..., "rows": [(label, value text), ...]}: a table of key figures
# an app built on billing adds to the finance home (autopay enrollment, certified totals).
FINANCE_FIGURES: list[Callable] = []


def register_finance_figures(provider: Callable) -> None:
    if provider not in FINANCE_FIGURES:
        FINANCE_FIGURES.append(provider)


# Each provider: (service_account=...) -> [{"label": ..., "url": ...}, ...]: other ways to pay an
# account that an app built on billing offers on the card payment page (a bank account, a later date).
PAY_PAGE_LINKS: list[Callable] = []


def register_pay_page_links(provider: Callable) -> None:
    if provider not in PAY_PAGE_LINKS:
        PAY_PAGE_LINKS.append(provider)


# Each provider: () -> {"label": ..., "path": ...}: where a customer behind on a bill finds help
# (bill assistance and payment plans), linked from the dashboard, the bill page and the bill email.
PAST_DUE_HELP: list[Callable] = []


def register_past_due_help(provider: Callable) -> None:
    if provider not in PAST_DUE_HELP:
        PAST_DUE_HELP.append(provider)


def past_due_help() -> list[dict]:
    return [provider() for provider in PAST_DUE_HELP]


# Each provider: (user=...) -> [{"label": ..., "url": ...}, ...]: pages of an app built on billing
# listed on the staff home for those whose role may open them (the tax lots).
STAFF_HOME_LINKS: list[Callable] = []


def register_staff_home_links(provider: Callable) -> None:
    if provider not in STAFF_HOME_LINKS:
        STAFF_HOME_LINKS.append(provider)
