"""Text messages through the Twilio stand-in: a number confirmed by code, a switch per kind,
quiet hours, STOP / HELP / START, and Twilio's signature on every incoming request."""

import datetime as dt

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from accounts.models import TextMessage, User
from accounts.notifications import email_send
from accounts.tests.factories import UserFactory
from accounts.tests.texts import DAYTIME, NUMBER, confirmed, incoming, signed_post, standin, texts_to
from accounts.texts import mobile_code_confirm, mobile_code_send, text_switches_set, texts_send_queued
from kernel.errors import ApplicationError

pytestmark = pytest.mark.django_db
NIGHT = dt.datetime(2026, 12, 2, 6, tzinfo=dt.UTC)  # 10 p.m. Pacific


@pytest.fixture(autouse=True)
def fresh_standin():
    standin("/_standin/reset", {})


def test_a_number_is_confirmed_with_the_code_texted_to_it(client, time_machine):
    time_machine.move_to(DAYTIME, tick=False)
    user = UserFactory()
    client.force_login(user)
    url = reverse("text_settings")

    response = client.post(url, {"action": "send", "number": "(503) 555-0100"})

    assert response.status_code == 302
    (text,) = texts_to(NUMBER)
    code = text.split("code is ")[1][:6]
    assert text.startswith(f"{settings.UTILITY_NAME}: your code is ") and len(code) == 6
    wrong = "000000" if code != "000000" else "111111"
    assert client.post(url, {"action": "confirm", "code": wrong}).status_code == 400
    assert not User.objects.get(pk=user.pk).mobile_confirmed_at
    assert client.post(url, {"action": "confirm", "code": code}).status_code == 302
    user.refresh_from_db()
    assert (user.mobile_number, user.texts_on) == (NUMBER, True)
    page = client.get(url).content.decode()
    assert "(503) 555-0100" in page and "Send me a text when" in page
    assert TextMessage.objects.filter(kind="confirm", status="sent", number=NUMBER).count() == 1


def test_five_wrong_codes_end_the_code_and_bad_numbers_are_refused(time_machine):
    time_machine.move_to(DAYTIME, tick=False)
    user = UserFactory()
    with pytest.raises(ApplicationError, match="mobile number like"):
        mobile_code_send(user=user, number_typed="555-01")
    mobile_code_send(user=user, number_typed=NUMBER)
    for _ in range(5):
        with pytest.raises(ApplicationError, match="not the code"):
            mobile_code_confirm(
                user=user, code="999999" if "999999" not in texts_to(NUMBER)[-1] else "888888"
            )
    with pytest.raises(ApplicationError, match="Too many wrong codes"):
        mobile_code_confirm(user=user, code=texts_to(NUMBER)[-1].split("code is ")[1][:6])
    assert not User.objects.get(pk=user.pk).mobile_confirmed_at
    other = confirmed(UserFactory(), "+15035550111")
    with pytest.raises(ApplicationError, match="another login"):
        mobile_code_send(user=user, number_typed=other.mobile_number)


def test_texts_follow_their_own_switches_and_all_start_off(time_machine):
    time_machine.move_to(DAYTIME, tick=False)
    user = confirmed(UserFactory())
    notice = {"kind": "bill_ready", "template": "emails/notice", "context": {"lines": ["x"]}}

    email_send(subject="Your bill is ready", users=[user], **notice)
    assert texts_to(NUMBER) == [texts_to(NUMBER)[0]]  # only the code so far

    text_switches_set(user=user, enabled={"bill_ready": True})
    email_send(subject="Your bill is ready", users=[user], **notice)
    email_send(
        subject="A payment was received",
        users=[user],
        **{**notice, "kind": "payment_received"},
    )

    last = texts_to(NUMBER)[-1]
    assert last == f"{settings.UTILITY_NAME}: Your bill is ready {settings.PORTAL_BASE_URL}"
    assert len(texts_to(NUMBER)) == 2  # the payment notice stays email only
    with pytest.raises(ApplicationError, match="Confirm a mobile number first"):
        text_switches_set(user=UserFactory(), enabled={"bill_ready": True})


def test_a_text_in_quiet_hours_waits_for_eight_in_the_morning(time_machine):
    time_machine.move_to(DAYTIME, tick=False)
    user = confirmed(UserFactory())
    text_switches_set(user=user, enabled={"past_due": True})
    time_machine.move_to(NIGHT, tick=False)

    email_send(
        kind="past_due",
        subject="Your account is past due",
        template="emails/notice",
        context={"lines": ["x"]},
        users=[user],
    )

    queued = TextMessage.objects.get(kind="past_due")
    assert queued.status == "queued"
    assert queued.send_after == dt.datetime(2026, 12, 2, 16, tzinfo=dt.UTC)  # 8 a.m. Pacific
    assert texts_send_queued(now=dt.datetime(2026, 12, 2, 15, 59, tzinfo=dt.UTC)) == 0  # 7:59 a.m.
    assert len(texts_to(NUMBER)) == 1
    assert texts_send_queued(now=dt.datetime(2026, 12, 2, 16, tzinfo=dt.UTC)) == 1
    assert texts_send_queued(now=dt.datetime(2026, 12, 2, 16, 10, tzinfo=dt.UTC)) == 0  # once
    assert texts_to(NUMBER)[-1].startswith(f"{settings.UTILITY_NAME}: Your account is past due")


def test_stop_turns_every_text_off_and_start_lets_them_come_again(client, time_machine):
    time_machine.move_to(DAYTIME, tick=False)
    user = confirmed(UserFactory())
    text_switches_set(user=user, enabled={"bill_ready": True, "past_due": True})

    response = signed_post(client, incoming("Stop", sid="SM1"))

    assert response.status_code == 200 and "no more texts" in response.content.decode()
    user.refresh_from_db()
    assert user.texts_stopped_at is not None and not user.texts_on
    assert not user.notification_preferences.filter(text_enabled=True).exists()
    help_reply = signed_post(client, incoming("HELP", sid="SM2")).content.decode()
    assert "Reply STOP to stop" in help_reply and settings.UTILITY_PHONE in help_reply
    start = signed_post(client, incoming("start", sid="SM3")).content.decode()
    assert "texts can come to you again" in start
    user.refresh_from_db()
    assert user.texts_on
    other = signed_post(client, incoming("what is this?", sid="SM4")).content.decode()
    assert "Reply STOP to stop" in other  # anything else: the help text
    assert TextMessage.objects.filter(direction="in").count() == 4


def test_a_forged_or_replayed_incoming_text_changes_nothing(client, time_machine):
    time_machine.move_to(DAYTIME, tick=False)
    user = confirmed(UserFactory())

    forged = signed_post(client, incoming("STOP", sid="SM9"), token="not-twilio's-token")
    unsigned = client.post(reverse("text_incoming"), incoming("STOP", sid="SM9"))
    assert forged.status_code == 403 and unsigned.status_code == 403
    user.refresh_from_db()
    assert user.texts_on and not TextMessage.objects.filter(direction="in").exists()

    first = signed_post(client, incoming("STOP", sid="SM10"))
    User.objects.filter(pk=user.pk).update(texts_stopped_at=None)  # turned back on from the website
    replayed = signed_post(client, incoming("STOP", sid="SM10"))  # the same message again
    assert first.status_code == replayed.status_code == 200
    assert "<Message>" not in replayed.content.decode()
    user.refresh_from_db()
    assert user.texts_on  # the replay did not stop them again
    assert client.get(reverse("text_incoming")).status_code == 405


def test_the_standin_delivers_incoming_texts_signed_as_twilio_does(live_server, settings, time_machine):
    time_machine.move_to(DAYTIME, tick=True)
    settings.PORTAL_BASE_URL = live_server.url
    user = confirmed(UserFactory())

    answer = standin(
        "/_standin/incoming",
        {"url": live_server.url + reverse("text_incoming"), "From": NUMBER, "Body": "STOP"},
    )

    assert answer["status"] == 200 and "no more texts" in answer["body"]
    user.refresh_from_db()
    assert user.texts_stopped_at is not None
    cache.clear()
