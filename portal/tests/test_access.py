"""Every URL pattern that takes an object id, requested as another customer and as a guest:
404 or a sign-in redirect every time. A new pattern fails here until it is added to ROUTES."""

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLResolver, get_resolver

from accounts.tests.factories import AccountLinkFactory, UserFactory
from assistance.tests.factories import submit
from billing.tests.factories import BillFactory, PaymentFactory, post
from certification.models import Certification, DisputeDocument
from certification.services.disputes import dispute_open
from certification.services.sweep import certification_sweep
from kernel.testing.files import png_bytes

pytestmark = pytest.mark.django_db
D = dt.date

# Patterns that take a key rather than an object id: allauth's emailed links (a wrong key is
# "invalid link", never someone's data).
KEYED = {"account_confirm_email", "account_reset_password_from_key"}
# Patterns whose parameter names a kind of page, not anyone's object.
KEYED |= {"moving_request"}


def id_routes() -> list[tuple[str, str]]:
    """(route, name) of every pattern with a converter, the admin's included."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern.name

    return [
        (route, name) for route, name in walk(get_resolver().url_patterns) if "<" in route or "(?P" in route
    ]


@pytest.fixture
def owner_objects():
    """One customer's account with a bill, a payment, an application with a document and a
    certification: the objects the routes point at."""
    owner = UserFactory()
    account = AccountLinkFactory(user=owner).service_account
    post(account, "charge", "40.00", D(2026, 2, 1), D(2026, 2, 20))
    certification_sweep(year=2026, today=D(2026, 6, 21))
    bill = BillFactory(service_account=account, new_charges=Decimal("10.00"))
    payment = PaymentFactory(
        client_token=uuid.uuid4(),
        service_account=account,
        amount=Decimal("10.00"),
        received_on=D(2026, 7, 2),
        created_by=owner,
    )
    application = submit(owner, account)
    from autopay.models import ScheduledPayment
    from autopay.services.bank_accounts import bank_account_add, bank_payment_make
    from billing.models import ServiceRequest

    bank = bank_account_add(
        user=owner,
        holder_name="Owner",
        routing_number="091000019",
        account_number="1234567",
        account_type="checking",
    )
    bank_payment = bank_payment_make(
        client_token=uuid.uuid4(),
        user=owner,
        service_account=account,
        bank_account=bank,
        amount=Decimal("5.00"),
        today=D(2026, 7, 1),
    )

    certification = Certification.objects.get(service_account=account)
    dispute = dispute_open(
        certification=certification,
        user=owner,
        reason="I paid in March.",
        documents=[SimpleUploadedFile("receipt.png", png_bytes())],
    )

    return {
        "service_request": ServiceRequest.objects.create(
            kind="move_out", requested_by=owner, from_account=account, stop_on=D(2026, 8, 1)
        ),
        "owner": owner,
        "account": account,
        "bill": bill,
        "payment": payment,
        "application": application,
        "document": application.documents.first(),
        "certification": certification,
        "dispute_document": DisputeDocument.objects.get(dispute=dispute),
        "bank_payment": bank_payment,
        "scheduled": ScheduledPayment.objects.create(
            service_account=account,
            user=owner,
            amount=Decimal("5.00"),
            pay_on=D(2099, 1, 1),
            bank_account=bank,
        ),
    }


# Each customer-facing route and the owner's objects its parameters name.
ROUTES = {
    "service_account_unlink": lambda o: {"pk": o["account"].pk},
    "service_account_detail": lambda o: {"pk": o["account"].pk},
    "contact_details": lambda o: {"pk": o["account"].pk},
    "bill_list": lambda o: {"pk": o["account"].pk},
    "bill_detail": lambda o: {"pk": o["account"].pk, "bill_pk": o["bill"].pk},
    "bill_pdf": lambda o: {"pk": o["account"].pk, "bill_pk": o["bill"].pk},
    "transaction_list": lambda o: {"pk": o["account"].pk},
    "paperless_update": lambda o: {"pk": o["account"].pk},
    "pay_account": lambda o: {"pk": o["account"].pk},
    "payment_start_account": lambda o: {"pk": o["account"].pk},
    "payment_charge": lambda o: {"token": o["payment"].client_token},
    "payment_complete": lambda o: {"token": o["payment"].client_token},
    "payment_receipt": lambda o: {"token": o["payment"].client_token},
    "autopay_manage": lambda o: {"pk": o["account"].pk},
    "autopay_change": lambda o: {"pk": o["account"].pk},
    "autopay_cancel": lambda o: {"pk": o["account"].pk},
    "pay_by_bank": lambda o: {"pk": o["account"].pk},
    "bank_payment_done": lambda o: {"token": o["bank_payment"].client_token},
    "scheduled_payments": lambda o: {"pk": o["account"].pk},
    "scheduled_payment_cancel": lambda o: {"pk": o["account"].pk, "scheduled_pk": o["scheduled"].pk},
    "assistance_detail": lambda o: {"pk": o["application"].pk},
    "assistance_document": lambda o: {"pk": o["document"].pk},
    "assistance_documents_add": lambda o: {"pk": o["application"].pk},
    "payment_plan": lambda o: {"pk": o["account"].pk},
    "payment_plan_withdraw": lambda o: {"pk": o["account"].pk},
    "pay_by_text": lambda o: {"pk": o["account"].pk},
    "usage_alerts": lambda o: {"pk": o["account"].pk},
    "usage_download": lambda o: {"pk": o["account"].pk, "kind": "xml"},
    "certification_dispute_document": lambda o: {"pk": o["dispute_document"].pk},
    "moving_withdraw": lambda o: {"pk": o["service_request"].pk},
    "certification_dispute": lambda o: {"pk": o["account"].pk, "certification_pk": o["certification"].pk},
}


def request(client: Client, url: str):
    """The method the view answers: GET, or POST for the views that only take a form."""
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, {})
    return response


def signed_in_redirect(response) -> bool:
    return (
        response.status_code == 302 and re.match(r"^/(auth|admin)/login/", response["Location"]) is not None
    )


def test_every_id_route_is_covered():
    routes = id_routes()
    # Staff pages (/staff/...) are staff_member_required; who reaches each is test_roles.py's matrix.
    customer = {
        name for route, name in routes if not route.startswith(("admin/", "staff/")) and name not in KEYED
    }
    assert customer == set(ROUTES), "add the new route to ROUTES (or KEYED) with the objects it takes"
    assert len([r for r, _ in routes if r.startswith("admin/")]) > 50  # the admin's are walked below


def test_another_customer_gets_404_and_a_guest_is_sent_to_sign_in(owner_objects):
    from django.urls import reverse

    other = Client()
    stranger = UserFactory()
    AccountLinkFactory(user=stranger)
    other.force_login(stranger)
    guest = Client()
    owner = Client()
    owner.force_login(owner_objects["owner"])
    for name, kwargs in ROUTES.items():
        url = reverse(name, kwargs=kwargs(owner_objects))
        assert request(other, url).status_code == 404, f"another customer reached {name}"
        response = request(guest, url)
        assert response.status_code == 404 or signed_in_redirect(response), f"a guest reached {name}"
        # The owner is not refused: the 404s above are about who asks, not a wrong id.
        assert request(owner, url).status_code != 404, f"the owner could not reach {name}"


def test_every_admin_route_with_an_id_sends_customers_and_guests_to_sign_in(owner_objects):
    customer = Client()
    customer.force_login(owner_objects["owner"])
    guest = Client()
    object_id = str(owner_objects["account"].pk)
    checked = 0
    for route, _ in id_routes():
        if not route.startswith("admin/"):
            continue
        path = "/" + re.sub(r"<[^>]+>", object_id, route).replace("^", "").replace("$", "")
        if "(?P" in path:
            continue  # the admin's catch-all regex
        for client in (customer, guest):
            response = client.get(path)
            assert response.status_code == 404 or signed_in_redirect(response), path
        checked += 1
    assert checked > 50
