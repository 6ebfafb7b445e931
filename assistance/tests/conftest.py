import importlib
from decimal import Decimal

import pytest


@pytest.fixture(autouse=True)
def income_table(request):
    """The seed table its migration loads. Tests that empty every table between them
    (transaction=True) remove it, so it is put back for each test here."""
    if "django_db_setup" not in request.fixturenames and not request.node.get_closest_marker("django_db"):
        return
    request.getfixturevalue("_django_db_helper")
    from assistance.models import IncomeGuideline

    table = importlib.import_module("assistance.migrations.0002_seed_income_table").TABLE
    for size, limit, credit in table:
        IncomeGuideline.objects.get_or_create(
            program_year=2026,
            household_size=size,
            defaults={"monthly_income_limit": Decimal(limit), "credit": Decimal(credit)},
        )
