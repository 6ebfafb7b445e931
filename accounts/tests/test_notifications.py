import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import EmailLog
from accounts.notification_kinds import notification_kinds
from accounts.notifications import email_send, notification_switches
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_every_switch_starts_at_yes():
    switches = notification_switches(user=UserFactory())
    assert set(switches) == set(notification_kinds())
    assert all(switches.values())


def test_a_customer_turns_off_one_kind_and_keeps_the_others(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("notification_preferences")).status_code == 200
    ticked = {kind: "on" for kind in notification_kinds() if kind != "bill_ready"}

    client.post(reverse("notification_preferences"), ticked)

    switches = notification_switches(user=user)
    assert switches["bill_ready"] is False
    assert all(on for kind, on in switches.items() if kind != "bill_ready")


def test_email_follows_the_switch_and_is_logged_either_way():
    on, off = UserFactory(), UserFactory()
    from accounts.notifications import notification_switches_set

    notification_switches_set(user=off, enabled={k: k != "past_due" for k in notification_kinds()})

    sent = email_send(
        kind="past_due",
        subject="Past due",
        template="emails/notice",
        context={"lines": ["Your account is past due."]},
        users=[on, off],
        reference="test:1",
    )

    assert sent == 1
    assert [m.to for m in mail.outbox] == [[on.email]]
    assert set(EmailLog.objects.values_list("to_email", "status")) == {
        (on.email, "sent"),
        (off.email, "skipped"),
    }
    assert "<p>" in mail.outbox[0].alternatives[0][0]  # text and HTML


def test_required_notices_go_even_when_switched_off():
    user = UserFactory()
    from accounts.notifications import notification_switches_set

    notification_switches_set(user=user, enabled={})
    email_send(
        kind="precertification",
        subject="Notice",
        template="emails/notice",
        context={"lines": ["Your account is past due."]},
        users=[user],
        required=True,
    )
    assert len(mail.outbox) == 1


def test_login_emails_from_allauth_are_logged(client):
    user = UserFactory()
    client.post(reverse("account_reset_password"), {"email": user.email})
    assert EmailLog.objects.filter(to_email=user.email, kind="login", status="sent").exists()
