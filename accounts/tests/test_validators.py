import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse


def messages_for(password: str) -> list[str]:
    try:
        validate_password(password)
    except ValidationError as exc:
        return exc.messages
    return []


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Sh0rt!x", "at least 8 characters"),
        ("lower-case-only-9", "upper-case letter"),
        ("UPPER-CASE-ONLY-9", "lower-case letter"),
        ("NoSymbolsHere2026", "not a letter or a digit"),
    ],
)
def test_password_breaking_one_rule_gets_exactly_that_rules_message(password, rule):
    found = messages_for(password)
    assert len(found) == 1, found
    assert rule in found[0]


def test_password_breaking_every_rule_names_each_rule():
    found = " ".join(messages_for("abc"))
    for rule in ["at least 8 characters", "upper-case letter", "not a letter or a digit"]:
        assert rule in found


def test_password_meeting_the_policy_passes():
    assert messages_for("Rain-Barrel-42") == []


def test_long_passphrase_is_accepted():
    assert messages_for("Correct horse battery staple, " * 3 + "Yes!") == []


def test_letters_outside_a_to_z_count_for_case_rules():
    assert messages_for("Ñandú-río-mañana") == []


def test_common_password_is_rejected_even_when_it_meets_the_policy():
    found = messages_for("Password1!")
    assert any("too common" in message for message in found)


@pytest.mark.django_db
def test_signup_form_shows_the_rule_that_failed(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.com", "password1": "nouppercase-1", "password2": "nouppercase-1"},
    )
    assert response.status_code == 200
    assert "upper-case letter" in response.content.decode()
    from accounts.models import User

    assert not User.objects.filter(email="new@example.com").exists()
