from accounts.models import ServiceAccount
from billing.models import BillingAccount
from billing.services.ledger import billing_accounts_ensure


def billing_account_set_paperless(*, service_account: ServiceAccount, paperless: bool) -> BillingAccount:
    """Choose bills by email only (paperless) or mailed paper bills as well."""
    billing_accounts_ensure(service_account_ids=[service_account.pk])
    BillingAccount.objects.filter(pk=service_account.pk).update(paperless=paperless)
    return BillingAccount.objects.get(pk=service_account.pk)
