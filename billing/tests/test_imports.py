import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.tests.factories import ServiceAccountFactory
from billing.models import AccountService, BillingAccount, LedgerEntry, MeterRead, RateSchedule, Service
from billing.services.bills import bills_run
from billing.tests.factories import AccountServiceFactory, MeterReadFactory, RateScheduleFactory

pytestmark = pytest.mark.django_db
D = dt.date


def write(tmp_path, text, name="file.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def failing(command, path, capsys) -> str:
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(command, path)
    return capsys.readouterr().err


TX_HEADER = "ref,account_number,date,kind,amount,due_date,description\n"


@pytest.fixture
def account():
    return ServiceAccountFactory(account_number="100234-01")


def test_transactions_import_posts_signed_rows_and_moves_the_balance(tmp_path, account):
    path = write(
        tmp_path,
        TX_HEADER
        + "T1,100234-01,2026-06-01,charge,45.10,2026-06-20,June bill\n"
        + "T2,100234-01,2026-06-05,late_fee,5.00,2026-06-05,\n"
        + "T3,100234-01,2026-06-10,payment,30.00,,Check 1001\n"
        + "T4,100234-01,2026-06-11,credit,2.50,,\n",
    )

    call_command("import_transactions", path)

    amounts = dict(LedgerEntry.objects.values_list("source_key", "amount"))
    assert amounts == {
        "import:T1": Decimal("45.10"),
        "import:T2": Decimal("5.00"),
        "import:T3": Decimal("-30.00"),
        "import:T4": Decimal("-2.50"),
    }
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("17.60")


def test_importing_the_same_refs_again_adds_nothing(tmp_path, account, capsys):
    path = write(tmp_path, TX_HEADER + "T1,100234-01,2026-06-01,charge,45.10,2026-06-20,\n")
    call_command("import_transactions", path)
    call_command("import_transactions", path)

    assert "0 created, 1 unchanged" in capsys.readouterr().out
    assert LedgerEntry.objects.count() == 1


def test_a_ref_imported_before_with_other_values_is_refused(tmp_path, account, capsys):
    call_command(
        "import_transactions",
        write(tmp_path, TX_HEADER + "T1,100234-01,2026-06-01,charge,45.10,2026-06-20,\n"),
    )
    err = failing(
        "import_transactions",
        write(tmp_path, TX_HEADER + "T1,100234-01,2026-06-01,charge,99.00,2026-06-20,\n", "b.csv"),
        capsys,
    )
    assert "line 2: ref T1 was imported before with other values" in err


def test_transaction_errors_are_line_numbered_and_nothing_is_posted(tmp_path, account, capsys):
    path = write(
        tmp_path,
        TX_HEADER
        + "T1,100234-01,2026-06-01,charge,45.10,2026-06-20,\n"
        + "T2,999999-99,2026-06-01,charge,1.00,2026-06-20,\n"
        + "T3,100234-01,2026-06-31,charge,1.00,2026-06-20,\n"
        + "T4,100234-01,2026-06-01,charge,1.00,,\n"
        + "T5,100234-01,2026-06-01,refund,1.00,,\n"
        + "T6,100234-01,2026-06-01,payment,-4.00,,\n"
        + "T7,100234-01,2026-06-01,payment,4.001,,\n"
        + "T1,100234-01,2026-06-01,payment,1.00,,\n",
    )

    err = failing("import_transactions", path, capsys)

    for expected in [
        "line 3: account_number 999999-99 does not exist",
        "line 4: date '2026-06-31' is not a date",
        "line 5: due_date is required for a charge",
        "line 6: kind 'refund' is not one of",
        "line 7: amount '-4.00' is not a positive amount",
        "line 8: amount '4.001' is not a positive amount",
        "line 9: ref T1 already appears on line 2",
    ]:
        assert expected in err
    assert not LedgerEntry.objects.exists()


def test_rates_import_creates_schedules_and_refuses_to_change_one_bills_used(tmp_path, capsys):
    header = "service,effective_date,monthly_charge_per_unit,charge_per_ccf\n"
    call_command(
        "import_rates",
        write(tmp_path, header + "sewer,2026-07-01,51.25,\nwater,2026-07-01,19.10,4.05\n"),
    )
    assert RateSchedule.objects.get(service="water").charge_per_ccf == Decimal("4.05")
    AccountServiceFactory(service=Service.SEWER)
    bills_run(period=D(2026, 7, 1), issued_on=D(2026, 8, 1), notify=False)

    err = failing("import_rates", write(tmp_path, header + "sewer,2026-07-01,60.00,\n", "b.csv"), capsys)

    assert "line 2: the sewer rates from 2026-07-01 were used on bills already" in err
    assert RateSchedule.objects.get(service="sewer").monthly_charge_per_unit == Decimal("51.25")


def test_rates_import_checks_each_value(tmp_path, capsys):
    header = "service,effective_date,monthly_charge_per_unit,charge_per_ccf\n"
    err = failing(
        "import_rates",
        write(
            tmp_path,
            header
            + "stormwater,2026-07-01,1,\nsewer,July 1,1,\nsewer,2026-07-01,-1,\nsewer,2026-07-02,1,2\n",
        ),
        capsys,
    )
    assert "line 2: service 'stormwater' is not one of" in err
    assert "line 3: effective_date 'July 1' is not a date" in err
    assert "line 4: monthly_charge_per_unit '-1'" in err
    assert "line 5: charge_per_ccf applies to water only" in err
    assert not RateSchedule.objects.exists()


def test_services_import_replaces_units_on_a_second_import(tmp_path, account):
    header = "account_number,service,units\n"
    call_command(
        "import_services", write(tmp_path, header + "100234-01,sewer,1\n100234-01,surface_water,1.5\n")
    )
    call_command("import_services", write(tmp_path, header + "100234-01,sewer,2\n", "b.csv"))

    units = dict(AccountService.objects.values_list("service", "units"))
    assert units == {"sewer": Decimal("2"), "surface_water": Decimal("1.5")}


def test_services_import_rejects_bad_rows(tmp_path, account, capsys):
    header = "account_number,service,units\n"
    err = failing("import_services", write(tmp_path, header + "100234-01,gas,1\n100234-01,sewer,0\n"), capsys)
    assert "line 2: service 'gas'" in err
    assert "line 3: units '0' is not a positive number" in err


def test_meter_reads_import_and_a_billed_month_cannot_change(tmp_path, account, capsys):
    AccountServiceFactory(service_account=account, service=Service.WATER)
    RateScheduleFactory(service=Service.WATER, effective_date=D(2026, 7, 1), charge_per_ccf=Decimal("4"))
    header = "account_number,period,consumption_ccf\n"
    call_command(
        "import_meter_reads", write(tmp_path, header + "100234-01,2026-07,7.25\n100234-01,2026-08,8\n")
    )
    assert MeterRead.objects.get(period=D(2026, 7, 1)).consumption_ccf == Decimal("7.25")
    bills_run(period=D(2026, 7, 1), issued_on=D(2026, 8, 1), notify=False)

    err = failing("import_meter_reads", write(tmp_path, header + "100234-01,2026-07,9\n", "b.csv"), capsys)

    assert "line 2: 2026-07 was billed with 7.25 CCF and cannot change" in err


def test_meter_reads_for_an_account_without_water_are_refused(tmp_path, account, capsys):
    MeterReadFactory.reset_sequence()
    err = failing(
        "import_meter_reads",
        write(tmp_path, "account_number,period,consumption_ccf\n100234-01,2026-07,7\n100234-01,07/2026,x\n"),
        capsys,
    )
    assert "line 2: account 100234-01 does not take water service" in err
    assert "line 3: period '07/2026' is not a month" in err
    assert "consumption_ccf 'x'" in err


def long_history(accounts, rows: int) -> tuple[str, dict[int, Decimal]]:
    """transactions.csv with `rows` rows spread over `accounts` (charges and payments, some
    quoted descriptions with commas), and the balance each account should end with."""
    lines, balances = [TX_HEADER], {a.pk: Decimal("0") for a in accounts}
    for n in range(rows):
        account = accounts[n % len(accounts)]
        day = D(2021, 1, 1) + dt.timedelta(days=n // 7)
        if n % 3:
            amount = Decimal(10 + n % 90) + Decimal(n % 100) / 100
            lines.append(
                f'R{n},{account.account_number},{day},charge,{amount},{day + dt.timedelta(days=20)},"Bill, {day}"\n'
            )
            balances[account.pk] += amount
        else:
            lines.append(f"R{n},{account.account_number},{day},payment,25.00,,\n")
            balances[account.pk] -= Decimal("25.00")
    return "".join(lines), balances


def test_a_long_file_is_streamed_in_and_reimporting_it_adds_nothing(tmp_path, account):
    from billing.services.imports import transactions_import

    accounts = [account, ServiceAccountFactory(), ServiceAccountFactory()]
    text, balances = long_history(accounts, 12_000)  # several COPY blocks
    path = write(tmp_path, text)

    first = transactions_import(path=path)
    again = transactions_import(path=path)

    assert (first.created, first.unchanged) == (12_000, 0)
    assert (again.created, again.unchanged) == (0, 12_000)
    assert LedgerEntry.objects.count() == 12_000
    for pk, expected in balances.items():
        assert BillingAccount.objects.get(pk=pk).balance == expected
    assert LedgerEntry.objects.get(source_key="import:R1").description == f"Bill, {D(2021, 1, 1)}"


def test_a_long_file_reports_every_problem_in_line_order_and_writes_nothing(tmp_path, account):
    from billing.services.imports import transactions_import
    from kernel.csvimport import CsvImportError

    text, _ = long_history([account], 9_000)
    lines = text.splitlines(keepends=True)
    lines[8_000] = f"R5,{account.account_number},2026-01-02,charge,1.00,2026-01-20,\n"  # R5 is on line 7
    lines[8_500] = "R8499,100234-01,2026-01-02,payment,1.00,,,extra\n"
    lines[3] = "R2,100234-01,2026-02-30,charge,1.00,2026-03-20,\n"
    lines[6_000] = "R5999,000000-00,2026-01-02,payment,1.00,,\n"
    lines.insert(100, "\n")  # a blank line is skipped, and counts as a line
    path = write(tmp_path, "".join(lines))

    with pytest.raises(CsvImportError) as caught:
        transactions_import(path=path)

    assert caught.value.errors == [
        "line 4: date '2026-02-30' is not a date like 2026-07-01",
        "line 6002: account_number 000000-00 does not exist",
        "line 8002: ref R5 already appears on line 7",
        "line 8502: 8 values for 7 columns",
    ]
    assert not LedgerEntry.objects.exists()
    assert not BillingAccount.objects.filter(balance__gt=0).exists()


def test_a_ref_imported_before_with_other_values_is_found_among_many(tmp_path, account):
    from billing.services.imports import transactions_import
    from kernel.csvimport import CsvImportError

    text, _ = long_history([account], 3_000)
    transactions_import(path=write(tmp_path, text))
    changed = text.splitlines(keepends=True)
    changed[2003] = changed[2003].replace(",charge,", ",late_fee,")  # the row of R2002, now another kind
    with pytest.raises(CsvImportError) as caught:
        transactions_import(path=write(tmp_path, "".join(changed), "again.csv"))

    assert caught.value.errors == [
        "line 2004: ref R2002 was imported before with other values; the ledger cannot be edited, "
        "so post a correcting row with a new ref"
    ]
    assert LedgerEntry.objects.count() == 3_000


def test_meter_reads_are_created_updated_or_left_and_every_problem_is_reported(tmp_path, account, capsys):
    from billing.services.imports import meter_reads_import
    from kernel.csvimport import CsvImportError

    others = [ServiceAccountFactory() for _ in range(3)]
    for water in [account, *others]:
        AccountServiceFactory(service_account=water, service=Service.WATER)
    header = "account_number,period,consumption_ccf\n"
    months = [f"20{20 + m // 12}-{m % 12 + 1:02d}" for m in range(60)]
    rows = [
        f"{a.account_number},{month},{n % 17}.5\n"
        for n, (a, month) in enumerate((a, m) for a in others for m in months)
    ]
    first = meter_reads_import(path=write(tmp_path, header + "".join(rows)))
    rows[10] = rows[10].replace(".5", ".75")  # one month read again, corrected
    again = meter_reads_import(
        path=write(tmp_path, header + "".join(rows) + "100234-01,2026-07,3\n", "b.csv")
    )

    assert (first.created, first.updated, first.unchanged) == (180, 0, 0)
    assert (again.created, again.updated, again.unchanged) == (1, 1, 179)
    assert MeterRead.objects.count() == 181
    assert MeterRead.objects.get(service_account=others[0], period=D(2020, 11, 1)).consumption_ccf == Decimal(
        "10.75"
    )

    sewer_only = ServiceAccountFactory()
    bad = (
        header
        + "".join(rows[:5])
        + (
            f"{sewer_only.account_number},2026-07,1\n"  # line 7
            f"{others[1].account_number},2020-02,8\n"  # line 8: 2020-02 of others[1] is on line 64
            "999999-99,2026-13,-1\n"  # line 9
            f"{others[0].account_number},2026-03,7.255\n"  # line 10
        )
    )
    with pytest.raises(CsvImportError) as caught:
        meter_reads_import(path=write(tmp_path, bad + "".join(rows[60:65]), "c.csv"))

    assert caught.value.errors == [
        f"line 7: account {sewer_only.account_number} does not take water service",
        "line 9: account_number 999999-99 does not exist",
        "line 9: period '2026-13' is not a month like 2026-10",
        "line 9: consumption_ccf '-1' is not a number of CCF like 7 or 7.25",
        "line 10: consumption_ccf '7.255' is not a number of CCF like 7 or 7.25",
        f"line 12: {others[1].account_number} 2020-02 already appears on line 8",
    ]
    assert MeterRead.objects.count() == 181


def test_a_cell_reading_backslash_n_is_text_not_nothing(tmp_path, account):
    from billing.services.imports import transactions_import
    from kernel.csvimport import CsvImportError

    with pytest.raises(CsvImportError) as caught:
        transactions_import(
            path=write(
                tmp_path,
                TX_HEADER + "T1,\\N,2026-06-01,charge,45.10,2026-06-20,\\N\n"
                "T2,100234-01,2026-06-01,payment,5.00,,\\N\n",
            )
        )

    assert caught.value.errors == ["line 2: account_number \\N does not exist"]
    transactions_import(
        path=write(tmp_path, TX_HEADER + "T2,100234-01,2026-06-01,payment,5.00,,\\N\n", "b.csv")
    )
    assert LedgerEntry.objects.get(source_key="import:T2").description == "\\N"


def test_a_ref_repeated_with_other_values_is_reported_once_as_repeated(tmp_path, account):
    from billing.services.imports import transactions_import
    from kernel.csvimport import CsvImportError

    transactions_import(
        path=write(tmp_path, TX_HEADER + "R1,100234-01,2026-06-01,charge,45.10,2026-06-20,\n")
    )
    with pytest.raises(CsvImportError) as caught:
        transactions_import(
            path=write(
                tmp_path,
                TX_HEADER + "R1,100234-01,2026-06-01,charge,45.10,2026-06-20,\n"
                "R1,100234-01,2026-06-01,charge,99.00,2026-06-20,\n",
                "b.csv",
            )
        )

    assert caught.value.errors == ["line 3: ref R1 already appears on line 2"]


def test_imported_rows_are_written_in_the_files_order(tmp_path, account):
    from billing.services.imports import transactions_import

    rows = [f"T-{n},100234-01,2026-06-01,charge,1.00,2026-06-20,\n" for n in (10, 9, 30, 2)]
    transactions_import(path=write(tmp_path, TX_HEADER + "".join(rows)))

    written = LedgerEntry.objects.order_by("pk").values_list("source_key", flat=True)
    assert list(written) == ["import:T-10", "import:T-9", "import:T-30", "import:T-2"]
