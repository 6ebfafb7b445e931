import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import ServiceAccount
from accounts.tests.factories import ServiceAccountFactory

pytestmark = pytest.mark.django_db

HEADER = "account_number,customer_name,service_address,service_city,service_zip,tax_lot,email,phone,status\n"
GOOD_ROWS = (
    "100234-01,Maria Garcia,150 Beavercreek Rd,Oregon City,97045,2S2E29AB01200,"
    "maria@example.com,503-555-0101,\n"
    '100235-01,"Nguyen, Linh",12 Main St,Gladstone,97027,2S2E17CD00400,,,closed\n'
)


def write(tmp_path, text: str, name="accounts.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def run_import(path):
    call_command("import_accounts", path)


def import_errors(path, capsys) -> tuple[str, str]:
    with pytest.raises(CommandError) as exc:
        run_import(path)
    return str(exc.value), capsys.readouterr().err


def test_import_creates_every_account_exactly_as_written(tmp_path):
    run_import(write(tmp_path, HEADER + GOOD_ROWS))

    maria = ServiceAccount.objects.get(account_number="100234-01")
    linh = ServiceAccount.objects.get(account_number="100235-01")
    assert (maria.customer_name, maria.service_zip, maria.tax_lot, maria.status) == (
        "Maria Garcia",
        "97045",
        "2S2E29AB01200",
        "active",
    )
    assert (linh.customer_name, linh.status, linh.email) == ("Nguyen, Linh", "closed", "")


def test_second_import_of_the_same_file_changes_nothing(tmp_path, capsys):
    path = write(tmp_path, HEADER + GOOD_ROWS)
    run_import(path)
    before = list(ServiceAccount.objects.values().order_by("pk"))
    capsys.readouterr()

    run_import(path)

    assert "0 created, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert list(ServiceAccount.objects.values().order_by("pk")) == before


def test_import_updates_changed_accounts(tmp_path, capsys):
    ServiceAccountFactory(account_number="100234-01", customer_name="Old Name")
    run_import(write(tmp_path, HEADER + GOOD_ROWS))

    assert ServiceAccount.objects.get(account_number="100234-01").customer_name == "Maria Garcia"
    assert "1 created, 1 updated, 0 unchanged" in capsys.readouterr().out


def test_bad_zip_is_reported_with_its_line_number_and_nothing_is_written(tmp_path, capsys):
    path = write(tmp_path, HEADER + GOOD_ROWS + "100236-01,Ann Lee,9 Oak St,,9704,2S2E29AB09999,,,\n")

    reason, err = import_errors(path, capsys)

    assert "line 4: service_zip '9704' is not a 5-digit ZIP code" in err
    assert "nothing was imported" in reason
    assert not ServiceAccount.objects.exists()


def test_duplicate_account_number_names_both_lines(tmp_path, capsys):
    path = write(tmp_path, HEADER + GOOD_ROWS + "100234-01,Someone Else,1 Elm St,,97045,2S2E29AB07777,,,\n")

    _, err = import_errors(path, capsys)

    assert "line 4: account_number 100234-01 already appears on line 2" in err
    assert not ServiceAccount.objects.exists()


def test_missing_required_column_is_named(tmp_path, capsys):
    path = write(tmp_path, "account_number,customer_name,service_address,service_zip\n1,A,B,97045\n")

    _, err = import_errors(path, capsys)

    assert "line 1: missing required column(s): tax_lot" in err


def test_every_problem_in_the_file_is_reported_at_once(tmp_path, capsys):
    rows = (
        "100300-01,,1 A St,,97045,LOT1,,,\n"
        "100301-01,B,2 B St,,97045,LOT2,not-an-email,,\n"
        "100302-01,C,3 C St,,97045,LOT3,,,paused\n"
    )
    _, err = import_errors(write(tmp_path, HEADER + rows), capsys)

    assert "line 2: customer_name is required" in err
    assert "line 3: email 'not-an-email' is not a valid email address" in err
    assert "line 4: status 'paused' is not one of: active, closed" in err


def test_one_bad_row_leaves_existing_accounts_untouched(tmp_path, capsys):
    ServiceAccountFactory(account_number="100234-01", customer_name="Old Name")
    path = write(tmp_path, HEADER + GOOD_ROWS + "100236-01,Ann Lee,9 Oak St,,ABCDE,LOT,,,\n")

    import_errors(path, capsys)

    assert ServiceAccount.objects.get().customer_name == "Old Name"


def test_file_that_is_not_utf8_is_refused_plainly(tmp_path, capsys):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "100234-01,José Núñez,1 A St,,97045,LOT,,,\n").encode("latin-1"))

    _, err = import_errors(str(path), capsys)

    assert "not UTF-8" in err
    assert not ServiceAccount.objects.exists()


def test_missing_file_is_a_one_line_reason(tmp_path, capsys):
    _, err = import_errors(str(tmp_path / "nope.csv"), capsys)
    assert "cannot open" in err


def test_utf8_with_byte_order_mark_from_a_spreadsheet_is_accepted(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + HEADER + GOOD_ROWS).encode("utf-8"))
    run_import(str(path))
    assert ServiceAccount.objects.count() == 2


@pytest.mark.django_db
def test_a_new_name_or_tax_lot_by_import_is_in_the_audit_trail_with_the_old_and_new(tmp_path):
    from kernel.models import AuditEvent

    path = tmp_path / "accounts.csv"
    header = "account_number,customer_name,service_address,service_zip,tax_lot\n"
    path.write_text(header + "300900-01,Ana Ruiz,1 Main St,97045,2S2E01AA00100\n")
    call_command("import_accounts", str(path))
    path.write_text(header + "300900-01,Ana Ruiz Soto,1 Main St,97045,2S2E01AA00100\n")

    call_command("import_accounts", str(path))

    (event,) = AuditEvent.objects.filter(action="account.identity")
    assert event.changes == {"customer_name": ["Ana Ruiz", "Ana Ruiz Soto"]}
    assert (event.account_number, event.actor) == ("300900-01", None)


MAILING_HEADER = (
    "account_number,customer_name,service_address,service_zip,tax_lot,service_state,"
    "mailing_name,mailing_address,mailing_city,mailing_state,mailing_zip\n"
)


def test_mailing_addresses_and_states_are_imported_and_letters_go_there(tmp_path):
    run_import(
        write(
            tmp_path,
            MAILING_HEADER
            + "100301-01,Pat Doe,12 Elm St,97045,2S2E01,,Acme Rentals c/o Pat Doe,PO Box 77,Portland,or,97208-0077\n"
            + "100302-01,Lee Wu,14 Elm St,97045,2S2E02,wa,,,,,\n",
        )
    )

    landlord = ServiceAccount.objects.get(account_number="100301-01")
    owner = ServiceAccount.objects.get(account_number="100302-01")
    assert landlord.service_state == "OR"  # the utility's state when the file leaves it empty
    assert landlord.mail_to == ["Acme Rentals c/o Pat Doe", "PO Box 77", "Portland, OR 97208-0077"]
    assert landlord.mail_to_zip == "97208-0077"
    assert owner.mail_to == ["Lee Wu", "14 Elm St", "WA 97045"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "100301-01,Pat Doe,12 Elm St,97045,2S2E01,Oregon,,,,,",
            "service_state 'OREGON' is not a two-letter state",
        ),
        ("100301-01,Pat Doe,12 Elm St,97045,2S2E01,,,PO Box 77,Portland,,97208", "needs mailing_state too"),
        (
            "100301-01,Pat Doe,12 Elm St,97045,2S2E01,,,PO Box 77,Portland,OR,9720",
            "mailing_zip '9720' is not",
        ),
        ("100301-01,Pat Doe,12 Elm St,97045,2S2E01,,Someone,,,,", "needs mailing_address, mailing_city"),
    ],
)
def test_a_bad_state_or_half_a_mailing_address_is_refused_with_its_line(tmp_path, capsys, row, message):
    error, err = import_errors(write(tmp_path, MAILING_HEADER + row + "\n"), capsys)
    assert "line 2" in err + error and message in err + error
    assert not ServiceAccount.objects.exists()


def test_an_older_file_without_the_address_columns_keeps_what_a_clerk_typed(tmp_path):
    run_import(
        write(
            tmp_path,
            MAILING_HEADER + "100301-01,Pat Doe,12 Elm St,97045,2S2E01,WA,Acme,PO Box 77,Portland,OR,97208\n",
        )
    )

    run_import(write(tmp_path, HEADER + "100301-01,Pat Doe,12 Elm St,,97045,2S2E01,,,\n", name="old.csv"))

    account = ServiceAccount.objects.get(account_number="100301-01")
    assert (account.service_state, account.mailing_address, account.mailing_zip) == (
        "WA",
        "PO Box 77",
        "97208",
    )


def test_a_clerk_saving_half_a_mailing_address_is_told_which_fields_are_missing(client):
    from django.urls import reverse

    from accounts.tests.factories import staff_user
    from kernel.testing.admin_forms import admin_form_data

    account = ServiceAccountFactory()
    client.force_login(staff_user("Clerks"))
    url = reverse("admin:accounts_serviceaccount_change", args=[account.pk])
    data = admin_form_data(client.get(url).content.decode())
    data.update(mailing_address="PO Box 77", mailing_state="or")

    response = client.post(url, data)

    assert response.status_code == 200
    assert response.content.decode().count("Needed for a mailing address") == 2  # city and ZIP code
    account.refresh_from_db()
    assert account.mailing_address == ""


def test_a_long_file_creates_updates_and_leaves_each_account_as_written(tmp_path):
    from accounts.services import service_accounts_import

    def rows(name_of):
        return HEADER + "".join(
            f"{n:06d}-01,{name_of(n)},{n} Main St,Oregon City,97045,2S2E{n:08d},,,\n" for n in range(1, 6001)
        )

    first = service_accounts_import(path=write(tmp_path, rows(lambda n: f"Customer {n}")))
    again = service_accounts_import(
        path=write(tmp_path, rows(lambda n: f"Renamed {n}" if n % 1000 == 0 else f"Customer {n}"), "b.csv")
    )

    assert (first.created, first.updated, first.unchanged) == (6000, 0, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 6, 5994)
    assert ServiceAccount.objects.get(account_number="003000-01").customer_name == "Renamed 3000"
    assert ServiceAccount.objects.get(account_number="003001-01").customer_name == "Customer 3001"
    codes = set(ServiceAccount.objects.values_list("access_code", flat=True))
    assert len(codes) == 6000 and all(codes)  # each account its own code to link a login with
