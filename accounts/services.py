import hmac
import re
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import ACCESS_CODE_LENGTH, AccountLink, ServiceAccount, User, access_code_new
from accounts.notifications import LOGIN, email_send, users_for_account
from accounts.selectors import account_number_key, service_account_find_by_number
from kernel.audit import audit_record
from kernel.csvimport import CsvRow, CsvStream, ImportSummary, csv_stage
from kernel.errors import ApplicationError
from kernel.i18n import local_date

LINK_MISMATCH_MESSAGE = _(
    "Those details do not match our records. Check the account number, service ZIP code and access code "
    "on your bill and try again."
)


def access_code_matches(*, account: ServiceAccount, typed: str) -> bool:
    """The code as printed ("K7QM-4XPT") or typed any other way ("k7qm 4xpt"), compared in
    constant time so the answer's timing says nothing about how much of it was right."""
    typed_key = account_number_key(typed)
    if len(typed_key) != ACCESS_CODE_LENGTH or len(account.access_code) != ACCESS_CODE_LENGTH:
        return False
    return hmac.compare_digest(typed_key.encode(), account.access_code.upper().encode())


def service_account_link(
    *, user: User, account_number: str, service_zip: str, access_code: str
) -> tuple[ServiceAccount, bool]:
    """Give a login access to a service account that the customer proves they hold.

    The customer gives the account number, the service ZIP code and the access code, all
    printed on the bill: the number and ZIP code are easy to guess, the code is not. A wrong
    answer never says which detail was wrong. Linking twice is harmless: it returns the
    existing link with created=False.
    """
    zip5 = (service_zip or "").strip()[:5]
    account = service_account_find_by_number(number=account_number)
    if (
        account is None
        or account.service_zip != zip5
        or not access_code_matches(account=account, typed=access_code)
    ):
        raise ApplicationError(LINK_MISMATCH_MESSAGE)
    _link, created = AccountLink.objects.get_or_create(user=user, service_account=account)
    if created:
        _tell_linked_logins(account=account, new_user=user)
    return account, created


def service_accounts_new_access_codes(*, accounts, by: User) -> int:
    """Replace the access codes of these accounts (a code that got out, a former tenant who
    kept old bills). Existing links stay; the new code is printed on the next bill."""
    count = 0
    with transaction.atomic():
        for account in accounts.select_for_update():
            account.access_code = access_code_new()
            account.save(update_fields=["access_code", "updated_at"])
            audit_record(
                actor=by,
                action="account.access_code",
                target=account,
                summary=f"{by.email} issued a new access code for account {account.account_number}",
                account_number=account.account_number,
            )
            count += 1
    return count


def mask_email(address: str) -> str:
    """j***@example.com: enough for someone to recognise, not to read off."""
    local, _at, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def _tell_linked_logins(*, account: ServiceAccount, new_user: User) -> None:
    """Everyone already linked to the account hears of a new login on it, whatever their
    switches: a stranger who guessed their way in is found out by the people it would hurt."""
    others = [u for u in users_for_account(service_account=account) if u.pk != new_user.pk]
    if not others:
        return
    email_send(
        kind=LOGIN,
        subject=format_lazy(_("A login was added to account {number}"), number=account.account_number),
        template="emails/notice",
        context={
            "lines": [
                format_lazy(
                    _(
                        "{email} linked account {number} to their login on {date}. They can see the account "
                        "and pay its bills."
                    ),
                    email=mask_email(new_user.email),
                    number=account.account_number,
                    date=local_date(timezone.localdate()),
                ),
                _("If you do not know who this is, call us: we will remove the link."),
            ]
        },
        users=others,
        required=True,
        reference=f"link:{account.pk}:{new_user.pk}",
        account_number=account.account_number,
    )


def service_account_unlink(*, user: User, service_account: ServiceAccount) -> None:
    """Remove this login's access to a service account. Other logins keep theirs."""
    AccountLink.objects.filter(user=user, service_account=service_account).delete()


# --- import_accounts -------------------------------------------------------------

ACCOUNT_COLUMNS_REQUIRED = ["account_number", "customer_name", "service_address", "service_zip", "tax_lot"]
MAILING_COLUMNS = ["mailing_name", "mailing_address", "mailing_city", "mailing_state", "mailing_zip"]
NEWER_COLUMNS = ["service_state", *MAILING_COLUMNS]
ACCOUNT_COLUMNS_OPTIONAL = ["service_city", "email", "phone", "status", *NEWER_COLUMNS]
ACCOUNT_FIELDS = ACCOUNT_COLUMNS_REQUIRED + ACCOUNT_COLUMNS_OPTIONAL
# Who the account is: changing one of these moves bills, certification and quick pay with it.
IDENTITY_FIELDS = ("account_number", "tax_lot", "customer_name")


def _account_row_values(row) -> tuple[dict, list[str]]:
    """One accounts.csv row's values (state and status written the one way) and its problems."""
    values = {name: row[name] for name in ACCOUNT_FIELDS}
    values["status"] = values["status"].lower() or ServiceAccount.Status.ACTIVE
    values["service_state"] = values["service_state"].upper() or settings.UTILITY_STATE
    values["mailing_state"] = values["mailing_state"].upper()
    problems = []
    for name in ACCOUNT_COLUMNS_REQUIRED:
        if not values[name]:
            problems.append(f"{name} is required")
    for name in ACCOUNT_FIELDS:
        limit = ServiceAccount._meta.get_field(name).max_length
        if limit and len(values[name]) > limit:
            problems.append(f"{name} is longer than {limit} characters")
    if values["account_number"] and re.search(r"\s", values["account_number"]):
        problems.append(f"account_number {values['account_number']!r} contains a space")
    if values["service_zip"] and not re.fullmatch(r"[0-9]{5}", values["service_zip"]):
        problems.append(f"service_zip {values['service_zip']!r} is not a 5-digit ZIP code")
    for name in ("service_state", "mailing_state"):
        if values[name] and not re.fullmatch(r"[A-Z]{2}", values[name]):
            problems.append(f"{name} {values[name]!r} is not a two-letter state like OR")
    if values["mailing_zip"] and not re.fullmatch(r"[0-9]{5}(-[0-9]{4})?", values["mailing_zip"]):
        problems.append(f"mailing_zip {values['mailing_zip']!r} is not a 5-digit ZIP code or ZIP+4")
    given = [name for name in MAILING_COLUMNS if values[name]]
    missing = [name for name in MAILING_COLUMNS[1:] if not values[name]]
    if given and missing:
        problems.append(
            f"a mailing address needs {', '.join(missing)} too (or leave every mailing column empty)"
        )
    if values["status"] not in ServiceAccount.Status.values:
        problems.append(f"status {values['status']!r} is not one of: active, closed")
    if values["email"]:
        try:
            validate_email(values["email"])
        except ValidationError:
            problems.append(f"email {values['email']!r} is not a valid email address")
    return values, problems


ACCOUNT_STAGING = [("line", "integer"), ("ok", "boolean"), ("access_code", "text")] + [
    (name, "text") for name in ACCOUNT_FIELDS
]

# Rows whose account_number appeared on an earlier line, as (line, order, message).
ACCOUNT_REPEATS_SQL = """
SELECT line, 1, 'account_number ' || account_number || ' already appears on line ' || first
FROM (SELECT line, account_number, min(line) OVER (PARTITION BY account_number) AS first
      FROM import_accounts WHERE account_number <> '') numbered
WHERE line > first
"""


def service_accounts_import(*, path: str | Path) -> ImportSummary:
    """Upsert service accounts from accounts.csv: all rows or none.

    Every problem is reported with its line number before anything is written. A second
    import of the same file finds every row unchanged and writes nothing. The file is streamed:
    each row is checked as it is read and COPYed to a staging table; repeated numbers are found
    and the accounts written set-based in SQL.
    """
    with (
        transaction.atomic(),
        CsvStream(path, required=ACCOUNT_COLUMNS_REQUIRED, optional=ACCOUNT_COLUMNS_OPTIONAL) as stream,
    ):
        problems: list[tuple[int, int, str]] = []
        csv_stage(
            stream,
            table="import_accounts",
            columns=ACCOUNT_STAGING,
            rows=_account_rows(stream, problems),
            problems=problems,
            checks_sql=ACCOUNT_REPEATS_SQL,
            empty="the file has no account rows",
        )
        with connection.cursor() as cursor:
            # The columns added later (state, mailing address) change an account only when the
            # file has them: an older export must not erase what a clerk typed in.
            compared = [
                name for name in ACCOUNT_FIELDS if name not in NEWER_COLUMNS or name in stream.columns
            ]
            return _accounts_write(cursor, "import_accounts", compared, ignored=stream.ignored_columns)


def _account_rows(stream: CsvStream, problems: list):
    """Each accounts.csv row checked on its own, for the staging table."""
    for line, cells in stream:
        values, found = _account_row_values(
            CsvRow(line=line, values=dict(zip(stream.columns, cells, strict=True)))
        )
        problems.extend((line, 0, problem) for problem in found)
        yield [line, not found, access_code_new(), *(values[name] for name in ACCOUNT_FIELDS)]


def _accounts_write(cursor, staging: str, compared: list[str], *, ignored: list[str]) -> ImportSummary:
    """Lock the accounts the file updates, audit changes to who they are, then update the
    changed ones and create the new ones, each in one statement."""
    differs = " OR ".join(f"a.{name} IS DISTINCT FROM s.{name}" for name in compared)
    cursor.execute(
        "SELECT count(*) FROM (SELECT a.id FROM accounts_serviceaccount a "  # noqa: S608
        f"JOIN {staging} s USING (account_number) ORDER BY a.id FOR UPDATE OF a) locked"
    )
    (existing,) = cursor.fetchone()
    identity = [name for name in IDENTITY_FIELDS if name in compared and name != "account_number"]
    cursor.execute(
        f"SELECT a.id, {', '.join(f'a.{n}, s.{n}' for n in identity)} "  # noqa: S608
        f"FROM accounts_serviceaccount a JOIN {staging} s USING (account_number) "
        f"WHERE {' OR '.join(f'a.{n} IS DISTINCT FROM s.{n}' for n in identity)}"
    )
    for row in cursor.fetchall():
        changes = {
            name: [row[1 + 2 * n], row[2 + 2 * n]]
            for n, name in enumerate(identity)
            if row[1 + 2 * n] != row[2 + 2 * n]
        }
        # Who the account is changed by file: kept in the audit trail like a supervisor's edit.
        account = ServiceAccount.objects.get(pk=row[0])
        _audit_identity(account=account, by=None, changes=changes, account_number=account.account_number)
    cursor.execute(
        f"UPDATE accounts_serviceaccount a SET {', '.join(f'{n} = s.{n}' for n in compared)}, "  # noqa: S608
        f"updated_at = now() FROM {staging} s WHERE a.account_number = s.account_number AND ({differs})"
    )
    updated = cursor.rowcount
    columns = ", ".join(ACCOUNT_FIELDS)
    cursor.execute(
        f"INSERT INTO accounts_serviceaccount ({columns}, access_code, created_at, updated_at) "  # noqa: S608
        f"SELECT {columns}, access_code, now(), now() FROM {staging} s "
        "WHERE NOT EXISTS (SELECT 1 FROM accounts_serviceaccount a WHERE a.account_number = s.account_number)"
    )
    return ImportSummary(
        created=cursor.rowcount, updated=updated, unchanged=existing - updated, ignored_columns=ignored
    )


def service_account_save_by_staff(*, account: ServiceAccount, by: User, changed: list[str]) -> ServiceAccount:
    """Save a service account edited in admin. A change to its number, tax lot or customer name
    needs the supervisors' permission and is audited with the old and new values, in the same
    transaction as the change."""
    identity = [name for name in IDENTITY_FIELDS if name in changed]
    if identity and not by.has_perm("accounts.change_account_identity"):
        raise ApplicationError("Only a supervisor can change an account's number, tax lot or customer name.")
    with transaction.atomic():
        before = (
            ServiceAccount.objects.select_for_update().filter(pk=account.pk).values(*IDENTITY_FIELDS).first()
            if account.pk
            else None
        )
        account.save()
        differences = {
            name: [before[name], getattr(account, name)]
            for name in IDENTITY_FIELDS
            if before is not None and before[name] != getattr(account, name)
        }
        if differences:
            _audit_identity(
                account=account, by=by, changes=differences, account_number=account.account_number
            )
    return account


def _audit_identity(*, account: ServiceAccount, by: User | None, changes: dict, account_number: str) -> None:
    who = "import_accounts" if by is None else by.email
    audit_record(
        actor=by,
        action="account.identity",
        target=account,
        summary=f"{who} changed {', '.join(changes)} of account {account_number}: "
        + "; ".join(f"{old!r} → {new!r}" for old, new in changes.values()),
        changes=changes,
        account_number=account_number,
    )


def account_note_add(
    *,
    service_account: ServiceAccount,
    by: User,
    text: str,
    channel: str = "phone",
    contact: str = "",
    promised_amount=None,
    promised_on=None,
    follow_up_on=None,
):
    """A clerk's note on the account's contact log; a promise to pay is an amount and a date."""
    from accounts.models import AccountNote

    if not by.has_perm("accounts.add_accountnote"):
        raise ApplicationError("Your role cannot write account notes.")
    text = (text or "").strip()
    if not text:
        raise ApplicationError("Write what was said.")
    if (promised_amount is None) != (promised_on is None):
        raise ApplicationError("A promise to pay needs both the amount and the date.")
    if promised_amount is not None and promised_amount <= 0:
        raise ApplicationError("A promised amount is above $0.00.")
    if channel not in AccountNote.Channel.values:
        raise ApplicationError("Choose how the customer was in touch.")
    return AccountNote.objects.create(
        service_account=service_account,
        author=by,
        channel=channel,
        contact=(contact or "").strip()[:200],
        text=text,
        promised_amount=promised_amount,
        promised_on=promised_on,
        follow_up_on=follow_up_on,
    )


CONTACT_FIELDS = ["phone", "mailing_name", "mailing_address", "mailing_city", "mailing_state", "mailing_zip"]


def service_account_contact_update(*, service_account: ServiceAccount, user: User, values: dict) -> list[str]:
    """A linked customer keeps the phone and mailing address current. Every linked login hears of
    a new mailing address (paper bills and letters go there). Returns the fields that changed."""
    changed = [name for name in CONTACT_FIELDS if (values.get(name) or "") != getattr(service_account, name)]
    if not changed:
        return []
    with transaction.atomic():
        before = {name: getattr(service_account, name) for name in changed}
        for name in changed:
            setattr(service_account, name, (values.get(name) or "").strip())
        service_account.save(update_fields=[*changed, "updated_at"])
        # Where bills and legal notices are mailed is kept in the audit trail, old and new.
        audit_record(
            actor=None,
            action="account.contact",
            target=service_account,
            summary=f"{mask_email(user.email)} (customer) changed {', '.join(changed)} of account "
            f"{service_account.account_number}",
            changes={name: [before[name], getattr(service_account, name)] for name in changed},
            account_number=service_account.account_number,
        )
    if any(name.startswith("mailing") for name in changed):
        where = ", ".join(service_account.mail_to[1:])
        email_send(
            kind=LOGIN,
            subject=format_lazy(
                _("The mailing address of account {number} changed"), number=service_account.account_number
            ),
            template="emails/notice",
            context={
                "lines": [
                    format_lazy(
                        _(
                            "{email} changed where bills and letters for account {number} are mailed: {address}."
                        ),
                        email=mask_email(user.email),
                        number=service_account.account_number,
                        address=where,
                    ),
                    _("If you did not expect this, call us."),
                ]
            },
            users=users_for_account(service_account=service_account),
            addresses=[service_account.email] if service_account.email else [],
            required=True,
            reference=f"contact:{service_account.pk}",
            account_number=service_account.account_number,
        )
    return changed
