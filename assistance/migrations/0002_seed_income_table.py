"""The seed city's Utility Assistance Program table (shared/seeds/004_…), as the 2026 program
year's table. Staff edit it, and add next year's, in admin."""
from decimal import Decimal

from django.db import migrations

TABLE = [
    (1, "1792", "25"),
    (2, "2344", "50"),
    (3, "2895", "75"),
    (4, "3446", "90"),
    (5, "3998", "100"),
    (6, "4549", "125"),  # 6 or more
]


def load(apps, schema_editor):
    IncomeGuideline = apps.get_model("assistance", "IncomeGuideline")
    for size, limit, credit in TABLE:
        IncomeGuideline.objects.get_or_create(
            program_year=2026,
            household_size=size,
            defaults={"monthly_income_limit": Decimal(limit), "credit": Decimal(credit)},
        )


def unload(apps, schema_editor):
    apps.get_model("assistance", "IncomeGuideline").objects.filter(program_year=2026).delete()


class Migration(migrations.Migration):
    dependencies = [("assistance", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
