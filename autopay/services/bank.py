"""Bank drafts: the NACHA PPD debit file for the utility's bank, and the bank's returns."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.notifications import email_send, users_for_account
from autopay.models import AutopayDraft, AutopayEnrollment, BankAccount, BankDraftAgreement, BankPayment
from autopay.notification_kinds import PAYMENT_FAILED
from autopay.services.bank_accounts import autopay_stopped_lines, bank_account_end, live_debit_allowed
from autopay.services.drafts import autopay_draft_many, autopay_due
from autopay.services.scheduled import scheduled_payments_run
from billing.calendar import (
    banking_day_after,
    banking_day_before,
    banking_day_on_or_after,
    is_banking_day,
    local_today,
    parse_date,
)
from billing.models import LedgerEntry, Payment
from billing.services.ledger import Posting, ledger_post, ledger_reverse
from billing.services.payments import payment_settle_offline
from kernel.crypto import decrypt, key_is_newest, reencrypt
from kernel.csvimport import CsvImportError, read_csv
from kernel.errors import ApplicationError
from kernel.money import ZERO, money

RECORD_LENGTH = 94
BLOCKING_FACTOR = 10
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
    debits: list[BankPayment] = field(default_factory=list)
    prenotes: list[BankAccount] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """What a run record says of the file, e.g. "3 entries (2 paper drafts, 1 online bank
        payment, 0 prenotes), $148.50"."""
        return (
            f"{_count(self.entries, 'entry', 'entries')} ({_count(len(self.drafts), 'paper draft')}, "
            f"{_count(len(self.debits), 'online bank payment')}, {_count(len(self.prenotes), 'prenote')}), "
            f"${self.total:,.2f}"
        )


def _count(n: int, singular: str, plural: str = "") -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


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


def trace_numbers(count: int) -> list[str]:
    """New trace numbers: the bank's eight-digit number and seven digits from a sequence that runs
    on across files, so a return names one entry."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('autopay_ach_trace_seq') FROM generate_series(1, %s)", [count])
        numbers = [row[0] for row in cursor.fetchall()]
    return [f"{settings.NACHA_ORIGINATING_DFI}{_number(n, 7)}" for n in numbers]


def _entries_assign(*, on: dt.date) -> None:
    """Put into the file dated `on` what is due to go and not yet sent: the paper drafts dated
    `on`, the prenotes of new online bank accounts, and the online debits dated `on` or before
    (a day whose file was never sent is caught up) whose account's prenote wait is over. Each gets
    its trace number once, so writing the file again gives the same bytes."""
    if not is_banking_day(on):
        return
    scheduled_payments_run(on=on, bank_only=True)
    # Autopay from online bank accounts: the drafts dated `on` are made now, to go in this file.
    autopay_draft_many(due=autopay_due(on=on, bank_enrollments_only=True), on=on)
    with transaction.atomic():
        drafts = [d for d in bank_drafts_for(on=on) if not d.trace_number]
        for draft, trace in zip(drafts, trace_numbers(len(drafts)), strict=True):
            AutopayDraft.objects.filter(pk=draft.pk).update(trace_number=trace)
        prenotes = list(
            BankAccount.objects.select_for_update()
            .filter(
                status=BankAccount.Status.VALIDATING,
                prenote_file_date__isnull=True,
                removed_at__isnull=True,
                created_at__date__lte=on,
            )
            .order_by("pk")
        )
        for account, trace in zip(prenotes, trace_numbers(len(prenotes)), strict=True):
            BankAccount.objects.filter(pk=account.pk).update(prenote_trace=trace, prenote_file_date=on)
        locked = list(
            BankPayment.objects.select_for_update(of=("self",))
            .filter(
                file_date__isnull=True, payment__status=Payment.Status.PENDING, payment__received_on__lte=on
            )
            .select_related("bank_account")
            .order_by("pk")
        )
        # Read again once locked: a debit withdrawn (autopay cancelled, the account ended) while
        # this waited for the lock is left out.
        still_pending = set(
            Payment.objects.filter(
                pk__in=[d.payment_id for d in locked], status=Payment.Status.PENDING
            ).values_list("pk", flat=True)
        )
        debits = [
            debit
            for debit in locked
            if debit.payment_id in still_pending
            and live_debit_allowed(bank_account=debit.bank_account, on=on)
        ]
        for debit, trace in zip(debits, trace_numbers(len(debits)), strict=True):
            BankPayment.objects.filter(pk=debit.pk).update(trace_number=trace, file_date=on)
            # Its settlement date is the file's: it posts then.
            Payment.objects.filter(pk=debit.payment_id).update(received_on=on)


@dataclass
class _Entry:
    code: str
    routing: str
    account_number: str
    cents: int
    individual_id: str
    name: str
    discretionary: str
    trace: str


def _batch(*, number: int, sec: str, entries: list[_Entry], on: dt.date) -> tuple[list[str], int, int]:
    """One batch's records, with its entry hash and debit total in cents."""
    company_id = settings.NACHA_COMPANY_ID
    odfi = settings.NACHA_ORIGINATING_DFI
    entries = sorted(entries, key=lambda e: e.trace)  # NACHA: ascending trace order in a batch
    entry_hash = sum(int(e.routing[:8]) for e in entries)
    total = sum(e.cents for e in entries)
    records = [
        _line(
            "5",
            "225",
            _alpha(settings.UTILITY_SHORT_NAME, 16),
            " " * 20,
            _alpha(company_id, 10),
            sec,
            _alpha("UTIL BILL", 10),
            on.strftime("%y%m%d"),
            on.strftime("%y%m%d"),
            "   ",
            "1",
            _alpha(odfi, 8),
            _number(number, 7),
        )
    ]
    records += [
        _line(
            "6",
            e.code,
            e.routing[:8],
            e.routing[8],
            _alpha(e.account_number, 17),
            _number(e.cents, 10),
            _alpha(e.individual_id, 15),
            _alpha(e.name, 22),
            _alpha(e.discretionary, 2),
            "0",
            e.trace,
        )
        for e in entries
    ]
    records.append(
        _line(
            "8",
            "225",
            _number(len(entries), 6),
            _number(entry_hash % 10**10, 10),
            _number(total, 12),
            _number(0, 12),
            _alpha(company_id, 10),
            " " * 19,
            " " * 6,
            _alpha(odfi, 8),
            _number(number, 7),
        )
    )
    return records, entry_hash, total


def _debit_code(account_type: str, *, prenote: bool = False) -> str:
    checking = account_type == BankDraftAgreement.AccountType.CHECKING
    if prenote:
        return "28" if checking else "38"
    return "27" if checking else "37"


def nacha_build(*, on: dt.date) -> NachaFile:
    """The debit file for `on`: a PPD batch of the paper agreements' drafts and a WEB batch of the
    online bank accounts' prenotes and debits. The same entries give the same bytes. Nothing is
    built for a day without entries: banks refuse a batch with no entries."""
    _entries_assign(on=on)
    drafts = [d for d in bank_drafts_for(on=on) if d.trace_number]
    prenotes = list(BankAccount.objects.filter(prenote_file_date=on).order_by("pk"))
    debits = list(
        BankPayment.objects.filter(file_date=on)
        .select_related("bank_account", "payment__service_account")
        .order_by("pk")
    )
    if not (drafts or prenotes or debits):
        raise NoDrafts(on)
    batches = [
        (sec, entries)
        for sec, entries in (("PPD", _paper_entries(drafts)), ("WEB", _web_entries(prenotes, debits)))
        if entries
    ]
    records = [_file_header(on=on)]
    entry_hash = total = count = 0
    for number, (sec, entries) in enumerate(batches, start=1):
        batch_records, batch_hash, batch_total = _batch(number=number, sec=sec, entries=entries, on=on)
        records += batch_records
        entry_hash += batch_hash
        total += batch_total
        count += len(entries)
    blocks = -(-(len(records) + 1) // BLOCKING_FACTOR)  # the records with the control, in blocks of ten
    records.append(
        _file_control(batches=len(batches), blocks=blocks, count=count, entry_hash=entry_hash, total=total)
    )
    records += ["9" * RECORD_LENGTH] * (blocks * BLOCKING_FACTOR - len(records))
    return NachaFile(
        text="\n".join(records) + "\n",
        entries=count,
        total=Decimal(total) / 100,
        drafts=drafts,
        debits=debits,
        prenotes=prenotes,
    )


def _paper_entries(drafts) -> list[_Entry]:
    """The paper agreements' drafts (the PPD batch)."""
    return [
        _Entry(
            code=_debit_code(d.agreement.account_type),
            routing=d.agreement.routing_number,
            account_number=decrypt(d.agreement.account_number_encrypted),
            cents=_cents(d.amount or ZERO),
            individual_id=d.service_account.account_number,
            name=d.agreement.holder_name,
            discretionary="",
            trace=d.trace_number,
        )
        for d in drafts
    ]


def _web_entries(prenotes, debits) -> list[_Entry]:
    """The online bank accounts' zero-dollar prenotes, then their debits (the WEB batch)."""
    return [
        _Entry(
            code=_debit_code(a.account_type, prenote=True),
            routing=a.routing_number,
            account_number=decrypt(a.account_number_encrypted),
            cents=0,
            individual_id=f"PRENOTE {a.pk}",
            name=a.holder_name,
            discretionary="S",
            trace=a.prenote_trace,
        )
        for a in prenotes
    ] + [
        _Entry(
            code=_debit_code(d.bank_account.account_type),
            routing=d.bank_account.routing_number,
            account_number=decrypt(d.bank_account.account_number_encrypted),
            cents=d.payment.amount_cents,
            individual_id=d.payment.service_account.account_number,
            name=d.bank_account.holder_name,
            discretionary="R" if d.recurring else "S",  # WEB payment type: recurring or single
            trace=d.trace_number,
        )
        for d in debits
    ]


def _file_header(*, on: dt.date) -> str:
    created = banking_day_before(on)  # the file is sent the banking day before
    return _line(
        "1",
        "01",
        " " + _number(int(settings.NACHA_IMMEDIATE_DESTINATION), 9),
        _alpha(settings.NACHA_COMPANY_ID, 10),
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


def _file_control(*, batches: int, blocks: int, count: int, entry_hash: int, total: int) -> str:
    return _line(
        "9",
        _number(batches, 6),
        _number(blocks, 6),
        _number(count, 8),
        _number(entry_hash % 10**10, 10),
        _number(total, 12),
        _number(0, 12),
        " " * 39,
    )


def nacha_export(*, on: dt.date, path: str | Path) -> NachaFile:
    """Write the file. Its debits stay pending until their settlement date (the file's date) and
    post then: at once when that day has come, else by the daily run (bank_payments_settle)."""
    built = nacha_build(on=on)
    Path(path).write_text(built.text, encoding="ascii")
    bank_payments_settle(on=local_today())
    return built


def bank_payments_settle(*, on: dt.date) -> int:
    """Post every debit sent to the bank whose settlement date has come (paper drafts and online
    debits alike); verify the online accounts whose prenote wait is over. Returns how many posted."""
    posted = 0
    for draft in AutopayDraft.objects.filter(
        agreement__isnull=False, status=AutopayDraft.Status.CHARGING, draft_date__lte=on
    ).exclude(trace_number=""):
        with transaction.atomic():
            payment_settle_offline(payment=draft.payment)
            posted += AutopayDraft.objects.filter(pk=draft.pk, status=AutopayDraft.Status.CHARGING).update(
                status=AutopayDraft.Status.SUCCEEDED
            )
    for debit in BankPayment.objects.filter(
        file_date__lte=on, payment__status=Payment.Status.PENDING
    ).select_related("payment"):
        payment_settle_offline(payment=debit.payment)
        posted += 1
    # Autopay drafts from online bank accounts are paid once their debit has settled.
    AutopayDraft.objects.filter(
        enrollment__isnull=False,
        status=AutopayDraft.Status.CHARGING,
        payment__method=Payment.Method.BANK,
        payment__status=Payment.Status.SUCCEEDED,
    ).update(status=AutopayDraft.Status.SUCCEEDED, failure_message="")
    for account in BankAccount.objects.filter(
        status=BankAccount.Status.VALIDATING, prenote_file_date__isnull=False
    ):
        if on >= banking_day_after(account.prenote_file_date, settings.BANK_PRENOTE_WAIT_DAYS):
            BankAccount.objects.filter(pk=account.pk, status=BankAccount.Status.VALIDATING).update(
                status=BankAccount.Status.VERIFIED, verified_on=on
            )
    return posted


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
        # Trace numbers start again after ten million: the latest entry with the number is meant.
        draft = (
            AutopayDraft.objects.filter(trace_number=trace, agreement__isnull=False).order_by("-pk").first()
        )
        debit = BankPayment.objects.filter(trace_number=trace).order_by("-pk").first()
        prenote = BankAccount.objects.filter(prenote_trace=trace).order_by("-pk").first()
        if draft is not None:
            returned = ach_return_post(draft=draft, code=code, returned_on=returned_on)
            deactivates = code in DEACTIVATING_RETURN_CODES
        elif debit is not None:
            returned = bank_payment_return(debit=debit, code=code, returned_on=returned_on)
            deactivates = code in DEACTIVATING_RETURN_CODES
        elif prenote is not None:
            returned = prenote_return(bank_account=prenote, code=code, returned_on=returned_on)
            deactivates = True
        else:
            result.unknown.append(f"line {line}: no draft has trace number {trace}")
            continue
        if returned:
            result.returned += 1
            result.deactivated += int(deactivates)
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
        payment = Payment.objects.select_for_update().get(pk=draft.payment_id)
        _returned_payment_reverse(
            payment=payment,
            code=code,
            reason=reason,
            returned_on=returned_on,
            key=str(draft.pk),
            what="Bank draft",
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
    _draft_returned_tell(draft, code=code, reason=reason, returned_on=returned_on, deactivated=deactivate)
    return True


def _draft_returned_tell(draft, *, code: str, reason: str, returned_on: dt.date, deactivated: bool) -> None:
    """The customer is told of a returned draft (and of the agreement's end); the clerks of the end."""
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
    if deactivated:
        lines.append(
            _(
                "Because of this, your Preauthorized Payments Agreement has ended; no more drafts will be made."
            )
        )
    email_send(
        kind=PAYMENT_FAILED,
        subject=format_lazy(_("Bank draft returned for account {number}"), number=account.account_number),
        template="emails/notice",
        context={"lines": lines},
        users=users_for_account(service_account=account),
        addresses=[account.email] if account.email else [],
        account_number=account.account_number,
        reference=f"draft:{draft.pk}:return",
    )
    if deactivated:
        _agreement_ended_tell_clerks(draft, code=code, reason=reason, returned_on=returned_on)


def _agreement_ended_tell_clerks(draft, *, code: str, reason: str, returned_on: dt.date) -> None:
    account = draft.service_account
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


def bank_numbers_reencrypt(*, chunk_size: int = 500) -> tuple[int, int]:
    """Put every stored bank account number (paper agreements and accounts added online) under the
    newest PORTAL_ENCRYPTION_KEY key.

    Returns (re-encrypted, already under the newest key). Safe to run again and to stop: each
    chunk commits on its own, and a second run finds everything done. The numbers are never
    decrypted into anything but memory.
    """
    done = unchanged = 0
    for model in (BankDraftAgreement, BankAccount):
        changed, same = _reencrypt_model(model, chunk_size=chunk_size)
        done, unchanged = done + changed, unchanged + same
    return done, unchanged


def _reencrypt_model(model, *, chunk_size: int) -> tuple[int, int]:
    done = unchanged = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            chunk = list(
                model.objects.select_for_update()
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .only("pk", "account_number_encrypted")[:chunk_size]
            )
            if not chunk:
                return done, unchanged
            changed = []
            for row in chunk:
                if key_is_newest(row.account_number_encrypted):
                    unchanged += 1
                    continue
                row.account_number_encrypted = reencrypt(row.account_number_encrypted)
                changed.append(row)
            model.objects.bulk_update(changed, ["account_number_encrypted"])
            done += len(changed)
            last_pk = chunk[-1].pk


def _returned_payment_reverse(
    *, payment: Payment, code: str, reason: str, returned_on: dt.date, key: str, what: str = "Bank payment"
) -> None:
    """Within the caller's transaction: take a returned debit off the ledger (when it had posted)
    and add the returned-payment fee where the utility charges one."""
    if payment.ledger_entry_id:
        ledger_reverse(
            entry=payment.ledger_entry,
            posted_on=returned_on,
            source_key=f"ach-return:{key}",
            description=f"{what} returned ({code}: {reason})",
        )
        fee = returned_payment_fee()
        if fee > 0:
            ledger_post(
                postings=[
                    Posting(
                        service_account_id=payment.service_account_id,
                        kind=LedgerEntry.Kind.ADJUSTMENT,
                        amount=fee,
                        posted_on=returned_on,
                        due_date=returned_on,
                        description=f"Returned payment fee ({code})",
                        source_key=f"ach-return-fee:{key}",
                    )
                ]
            )
    Payment.objects.filter(pk=payment.pk).update(
        status=Payment.Status.RETURNED, failure_message=f"{code}: {reason}"
    )


def bank_payment_return(*, debit: BankPayment, code: str, returned_on: dt.date) -> bool:
    """Reverse one returned online debit; False when it was returned before. R02, R03, R04 and the
    unauthorized codes end the bank account (debits not yet sent from it are cancelled)."""
    reason = RETURN_REASONS.get(code, "returned by the bank")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=debit.payment_id)
        if payment.status == Payment.Status.RETURNED:
            return False
        _returned_payment_reverse(
            payment=payment, code=code, reason=reason, returned_on=returned_on, key=f"bank-payment:{debit.pk}"
        )
        AutopayDraft.objects.filter(payment=payment).update(
            status=AutopayDraft.Status.RETURNED, failure_message=f"{code}: {reason}"
        )
        deactivate = code in DEACTIVATING_RETURN_CODES
        stopped = []
        if deactivate:
            stopped = bank_account_end(
                bank_account=debit.bank_account, reason=f"{code}: {reason}", returned_on=returned_on
            ).autopay_stopped
    account = payment.service_account
    lines = [
        format_lazy(
            _("Your bank returned the payment of {amount} for account {number}: {reason}."),
            amount=money(payment.amount),
            number=account.account_number,
            reason=reason,
        ),
        _("The amount is owed again. Please pay online or call us."),
    ]
    if returned_payment_fee() > 0 and payment.ledger_entry_id:
        lines.insert(
            1,
            format_lazy(
                _("A returned payment fee of {fee} was added to the account."),
                fee=money(returned_payment_fee()),
            ),
        )
    if deactivate:
        lines.append(
            format_lazy(
                _("Because of this, your {bank} can no longer be used for payments; please add another."),
                bank=debit.bank_account,
            )
        )
    lines += autopay_stopped_lines(stopped)
    email_send(
        kind=PAYMENT_FAILED,
        subject=format_lazy(_("Bank payment returned for account {number}"), number=account.account_number),
        template="emails/notice",
        context={"lines": lines},
        users=[debit.bank_account.user],
        required=True,
        account_number=account.account_number,
        reference=f"payment:{payment.pk}:return",
    )
    return True


def prenote_return(*, bank_account: BankAccount, code: str, returned_on: dt.date) -> bool:
    """The bank returned the zero-dollar test of a new account: whatever the code, the account
    cannot be debited; payments waiting on it are cancelled and the customer is told."""
    reason = RETURN_REASONS.get(code, "returned by the bank")
    with transaction.atomic():
        # The lock order of claims and bank_account_end: the enrollments using the bank account
        # before the bank account (the other way round, a draft claimed at the same moment would
        # deadlock with this).
        list(
            AutopayEnrollment.objects.select_for_update()
            .filter(bank_account_id=bank_account.pk, status=AutopayEnrollment.Status.ACTIVE)
            .order_by("pk")
        )
        account = BankAccount.objects.select_for_update().get(pk=bank_account.pk)
        if account.status == BankAccount.Status.ENDED:
            return False
        ended = bank_account_end(
            bank_account=account, reason=f"prenote {code}: {reason}", returned_on=returned_on
        )
    email_send(
        kind=PAYMENT_FAILED,
        subject=_("We could not use your bank account"),
        template="emails/notice",
        context={
            "lines": [
                format_lazy(
                    _("Your bank answered our test entry to your {bank}: {reason}."),
                    bank=account,
                    reason=reason,
                ),
                _(
                    "Payments from it that were waiting are cancelled and nothing was taken. Please check "
                    "the numbers and add the account again, or pay another way."
                ),
                *autopay_stopped_lines(ended.autopay_stopped),
            ]
        },
        users=[account.user],
        required=True,
        reference=f"bank-account:{account.pk}:prenote-return",
    )
    return True
