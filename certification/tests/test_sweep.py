import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.tests.factories import ServiceAccountFactory, UserFactory
from assistance.tests.factories import approved_plan
from billing.models import BillingAccount, LedgerEntry
from billing.services.ledger import Posting, ledger_post
from billing.tests.factories import post
from certification.models import Certification
from certification.services.exports import certification_csv, certification_xlsx
from certification.services.sweep import certification_sweep
from kernel.errors import ApplicationError

D = dt.date
AFTER = D(2026, 6, 21)


def sweep(**kwargs):
    return certification_sweep(year=2026, today=AFTER, **kwargs)


def certified(account) -> Certification | None:
    return Certification.objects.filter(service_account=account, year=2026).first()


@pytest.mark.django_db
def test_a_charge_due_april_20_is_certified_and_one_due_april_21_is_not():
    on_time = ServiceAccountFactory()
    post(on_time, "charge", "40.00", D(2026, 4, 1), D(2026, 4, 20))
    not_yet = ServiceAccountFactory()
    post(not_yet, "charge", "40.00", D(2026, 4, 1), D(2026, 4, 21))

    sweep()

    assert certified(on_time).delinquent_amount == Decimal("40.00")
    assert certified(not_yet) is None


@pytest.mark.django_db
@pytest.mark.parametrize(("paid_on", "is_certified"), [(D(2026, 6, 20), False), (D(2026, 6, 21), True)])
def test_a_payment_dated_june_20_counts_and_one_dated_june_21_does_not(paid_on, is_certified):
    account = ServiceAccountFactory()
    post(account, "charge", "40.00", D(2026, 3, 1), D(2026, 3, 20))
    post(account, "payment", "40.00", paid_on)

    sweep()

    assert (certified(account) is not None) == is_certified


@pytest.mark.django_db
def test_partial_payments_and_credits_apply_oldest_first_and_newer_charges_stay():
    account = ServiceAccountFactory(account_number="400001-01", tax_lot="2S2E01AA00100")
    post(account, "charge", "50.00", D(2026, 2, 1), D(2026, 2, 20))
    post(account, "charge", "50.00", D(2026, 3, 1), D(2026, 3, 20))
    post(account, "late_fee", "5.00", D(2026, 3, 25), D(2026, 3, 25))
    post(account, "charge", "50.00", D(2026, 5, 1), D(2026, 5, 20))  # not yet 60 days past due
    post(account, "payment", "60.00", D(2026, 4, 2))
    post(account, "credit", "10.00", D(2026, 6, 1))

    result = sweep()

    record = certified(account)
    # 70.00 paid and credited pays February (50.00) and 20.00 of March: 30.00 of March and the fee are left.
    assert record.delinquent_amount == Decimal("35.00")
    assert record.processing_fee == Decimal("50.00")
    assert record.total_certified == Decimal("85.00")
    assert result.delinquent_total == Decimal("35.00")
    # The transfer takes the certified amount off the balance; May's bill stays on the account.
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("50.00")


@pytest.mark.django_db
def test_a_credit_balance_or_a_paid_account_is_not_certified():
    credit = ServiceAccountFactory()
    post(credit, "charge", "40.00", D(2026, 3, 1), D(2026, 3, 20))
    post(credit, "payment", "100.00", D(2026, 3, 5))
    sweep()
    assert certified(credit) is None


@pytest.mark.django_db
def test_a_closed_account_is_certified_too_because_charges_follow_the_property():
    account = ServiceAccountFactory(status="closed")
    post(account, "charge", "40.00", D(2026, 3, 1), D(2026, 3, 20))
    sweep()
    assert certified(account).delinquent_amount == Decimal("40.00")


@pytest.mark.django_db
def test_an_account_certified_last_year_is_certified_only_for_newer_charges():
    account = ServiceAccountFactory()
    post(account, "charge", "40.00", D(2025, 3, 1), D(2025, 3, 20))
    certification_sweep(year=2025, today=D(2025, 6, 21))
    post(account, "charge", "25.00", D(2026, 3, 1), D(2026, 3, 20))

    sweep()

    assert Certification.objects.get(service_account=account, year=2025).delinquent_amount == Decimal("40.00")
    assert certified(account).delinquent_amount == Decimal("25.00")


@pytest.mark.django_db
def test_after_certification_a_payment_goes_to_the_current_balance_or_stays_a_credit():
    from billing.selectors import account_open_items

    account = ServiceAccountFactory()
    old = post(account, "charge", "40.00", D(2026, 3, 1), D(2026, 3, 20))
    new = post(account, "charge", "30.00", D(2026, 6, 1), D(2026, 6, 20))
    sweep()
    post(account, "payment", "50.00", D(2026, 6, 25))

    open_now = {
        i.entry_id: i.unpaid for i in account_open_items(service_account=account, as_of=D(2026, 6, 30))
    }
    assert old.pk not in open_now and new.pk not in open_now
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("-20.00")  # a credit for future bills


@pytest.mark.django_db
def test_a_second_run_changes_nothing_and_a_dry_run_changes_nothing(capsys):
    account = ServiceAccountFactory()
    post(account, "charge", "40.00", D(2026, 3, 1), D(2026, 3, 20))

    dry = sweep(dry_run=True)
    assert len(dry.certified) == 1
    assert not Certification.objects.exists()
    assert not LedgerEntry.objects.filter(kind="tax_roll_transfer").exists()

    sweep()
    again = sweep()
    assert (len(again.certified), again.already) == (0, 1)
    assert LedgerEntry.objects.filter(kind="tax_roll_transfer").count() == 1


@pytest.mark.django_db
def test_the_sweep_refuses_to_run_before_june_21():
    with pytest.raises(ApplicationError, match="from June 21"):
        certification_sweep(year=2026, today=D(2026, 6, 20))


@pytest.mark.django_db
def test_a_payment_plan_in_good_standing_keeps_the_account_out(time_machine):
    time_machine.move_to(dt.datetime(2026, 4, 1, 18, tzinfo=dt.UTC), tick=False)
    account = ServiceAccountFactory()
    user = UserFactory()
    post(account, "charge", "90.00", D(2026, 2, 1), D(2026, 2, 20))
    approved_plan(account, user, installments=3)
    post(account, "payment", "60.00", D(2026, 6, 1))  # the April and May installments

    result = sweep()

    assert result.left_out_for_plans == 1
    assert certified(account) is None


@pytest.mark.django_db
def test_commands_certify_print_a_dry_run_and_refuse_bad_input(time_machine, capsys):
    time_machine.move_to(dt.datetime(2026, 6, 22, 18, tzinfo=dt.UTC), tick=False)
    account = ServiceAccountFactory(account_number="400777-01")
    post(account, "charge", "40.00", D(2026, 3, 1), D(2026, 3, 20))

    call_command("certification_sweep", "--year", "2026", "--dry-run")
    out = capsys.readouterr().out
    assert "400777-01" in out and "1 account(s) would be certified" in out and "nothing was changed" in out
    assert not Certification.objects.exists()
    call_command("certification_sweep", "--year", "2026")
    assert Certification.objects.count() == 1
    with pytest.raises(CommandError, match="from June 21"):
        call_command("certification_sweep", "--year", "2027")


@pytest.mark.django_db
def test_export_has_the_promised_layout_sorted_by_tax_lot_and_is_byte_identical(tmp_path):
    rows = [
        ("400003-01", "2S2E01BB00200", "Lee, Ann", "12 Main St"),
        ("400002-01", "2S2E01AA00100", "Bo Chen", "9 Oak Ave"),
        ("400001-01", "2S2E01AA00100", "Cy Diaz", "9 Oak Ave #B"),
    ]
    for number, lot, name, address in rows:
        account = ServiceAccountFactory(
            account_number=number, tax_lot=lot, customer_name=name, service_address=address
        )
        post(account, "charge", "45.10", D(2026, 3, 1), D(2026, 3, 20))
    sweep()
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"

    call_command("export_certification", "--year", "2026", "--output", str(first))
    call_command("export_certification", "--year", "2026", "--output", str(second))

    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() == (
        b"year,account_number,tax_lot,owner_name,service_address,delinquent_amount,processing_fee,total_certified,description\r\n"
        b"2026,400001-01,2S2E01AA00100,Cy Diaz,9 Oak Ave #B,45.10,50.00,95.10,WES\r\n"
        b"2026,400002-01,2S2E01AA00100,Bo Chen,9 Oak Ave,45.10,50.00,95.10,WES\r\n"
        b'2026,400003-01,2S2E01BB00200,"Lee, Ann",12 Main St,45.10,50.00,95.10,WES\r\n'
    )
    assert certification_csv(year=2026) == first.read_bytes()


@pytest.mark.django_db
def test_xlsx_export_holds_the_same_rows_and_is_byte_identical():
    from io import BytesIO

    from openpyxl import load_workbook

    account = ServiceAccountFactory(account_number="400009-01", tax_lot="LOT9")
    post(account, "charge", "45.10", D(2026, 3, 1), D(2026, 3, 20))
    sweep()

    data = certification_xlsx(year=2026)

    assert data == certification_xlsx(year=2026)
    sheet = load_workbook(BytesIO(data)).active
    values = list(sheet.values)
    assert values[0][0] == "year" and values[0][-1] == "description"
    assert values[1][:3] == (2026, "400009-01", "LOT9")
    assert values[1][5:] == (45.1, 50.0, 95.1, "WES")
    # A frozen header, columns sized to their contents, and a totals row.
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["D"].width >= len("owner_name")
    assert values[-1][0] == "Total" and values[-1][7] == "=SUM(H2:H2)"


@pytest.mark.django_db(transaction=True)
def test_a_payment_racing_the_sweep_is_counted_whole_or_not_at_all():
    accounts = []
    for _ in range(6):
        account = ServiceAccountFactory()
        post(account, "charge", "40.00", D(2026, 3, 1), D(2026, 3, 20))
        accounts.append(account)
    errors = []

    def pay():
        try:
            for n, account in enumerate(accounts):
                ledger_post(
                    postings=[
                        Posting(
                            service_account_id=account.pk,
                            kind="payment",
                            amount=Decimal("-40.00"),
                            posted_on=D(2026, 6, 20),
                            source_key=f"race:{n}",
                        )
                    ]
                )
        except Exception as exc:  # noqa: BLE001 (asserted below)
            errors.append(exc)
        finally:
            connection.close()

    def run_sweep():
        try:
            sweep()
        except Exception as exc:  # noqa: BLE001 (asserted below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay), threading.Thread(target=run_sweep)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    for account in accounts:
        balance = BillingAccount.objects.get(pk=account.pk).balance
        record = certified(account)
        # Either the payment came first (nothing certified, nothing owed) or the sweep did
        # (40.00 certified and taken off; the payment then left a 40.00 credit). Never half.
        assert (record is None and balance == 0) or (
            record.delinquent_amount == Decimal("40.00") and balance == Decimal("-40.00")
        )


@pytest.mark.django_db
def test_xlsx_export_is_byte_identical_a_minute_later(time_machine):
    account = ServiceAccountFactory(account_number="400010-01", tax_lot="LOT10")
    post(account, "charge", "45.10", D(2026, 3, 1), D(2026, 3, 20))
    sweep()
    time_machine.move_to("2026-07-01 09:00:00")

    first = certification_xlsx(year=2026)
    time_machine.move_to("2026-07-02 10:01:07")
    second = certification_xlsx(year=2026)

    assert first == second
    import io
    import zipfile

    core = zipfile.ZipFile(io.BytesIO(first)).read("docProps/core.xml")
    assert core.count(b"2026-06-21T00:00:00Z") == 2  # created and modified: the certification date


@pytest.mark.django_db
def test_text_that_a_spreadsheet_would_run_as_a_formula_is_written_as_text(tmp_path):
    import csv
    from io import BytesIO

    from openpyxl import load_workbook

    account = ServiceAccountFactory(
        account_number="400011-01",
        tax_lot="-LOT11",
        customer_name='=HYPERLINK("http://evil.example","Pay here")',
        service_address="@SUM(1+1)",
    )
    post(account, "charge", "45.10", D(2026, 3, 1), D(2026, 3, 20))
    sweep()

    (row,) = list(csv.reader(certification_csv(year=2026).decode().splitlines()))[1:]
    sheet = load_workbook(BytesIO(certification_xlsx(year=2026))).active
    cells = list(sheet.iter_rows(min_row=2))[0]

    assert row[2:5] == ["'-LOT11", '\'=HYPERLINK("http://evil.example","Pay here")', "'@SUM(1+1)"]
    assert row[5:8] == ["45.10", "50.00", "95.10"]  # amounts stay numbers
    assert [cells[i].data_type for i in (2, 3, 4)] == ["s", "s", "s"]
    assert cells[3].value == '=HYPERLINK("http://evil.example","Pay here")'
    assert cells[5].data_type == "n" and cells[5].value == 45.1
