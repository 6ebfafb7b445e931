"""Paper Preauthorized Payments Agreements: recorded by clerks, drafted on the 20th, sent to the
bank as a NACHA file, and the bank's returns."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.notification_kinds import notification_kinds
from accounts.notifications import notification_switches_set
from accounts.tests.factories import AccountLinkFactory, UserFactory
from autopay.models import AutopayDraft, BankDraftAgreement
from autopay.services.drafts import autopay_run, autopay_send_reminders
from autopay.services.enrollment import aba_routing_number_valid, bank_agreement_record
from billing.models import BillingAccount, Service
from billing.services.bills import bills_run
from billing.tests.factories import AccountServiceFactory, RateScheduleFactory, SavedCardFactory
from kernel.errors import ApplicationError

pytestmark = pytest.mark.django_db
D = dt.date
ROUTING = "091000019"  # a valid ABA number


def test_aba_check_digit():
    assert aba_routing_number_valid("091000019")
    assert aba_routing_number_valid("011000015")
    assert not aba_routing_number_valid("091000018")
    assert not aba_routing_number_valid("09100001")
    assert not aba_routing_number_valid("00000000A")


@pytest.fixture
def agreements():
    """Two accounts with paper agreements (checking and savings), billed for June on July 1."""
    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("48.50")
    )
    made = []
    for number, kind in [("123456789", "checking"), ("5550001234", "savings")]:
        account = AccountServiceFactory(service=Service.SEWER).service_account
        made.append(
            bank_agreement_record(
                service_account=account,
                holder_name="Pat Doe",
                routing_number=ROUTING,
                account_number=number,
                account_type=kind,
                signed_on=D(2026, 6, 1),
                recorded_by=None,
            )
        )
    bills_run(period=D(2026, 6, 1), issued_on=D(2026, 7, 1), notify=False)
    return made


def test_the_bank_account_number_is_kept_encrypted_and_shown_by_its_last_four(agreements):
    agreement = agreements[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT account_number_encrypted FROM autopay_bankdraftagreement WHERE id = %s", [agreement.pk]
        )
        stored = cursor.fetchone()[0]
    assert "123456789" not in stored
    assert agreement.account_last4 == "6789"
    assert "6789" in str(agreement)


def test_a_bad_routing_number_is_refused():
    account = AccountServiceFactory().service_account
    with pytest.raises(ApplicationError, match="routing number is not valid"):
        bank_agreement_record(
            service_account=account,
            holder_name="Pat",
            routing_number="091000018",
            account_number="1234",
            account_type="checking",
            signed_on=D(2026, 6, 1),
            recorded_by=None,
        )


def test_bank_drafts_wait_for_the_20th_and_go_in_the_nacha_file(agreements, tmp_path, capsys):
    assert autopay_run(on=D(2026, 7, 19)).drafted == 0
    assert autopay_run(on=D(2026, 7, 20)).bank_scheduled == 2
    output = tmp_path / "drafts.ach"

    call_command("export_nacha", "--date", "2026-07-20", "--output", str(output))

    lines = output.read_text().splitlines()
    assert all(len(line) == 94 for line in lines)
    assert len(lines) % 10 == 0
    kinds = [line[0] for line in lines if line != "9" * 94]
    assert kinds == ["1", "5", "6", "6", "8", "9"]
    entries = [line for line in lines if line[0] == "6"]
    assert [e[1:3] for e in entries] == ["27", "37"]  # checking debit, savings debit
    assert entries[0][3:12] == ROUTING
    assert entries[0][12:29].strip() == "123456789"
    assert entries[0][29:39] == "0000004850"
    batch_control = next(line for line in lines if line[0] == "8")
    assert batch_control[4:10] == "000002"
    assert batch_control[10:20] == f"{2 * 9100001:010d}"  # entry hash: the 8-digit routing numbers added
    assert batch_control[20:32] == "000000009700"
    file_control = next(line for line in lines if line[0] == "9" and line != "9" * 94)
    assert file_control[7:13] == "000001"  # one block of ten records
    assert "2 drafts, $97.00" in capsys.readouterr().out
    assert all(BillingAccount.objects.get(pk=a.service_account_id).balance == 0 for a in agreements)

    again = tmp_path / "again.ach"
    call_command("export_nacha", "--date", "2026-07-20", "--output", str(again))
    assert again.read_bytes() == output.read_bytes()
    assert all(BillingAccount.objects.get(pk=a.service_account_id).balance == 0 for a in agreements)


def test_variable_amount_notice_goes_ten_days_before_even_when_switched_off(agreements):
    account = agreements[0].service_account
    user = AccountLinkFactory(service_account=account).user
    notification_switches_set(user=user, enabled=dict.fromkeys(notification_kinds(), False))

    autopay_send_reminders(on=D(2026, 7, 10))

    to_user = [m for m in mail.outbox if m.to == [user.email]]
    assert len(to_user) == 1
    assert "On July 20 we will draft $48.50" in to_user[0].body


def returns_file(tmp_path, rows):
    path = tmp_path / "returns.csv"
    path.write_text("trace_number,return_code,date\n" + "".join(f"{t},{c},2026-07-23\n" for t, c in rows))
    return str(path)


@pytest.mark.parametrize("fee", ["", "25.00"])
def test_a_returned_draft_adds_the_fee_where_the_utility_charges_one(agreements, tmp_path, settings, fee):
    settings.RETURNED_PAYMENT_FEE = fee
    customer = AccountLinkFactory(service_account=agreements[0].service_account).user
    autopay_run(on=D(2026, 7, 20))
    call_command("export_nacha", "--date", "2026-07-20", "--output", str(tmp_path / "f.ach"))
    first = AutopayDraft.objects.order_by("pk").first()
    mail.outbox.clear()

    path = returns_file(tmp_path, [(first.trace_number, "R01")])
    call_command("import_ach_returns", path)
    call_command("import_ach_returns", path)  # again: no second fee

    expected = Decimal("48.50") + (Decimal(fee) if fee else 0)
    assert BillingAccount.objects.get(pk=first.service_account_id).balance == expected
    told = next(m for m in mail.outbox if m.to == [customer.email])
    assert ("returned payment fee of $25.00" in told.body) == bool(fee)
    assert BankDraftAgreement.objects.get(pk=agreements[0].pk).status == "active"  # R01 does not end it


def test_returns_reverse_the_draft_and_r02_ends_the_agreement(agreements, tmp_path, capsys):
    Group.objects.get_or_create(name="Clerks")[0].user_set.add(
        UserFactory(is_staff=True, email="clerk@utility.example")
    )
    customer = AccountLinkFactory(service_account=agreements[1].service_account).user
    autopay_run(on=D(2026, 7, 20))
    call_command("export_nacha", "--date", "2026-07-20", "--output", str(tmp_path / "f.ach"))
    first, second = AutopayDraft.objects.order_by("pk")
    mail.outbox.clear()

    path = returns_file(tmp_path, [(first.trace_number, "R01"), (second.trace_number, "R02"), ("999", "R01")])
    call_command("import_ach_returns", path)
    call_command("import_ach_returns", path)  # the same file again: nothing more

    out = capsys.readouterr().out
    assert "2 reversed, 1 agreement(s) ended" in out
    assert "no draft has trace number 999" in out
    assert BillingAccount.objects.get(pk=first.service_account_id).balance == Decimal("48.50")
    assert BillingAccount.objects.get(pk=second.service_account_id).balance == Decimal("48.50")
    statuses = dict(BankDraftAgreement.objects.values_list("pk", "status"))
    assert statuses == {agreements[0].pk: "active", agreements[1].pk: "inactive"}
    recipients = {m.to[0] for m in mail.outbox}
    assert {customer.email, "clerk@utility.example"} <= recipients


def test_a_bad_returns_file_is_refused_with_line_numbers(tmp_path, capsys):
    path = tmp_path / "returns.csv"
    path.write_text("trace_number,return_code,date\n1,X01,2026-07-23\n2,R01,yesterday\n")
    with pytest.raises(CommandError):
        call_command("import_ach_returns", str(path))
    err = capsys.readouterr().err
    assert "line 2: return_code 'X01'" in err and "line 3: date 'yesterday'" in err


def test_card_autopay_and_a_paper_agreement_do_not_mix(agreements):
    from autopay.services.enrollment import autopay_enroll

    account = agreements[0].service_account
    user = AccountLinkFactory(service_account=account).user

    card = SavedCardFactory(user=user, exp_year=2031)
    with pytest.raises(ApplicationError, match="end that agreement first"):
        autopay_enroll(user=user, service_account=account, card=card, draft_day=5)


def test_clerk_records_an_agreement_in_admin(client):
    call_command("seed_demo", accounts=3)
    from accounts.models import ServiceAccount, User

    client.force_login(User.objects.get(email="clerk@example.com"))
    account = ServiceAccount.objects.get(account_number="100002-01")
    form = {
        "service_account": account.pk,
        "holder_name": "Pat Doe",
        "routing_number": "091000018",
        "account_number": "123456789",
        "account_type": "checking",
        "signed_on": "2026-06-01",
    }

    bad = client.post("/admin/autopay/bankdraftagreement/add/", form)
    assert "check digit does not match" in bad.content.decode()
    good = client.post("/admin/autopay/bankdraftagreement/add/", {**form, "routing_number": ROUTING})

    assert good.status_code == 302
    agreement = BankDraftAgreement.objects.get()
    assert (agreement.account_last4, agreement.service_account) == ("6789", account)
    assert "123456789" not in agreement.account_number_encrypted


def test_banking_days_skip_weekends_and_federal_reserve_holidays():
    from billing.calendar import banking_day_before, banking_day_on_or_after, is_banking_day

    assert banking_day_on_or_after(D(2026, 7, 20)) == D(2026, 7, 20)  # a Monday
    assert banking_day_on_or_after(D(2026, 12, 20)) == D(2026, 12, 21)  # a Sunday
    assert banking_day_on_or_after(D(2026, 6, 20)) == D(2026, 6, 22)  # a Saturday
    assert banking_day_on_or_after(D(2026, 12, 25)) == D(2026, 12, 28)  # Christmas, a Friday
    assert banking_day_on_or_after(D(2027, 7, 5)) == D(2027, 7, 6)  # Independence Day observed
    assert banking_day_on_or_after(D(2026, 10, 12)) == D(2026, 10, 13)  # Columbus Day: the Fed is shut
    assert is_banking_day(D(2026, 7, 3))  # July 4 is a Saturday: the Fed opens the Friday before
    assert not is_banking_day(D(2026, 11, 11))  # Veterans Day
    assert banking_day_before(D(2026, 12, 28)) == D(2026, 12, 24)
    assert banking_day_before(D(2026, 7, 21)) == D(2026, 7, 20)


def test_a_20th_on_a_sunday_is_drafted_the_monday_after_and_read_back_by_another_parser(tmp_path, capsys):
    """December 20, 2026 is a Sunday: the drafts are dated Monday the 21st, and the file, read by
    carta-ach's parser (not ours), adds up."""
    from ach.parser import Parser

    RateScheduleFactory(
        service=Service.SEWER, effective_date=D(2025, 7, 1), monthly_charge_per_unit=Decimal("48.50")
    )
    account = AccountServiceFactory(service=Service.SEWER).service_account
    bank_agreement_record(
        service_account=account,
        holder_name="Pat Doe",
        routing_number=ROUTING,
        account_number="123456789",
        account_type="checking",
        signed_on=D(2026, 6, 1),
        recorded_by=None,
    )
    bills_run(period=D(2026, 11, 1), issued_on=D(2026, 12, 1), notify=False)
    assert autopay_run(on=D(2026, 12, 20)).drafted == 0
    assert autopay_run(on=D(2026, 12, 21)).bank_scheduled == 1
    assert AutopayDraft.objects.get().draft_date == D(2026, 12, 21)

    call_command("export_nacha", "--date", "2026-12-20", "--output", str(tmp_path / "sunday.ach"))
    assert not (tmp_path / "sunday.ach").exists()
    assert (
        "2026-12-20 is not a banking day: bank drafts meant for it are dated 2026-12-21"
        in capsys.readouterr().out
    )
    call_command("export_nacha", "--date", "2026-12-22", "--output", str(tmp_path / "none.ach"))
    assert not (tmp_path / "none.ach").exists()  # no empty batch: no file
    assert "No bank drafts are dated 2026-12-22" in capsys.readouterr().out
    output = tmp_path / "drafts.ach"
    call_command("export_nacha", "--date", "2026-12-21", "--output", str(output))

    parsed = Parser(output.read_text()).as_dict()
    assert parsed["file_header"]["file_crt_date"] == "261218"  # the banking day before, a Friday
    (batch,) = parsed["batches"]
    header, control, entries = batch["batch_header"], batch["batch_control"], batch["entries"]
    assert header["std_ent_cls_code"] == "PPD"
    assert header["eff_ent_date"] == "261221"
    assert header["serv_cls_code"] == control["serv_cls_code"] == "225"  # debits only
    details = [entry["entry_detail"] for entry in entries]
    amounts = [int(detail["amount"]) for detail in details]
    assert amounts == [4850]
    assert int(control["debit_amount"]) == sum(amounts) == int(parsed["file_control"]["debit_amount"])
    assert int(control["entry_hash"]) == sum(int(d["recv_dfi_id"]) for d in details)
    assert int(control["entadd_count"]) == len(details)
    assert details[0]["dfi_acnt_num"].strip() == "123456789"
    assert int(parsed["file_control"]["batch_count"]) == 1
    assert int(parsed["file_control"]["block_count"]) * 10 == len(output.read_text().splitlines())
