"""The income table: who is likely eligible and for what credit, and the public page that shows it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from assistance.services.eligibility import eligibility_check

D = dt.date
TODAY = D(2026, 11, 22)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("size", "income", "eligible", "credit"),
    [
        (1, "1792.00", True, "25"),
        (1, "1792.01", False, "0"),
        (3, "2895.00", True, "75"),
        (6, "4549.00", True, "125"),
        (6, "4549.01", False, "0"),
        (9, "4549.00", True, "125"),  # the last row covers 6 or more
        (9, "4600.00", False, "0"),
    ],
)
def test_eligibility_at_the_limit_and_one_cent_over(size, income, eligible, credit):
    result = eligibility_check(household_size=size, monthly_income=Decimal(income), on=TODAY)
    assert (result.likely_eligible, result.credit) == (eligible, Decimal(credit))


@pytest.mark.django_db
def test_eligibility_page_needs_no_login_and_shows_the_table(client):
    response = client.get(
        reverse("assistance_eligibility"), {"household_size": "2", "monthly_income": "2344"}
    )
    body = response.content.decode()
    assert "You are likely eligible" in body and "$50.00" in body
    assert "$4,549.00" in body  # the table
    over = client.get(reverse("assistance_eligibility"), {"household_size": "2", "monthly_income": "2344.01"})
    assert "Probably not eligible" in over.content.decode()
