import secrets

from django.db import migrations, models

import accounts.models

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def give_each_account_a_code(apps, schema_editor):
    ServiceAccount = apps.get_model("accounts", "ServiceAccount")
    batch = []
    for account in ServiceAccount.objects.only("pk").iterator(chunk_size=5000):
        account.access_code = "".join(secrets.choice(ALPHABET) for _ in range(8))
        batch.append(account)
        if len(batch) == 5000:
            ServiceAccount.objects.bulk_update(batch, ["access_code"])
            batch = []
    ServiceAccount.objects.bulk_update(batch, ["access_code"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_account_number_key_index")]

    operations = [
        migrations.AddField(
            model_name="serviceaccount",
            name="access_code",
            field=models.CharField(default="", max_length=8),
            preserve_default=False,
        ),
        migrations.RunPython(give_each_account_a_code, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="serviceaccount",
            name="access_code",
            field=models.CharField(
                default=accounts.models.access_code_new,
                help_text="Printed on every bill; a customer types it to link the account to a login.",
                max_length=8,
            ),
        ),
    ]
