"""Every email template the portal has, rendered the way it is sent, in English and Spanish: each
names the utility and every link in it is whole, from PORTAL_BASE_URL."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.template import engines
from django.template.utils import get_app_template_dirs
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from accounts.adapters import AccountAdapter, mail_context
from accounts.notifications import email_send
from accounts.tests.factories import AccountLinkFactory, UserFactory
from billing.models import Payment
from billing.services.notices import bills_send_ready_notices
from billing.services.receipts import payment_send_receipt
from billing.tests.factories import BillFactory

pytestmark = pytest.mark.django_db
BASE = "https://pay.utility.example"
URL = re.compile(r"""https?://[^\s"'<>]+""")
# A path alone where a link belongs: after a space, a quote, "href=" or "(".
RELATIVE = re.compile(r"""(?:^|[\s"'=(])/[a-z][\w-]*/""", re.MULTILINE)


def email_templates() -> set[str]:
    """Every email template on the template path, as a prefix allauth or email_send renders."""
    found = set()
    dirs = [*engines["django"].engine.dirs, *get_app_template_dirs("templates")]
    for template_dir in dirs:
        for path in Path(template_dir).rglob("*"):
            relative = path.relative_to(template_dir).as_posix()
            if re.fullmatch(r"(?:\w+/)?emails?/\w+_message\.txt", relative) and "/base_" not in relative:
                found.add(relative.removesuffix("_message.txt"))
            elif re.fullmatch(r"(?:\w+/)?emails/\w+\.txt", relative):
                found.add(relative.removesuffix(".txt"))
    return found


def check(message) -> None:
    bodies = [message.body, *(content for content, _ in getattr(message, "alternatives", []))]
    for body in bodies:
        assert settings.UTILITY_NAME in body, (message.subject, body)
        assert not re.search(r"\b(?:from|using|at) !", body), body
        assert not RELATIVE.search(body), body
        for url in URL.findall(body):
            assert url.startswith(BASE + "/"), (message.subject, url)


@override_settings(PORTAL_BASE_URL=BASE)
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_email_template_names_the_utility_and_links_whole(language):
    user = UserFactory(language=language)
    account = AccountLinkFactory(user=user).service_account
    adapter = AccountAdapter()
    rendered = set()
    mail.outbox.clear()

    # allauth's: as its flows would send them, with links built from a request to another host.
    host = "http://evil.example"
    for prefix in sorted(
        t for t in email_templates() if t.startswith(("account/", "mfa/", "socialaccount/"))
    ):
        context = {
            "user": user,
            "email": user.email,
            "key": "KEY",
            "code": "ABC123",
            "activate_url": f"{host}/auth/confirm-email/KEY/",
            "password_reset_url": f"{host}/auth/password/reset/key/1-KEY/",
            "signup_url": f"{host}/auth/signup/",
            "from_email": user.email,
            "to_email": user.email,
        }
        with translation.override(language):
            message = adapter.render_mail(prefix, user.email, mail_context(context))
        check(message)
        rendered.add(prefix)

    # The portal's own, through the services that send them.
    bill = BillFactory(service_account=account, total_due=Decimal("96.10"))
    bills_send_ready_notices(bill_ids=[bill.pk])
    rendered.add("billing/emails/bill_ready")
    payment = Payment.objects.create(
        service_account=account,
        amount=Decimal("20.00"),
        channel=Payment.Channel.ONLINE,
        method=Payment.Method.CARD,
        received_on=dt.date(2026, 12, 1),
        created_by=user,
        receipt_email=user.email,
        status=Payment.Status.SUCCEEDED,
    )
    payment_send_receipt(payment=payment)
    rendered.add("billing/emails/receipt")
    email_send(
        kind="staff",
        subject="A notice",
        template="emails/notice",
        context={"lines": ["Hello"], "link": reverse("autopay_manage", args=[account.pk])},
        users=[user],
        required=True,
    )
    rendered.add("emails/notice")

    assert len(mail.outbox) == 3
    for message in mail.outbox:
        check(message)
    assert rendered == email_templates()  # a new template fails here until it is added above
    assert len(rendered) > 20  # allauth's and the portal's: the search found them
