"""Bank drafts: the NACHA PPD debit file for the utility's bank, and the bank's returns."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import NotificationKind
from accounts.notifications import email_send, users_for_account
from autopay.models import AutopayDraft, BankDraftAgreement
from billing.calendar import banking_day_before, banking_day_on_or_after, is_banking_day, parse_date
from billing.models import LedgerEntry, Payment
from billing.services.ledger import Posting, ledger_post, ledger_reverse
from billing.services.payments import payment_settle_offline
from portal.crypto import decrypt, key_is_newest, reencrypt
from portal.csvimport import CsvImportError, read_csv
from portal.errors import ApplicationError
from portal.money import ZERO, money

RECORD_LENGTH = 94
BLOCKING_FACTOR = 10
# Returns that mean the agreement can no longer be used.
# Returns that mean the agreement can no longer be used: the account is closed, not found or
# invalid (R02, R03, R04), or the customer says the debit was not authorized (R05, R07, R10, R11,
# R29, R51: NACHA's unauthorized return codes).
DEACTIVATING_RETURN_CODES = {"R02", "R03", "R04", "R05", "R07", "R10", "R11", "R29", "R51"}
RETURN_REASONS = {
    "R01": "insufficient funds",
    "R02": "the bank account is closed",
    "R03": "no account, or the account could not be found",
    "R04": "the account number is not valid",
    "R07": "the account holder revoked the authorization",
    "R08": "payment stopped",
    "R09": "uncollected funds",
    "R10": "the customer says the draft was not authorized",
    "R05": "the customer says the debit to a business account was not authorized",
    "R11": "the customer says the draft did not follow the authorization",
    "R29": "the business account holder says the draft was not authorized",
    "R51": "the customer says the draft was not authorized or not eligible",
}


def _alpha(value: str, width: int) -> str:
    """Left-justified, upper case, plain ASCII, cut or padded to width."""
    text = value.upper().encode("ascii", "replace").decode().replace("?", " ")
    return text[:width].ljust(width)


def _number(value: int, width: int) -> str:
    text = str(value)
    if len(text) > width:
        raise ApplicationError(f"{value} does not fit in {width} digits.")
    return text.rjust(width, "0")


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _line(*parts: str) -> str:
    line = "".join(parts)
    if len(line) != RECORD_LENGTH:
        raise AssertionError(f"NACHA record is {len(line)} characters, not 94: {line!r}")
    return line


@dataclass
class NachaFile:
    text: str
    entries: int
    total: Decimal
    drafts: list[AutopayDraft] = field(default_factory=list)


def bank_drafts_for(*, on: dt.date) -> list[AutopayDraft]:
    return list(
        AutopayDraft.objects.filter(agreement__isnull=False, draft_date=on)
        .exclude(status__in=["skipped", "scheduled"])
        .select_related("agreement", "service_account", "payment")
        .order_by("pk")
    )


class NoDrafts(ApplicationError):
    def __init__(self, on: dt.date):
        if is_banking_day(on):
            message = f"No bank drafts are dated {on}: no file was written (banks refuse an empty batch)."
        else:
            message = (
                f"{on} is not a banking day: bank drafts meant for it are dated {banking_day_on_or_after(on)}. "
                "No file was written."
            )
        super().__init__(message)


def nacha_build(*, on: dt.date) -> NachaFile:
    """The PPD debit file for the bank drafts dated `on`. The same drafts give the same bytes.
    Nothing is built for a day without drafts: banks refuse a batch with no entries."""
    drafts = bank_drafts_for(on=on)
    if not drafts:
        raise NoDrafts(on)
    odfi = settings.NACHA_ORIGINATING_DFI
    company_id = settings.NACHA_COMPANY_ID
    company_name = settings.UTILITY_SHORT_NAME
    created = banking_day_before(on)  # the file is sent the banking day before
    records = [
        _line(
            "1",
            "01",
            " " + _number(int(settings.NACHA_IMMEDIATE_DESTINATION), 9),
            _alpha(company_id, 10),
            created.strftime("%y%m%d"),
            "0600",
            "A",
            "094",
            "10",
            "1",
            _alpha(settings.NACHA_IMMEDIATE_DESTINATION_NAME, 23),
            _alpha(settings.UTILITY_NAME, 23),
            " " * 8,
        )
    ]
    entries, entry_hash, total = [], 0, 0
    for sequence, draft in enumerate(drafts, start=1):
        agreement = draft.agreement
        amount = _cents(draft.amount or ZERO)
        trace = f"{odfi}{_number(sequence, 7)}"
        code = "27" if agreement.account_type == BankDraftAgreement.AccountType.CHECKING else "37"
        entries.append(
            _line(
                "6",
                code,
                agreement.routing_number[:8],
                agreement.routing_number[8],
                _alpha(decrypt(agreement.account_number_encrypted), 17),
                _number(amount, 10),
                _alpha(draft.service_account.account_number, 15),
                _alpha(agreement.holder_name, 22),
                "  ",
                "0",
                trace,
            )
        )
        entry_hash += int(agreement.routing_number[:8])
        total += amount
        draft.trace_number = trace
    hash_text = _number(entry_hash % 10**10, 10)
    records.append(
        _line(
            "5",
            "225",
            _alpha(company_name, 16),
            " " * 20,
            _alpha(company_id, 10),
            "PPD",
            _alpha("UTIL BILL", 10),
            on.strftime("%y%m%d"),
            on.strftime("%y%m%d"),
            "   ",
            "1",
            _alpha(odfi, 8),
            _number(1, 7),
        )
    )
    records += entries
    records.append(
        _line(
            "8",
            "225",
            _number(len(entries), 6),
            hash_text,
            _number(total, 12),
            _number(0, 12),
            _alpha(company_id, 10),
            " " * 19,
            " " * 6,
            _alpha(odfi, 8),
            _number(1, 7),
        )
    )
    record_count = len(records) + 1
    blocks = -(-record_count // BLOCKING_FACTOR)
    records.append(
        _line(
            "9",
            _number(1, 6),
            _number(blocks, 6),
            _number(len(entries), 8),
            hash_text,
            _number(total, 12),
            _number(0, 12),
            " " * 39,
        )
    )
    records += ["9" * RECORD_LENGTH] * (blocks * BLOCKING_FACTOR - len(records))
    return NachaFile(
        text="\n".join(records) + "\n", entries=len(entries), total=Decimal(total) / 100, drafts=drafts
    )


def nacha_export(*, on: dt.date, path: str | Path) -> NachaFile:
    """Write the file and post the drafts in it as payments (once: a second export posts nothing)."""
    built = nacha_build(on=on)
    Path(path).write_text(built.text, encoding="ascii")
    for draft in built.drafts:
        with transaction.atomic():
            AutopayDraft.objects.filter(pk=draft.pk).update(trace_number=draft.trace_number)
            if draft.status == AutopayDraft.Status.CHARGING:
                payment_settle_offline(payment=draft.payment)
                AutopayDraft.objects.filter(pk=draft.pk).update(status=AutopayDraft.Status.SUCCEEDED)
    return built


@dataclass
class ReturnsResult:
    returned: int = 0
    deactivated: int = 0
    unknown: list[str] = field(default_factory=list)


def ach_returns_import(*, path: str | Path) -> ReturnsResult:
    """The bank's returns: `trace_number,return_code,date`. Each returned draft is reversed on the
    ledger; R02, R03, R07 and R10 also end the agreement and tell the customer and the clerks."""
    csv_file = read_csv(path, required=["trace_number", "return_code", "date"], optional=[])
    errors, rows = [], []
    for row in csv_file.rows:
        code = row["return_code"].upper()
        returned_on = parse_date(row["date"])
        problems = []
        if not (len(code) == 3 and code[0] == "R" and code[1:].isdigit()):
            problems.append(f"return_code {row['return_code']!r} is not a code like R01")
        if returned_on is None:
            problems.append(f"date {row['date']!r} is not a date like 2026-07-22")
        errors.extend(f"line {row.line}: {p}" for p in problems)
        if not problems:
            rows.append((row.line, row["trace_number"], code, returned_on))
    if errors:
        raise CsvImportError(errors)
    result = ReturnsResult()
    for line, trace, code, returned_on in rows:
        draft = AutopayDraft.objects.filter(trace_number=trace, agreement__isnull=False).first()
        if draft is None:
            result.unknown.append(f"line {line}: no draft has trace number {trace}")
            continue
        if ach_return_post(draft=draft, code=code, returned_on=returned_on):
            result.returned += 1
            result.deactivated += int(code in DEACTIVATING_RETURN_CODES)
    return result


def returned_payment_fee() -> Decimal:
    text = (settings.RETURNED_PAYMENT_FEE or "").strip()
    return Decimal(text) if text else ZERO


def ach_return_post(*, draft: AutopayDraft, code: str, returned_on: dt.date) -> bool:
    """Reverse one returned draft; False when it was returned before."""
    reason = RETURN_REASONS.get(code, "returned by the bank")
    with transaction.atomic():
        draft = AutopayDraft.objects.select_for_update().get(pk=draft.pk)
        if draft.status == AutopayDraft.Status.RETURNED:
            return False
        payment = draft.payment
        if payment.ledger_entry_id:
            ledger_reverse(
                entry=payment.ledger_entry,
                posted_on=returned_on,
                source_key=f"ach-return:{draft.pk}",
                description=f"Bank draft returned ({code}: {reason})",
            )
            fee = returned_payment_fee()
            if fee > 0:
                ledger_post(
                    postings=[
                        Posting(
                            service_account_id=draft.service_account_id,
                            kind=LedgerEntry.Kind.ADJUSTMENT,
                            amount=fee,
                            posted_on=returned_on,
                            due_date=returned_on,
                            description=f"Returned payment fee ({code})",
                            source_key=f"ach-return-fee:{draft.pk}",
                        )
                    ]
                )
        Payment.objects.filter(pk=payment.pk).update(
            status=Payment.Status.RETURNED, failure_message=f"{code}: {reason}"
        )
        AutopayDraft.objects.filter(pk=draft.pk).update(
            status=AutopayDraft.Status.RETURNED, failure_message=f"{code}: {reason}"
        )
        deactivate = code in DEACTIVATING_RETURN_CODES
        if deactivate:
            BankDraftAgreement.objects.filter(pk=draft.agreement_id).update(
                status=BankDraftAgreement.Status.INACTIVE,
                inactive_reason=f"{code} on {returned_on}: {reason}",
            )
    account = draft.service_account
    lines = [
        format_lazy(
            _("Your bank returned the draft of {amount} for account {number}: {reason}."),
            amount=money(draft.amount),
            number=account.account_number,
            reason=reason,
        ),
        _("The amount is owed again. Please pay online or call us."),
    ]
    if returned_payment_fee() > 0:
        lines.insert(
            1,
            format_lazy(
                _("A returned payment fee of {fee} was added to the account."),
                fee=money(returned_payment_fee()),
            ),
        )
    if deactivate:
        lines.append(
            _(
                "Because of this, your Preauthorized Payments Agreement has ended; no more drafts will be made."
            )
        )
    email_send(
        kind=NotificationKind.PAYMENT_FAILED,
        subject=format_lazy(_("Bank draft returned for account {number}"), number=account.account_number),
        template="emails/notice",
        context={"lines": lines},
        users=users_for_account(service_account=account),
        addresses=[account.email] if account.email else [],
        account_number=account.account_number,
        reference=f"draft:{draft.pk}:return",
    )
    if deactivate:
        clerks = Group.objects.filter(name="Clerks").first()
        email_send(
            kind="staff",
            subject=f"Bank draft agreement ended: {account.account_number} ({code})",
            template="emails/notice",
            context={
                "lines": [
                    f"The bank returned draft {draft.trace_number} for account {account.account_number} "
                    f"with {code} ({reason}) on {returned_on}. The agreement is now inactive."
                ]
            },
            users=list(clerks.user_set.filter(is_active=True)) if clerks else [],
            required=True,
            account_number=account.account_number,
            reference=f"draft:{draft.pk}:return-staff",
        )
    return True


def bank_numbers_reencrypt(*, chunk_size: int = 500) -> tuple[int, int]:
    """Put every stored bank account number under the newest PORTAL_ENCRYPTION_KEY key.

    Returns (re-encrypted, already under the newest key). Safe to run again and to stop: each
    chunk commits on its own, and a second run finds everything done. The numbers are never
    decrypted into anything but memory.
    """
    done = unchanged = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            chunk = list(
                BankDraftAgreement.objects.select_for_update()
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .only("pk", "account_number_encrypted")[:chunk_size]
            )
            if not chunk:
                return done, unchanged
            changed = []
            for agreement in chunk:
                if key_is_newest(agreement.account_number_encrypted):
                    unchanged += 1
                    continue
                agreement.account_number_encrypted = reencrypt(agreement.account_number_encrypted)
                changed.append(agreement)
            BankDraftAgreement.objects.bulk_update(changed, ["account_number_encrypted"])
            done += len(changed)
            last_pk = chunk[-1].pk
