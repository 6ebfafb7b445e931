"""A customer disputes certified charges: listed by month with their bills, named, explained,
with a document; acknowledged; clerks and finance told; one open dispute at a time."""

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import AccountLinkFactory, UserFactory, staff_user
from billing.models import Bill
from billing.tests.factories import post
from certification.models import Certification, Dispute
from certification.services.sweep import certification_sweep
from kernel.testing.files import pdf_bytes, png_bytes, upload

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def certified(client, time_machine):
    time_machine.move_to(dt.datetime(2026, 7, 2, 18, tzinfo=dt.UTC), tick=False)
    user = UserFactory()
    account = AccountLinkFactory(user=user).service_account
    february = post(account, "charge", "40.00", D(2026, 2, 1), D(2026, 2, 20))
    post(account, "charge", "30.00", D(2026, 3, 1), D(2026, 3, 20))
    Bill.objects.create(
        service_account=account,
        period=D(2026, 1, 1),
        issued_on=D(2026, 2, 1),
        due_date=D(2026, 2, 20),
        previous_balance=0,
        payments_and_credits=0,
        new_charges="40.00",
        total_due="40.00",
        past_due_amount=0,
        ledger_entry=february,
    )
    certification_sweep(year=2026, today=D(2026, 6, 21))
    client.force_login(user)
    return user, account, Certification.objects.get(service_account=account)


def test_the_charges_are_listed_by_month_with_their_bills(client, certified):
    _, account, certification = certified
    page = client.get(reverse("certification_dispute", args=[account.pk, certification.pk])).content.decode()

    assert page.index("January 2026") < page.index("February 2026")  # the months billed, oldest first
    bill = Bill.objects.get(service_account=account)
    assert reverse("bill_detail", args=[account.pk, bill.pk]) in page
    assert "$40.00" in page and "$30.00" in page
    assert page.count('name="items"') == 2


def test_a_dispute_names_its_charges_takes_a_document_and_everyone_is_told(client, certified):
    user, account, certification = certified
    clerk, finance, supervisor = staff_user("Clerks"), staff_user("Finance"), staff_user("Supervisors")
    march = certification.items.get(amount="30.00")
    url = reverse("certification_dispute", args=[account.pk, certification.pk])

    response = client.post(
        url,
        {
            "items": [str(march.pk)],
            "reason": "I paid March at the lobby.",
            "document": upload("receipt.png", png_bytes()),
        },
    )

    assert response.status_code == 302
    dispute = Dispute.objects.get()
    assert list(dispute.items.all()) == [march] and dispute.reason == "I paid March at the lobby."
    (document,) = dispute.documents.all()
    assert Path(settings.PRIVATE_MEDIA_ROOT, document.file.name).read_bytes().startswith(b"gAAAAA")
    to = {address for message in mail.outbox for address in message.to}
    assert {user.email, clerk.email, finance.email} <= to and supervisor.email not in to
    ack = next(m for m in mail.outbox if m.to == [user.email])
    assert "1 certified charge ($30.00)" in ack.body
    staff = next(m for m in mail.outbox if clerk.email in m.to)
    assert "Charges disputed:" in staff.body and "$30.00" in staff.body and "I paid March" in staff.body
    assert client.get(reverse("certification_dispute_document", args=[document.pk])).status_code == 200

    # While it is investigated: no second form, a second post changes nothing, the account page says so.
    page = client.get(url).content.decode()
    assert "Your dispute is being investigated" in page and 'name="reason"' not in page
    assert client.post(url, {"reason": "Again"}).status_code == 400
    assert Dispute.objects.count() == 1
    detail = client.get(reverse("service_account_detail", args=[account.pk])).content.decode()
    assert "Being investigated since" in detail
    client.force_login(UserFactory())
    assert client.get(reverse("certification_dispute_document", args=[document.pk])).status_code == 404


def test_a_wrong_file_or_a_charge_of_another_certification_changes_nothing(client, certified):
    _, account, certification = certified
    url = reverse("certification_dispute", args=[account.pk, certification.pk])

    bad_file = client.post(url, {"reason": "Wrong", "document": upload("receipt.pdf", png_bytes())})
    assert bad_file.status_code == 400 and "does not contain what its name says" in bad_file.content.decode()
    bad_item = client.post(url, {"reason": "Wrong", "items": ["999999"]})
    assert bad_item.status_code == 400
    no_reason = client.post(url, {"reason": " ", "document": upload("r.pdf", pdf_bytes())})
    assert "Tell us what you believe is wrong." in no_reason.content.decode()
    assert not Dispute.objects.exists()


def test_clerks_and_finance_see_the_charges_and_open_the_documents_in_admin(client, certified):
    user, account, certification = certified
    march = certification.items.get(amount="30.00")
    client.post(
        reverse("certification_dispute", args=[account.pk, certification.pk]),
        {"items": [str(march.pk)], "reason": "Paid.", "document": upload("receipt.png", png_bytes())},
    )
    dispute = Dispute.objects.get()
    document = dispute.documents.get()
    for role in ("Clerks", "Finance"):
        client.force_login(staff_user(role))
        page = client.get(reverse("admin:certification_dispute_change", args=[dispute.pk])).content.decode()
        assert "receipt.png" in page and reverse("certification_dispute_document", args=[document.pk]) in page
        assert "$30.00" in page  # the charge disputed
        assert client.get(reverse("certification_dispute_document", args=[document.pk])).status_code == 200
