import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from accounts.tests.factories import ServiceAccountFactory
from billing.models import BillingAccount, LedgerEntry
from billing.services.ledger import Posting, ledger_post, ledger_reverse
from billing.tests.factories import post
from kernel.errors import ApplicationError

D = dt.date


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE billing_ledgerentry SET amount = 1 WHERE id = %s",
        "DELETE FROM billing_ledgerentry WHERE id = %s",
    ],
)
def test_database_refuses_to_change_or_delete_a_ledger_row(sql):
    entry = post(ServiceAccountFactory(), "charge", "45.10", D(2026, 7, 1))

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [entry.pk])

    entry.refresh_from_db()
    assert entry.amount == Decimal("45.10")


@pytest.mark.django_db
def test_posting_moves_the_balance_and_a_replay_posts_nothing():
    account = ServiceAccountFactory()
    posting = Posting(
        service_account_id=account.pk,
        kind="charge",
        amount=Decimal("45.10"),
        posted_on=D(2026, 7, 1),
        due_date=D(2026, 7, 20),
        source_key="bill:x:2026-06",
    )

    first = ledger_post(postings=[posting])
    second = ledger_post(postings=[posting])

    assert len(first) == 1 and second == []
    assert LedgerEntry.objects.count() == 1
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("45.10")


@pytest.mark.django_db
def test_reversing_a_payment_raises_the_balance_again_and_cannot_be_overdone():
    account = ServiceAccountFactory()
    post(account, "charge", "60.00", D(2026, 7, 1), D(2026, 7, 20))
    payment = post(account, "payment", "60.00", D(2026, 7, 10))

    ledger_reverse(
        entry=payment, posted_on=D(2026, 7, 15), source_key="bounce:1", description="Returned check"
    )

    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("60.00")
    with pytest.raises(ApplicationError):
        ledger_reverse(entry=payment, posted_on=D(2026, 7, 16), source_key="bounce:2", description="again")
    assert (
        ledger_reverse(entry=payment, posted_on=D(2026, 7, 15), source_key="bounce:1", description="") is None
    )


@pytest.mark.django_db
def test_database_refuses_a_charge_without_a_due_date_or_a_positive_payment():
    account = ServiceAccountFactory()
    for kind, amount, due in [("charge", "5.00", None), ("payment", "5.00", None)]:
        with pytest.raises(DatabaseError), transaction.atomic():
            LedgerEntry.objects.create(
                service_account=account,
                kind=kind,
                amount=Decimal(amount),
                posted_on=D(2026, 7, 1),
                due_date=due,
                source_key=f"bad:{kind}",
            )


@pytest.mark.django_db(transaction=True)
def test_concurrent_postings_to_one_account_keep_the_balance_exact():
    account = ServiceAccountFactory()
    errors = []

    def pay(worker: int) -> None:
        try:
            for n in range(10):
                ledger_post(
                    postings=[
                        Posting(
                            service_account_id=account.pk,
                            kind="payment",
                            amount=Decimal("-1.25"),
                            posted_on=D(2026, 7, 1),
                            source_key=f"pay:{worker}:{n}",
                        )
                    ]
                )
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert LedgerEntry.objects.count() == 40
    assert BillingAccount.objects.get(pk=account.pk).balance == Decimal("-50.00")


@pytest.mark.django_db
def test_check_ledger_passes_when_balances_match_and_names_accounts_that_differ(capsys):
    account = ServiceAccountFactory(account_number="555000-01")
    post(account, "charge", "30.00", D(2026, 7, 1))
    call_command("check_ledger")
    assert "matches" in capsys.readouterr().out

    BillingAccount.objects.filter(pk=account.pk).update(balance=Decimal("29.00"))

    with pytest.raises(CommandError, match="1 account"):
        call_command("check_ledger")
    assert "555000-01: balance 29.00, ledger 30.00" in capsys.readouterr().err
