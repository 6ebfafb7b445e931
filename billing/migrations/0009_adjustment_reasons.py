from django.db import migrations

# A starting list; each utility edits its own in admin (Billing › Adjustment reasons).
REASONS = ["Leak credit", "Billing error", "Meter read error", "Fee waived", "Courtesy credit", "Bad debt write-off", "Transfer between accounts"]


def add_reasons(apps, schema_editor):
    AdjustmentReason = apps.get_model("billing", "AdjustmentReason")
    for name in REASONS:
        AdjustmentReason.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("billing", "0008_adjustmentreason_adjustment")]

    operations = [migrations.RunPython(add_reasons, migrations.RunPython.noop)]
