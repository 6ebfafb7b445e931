from billing.models.adjustments import Adjustment, AdjustmentReason
from billing.models.core import (
    AccountService,
    Bill,
    BillingAccount,
    BillLine,
    LedgerEntry,
    MeterRead,
    RateSchedule,
    Service,
)
from billing.models.payments import (
    Invoice,
    Payment,
    PaymentBatch,
    Refund,
    SavedCard,
    StripeCustomer,
    StripeEvent,
)

__all__ = [
    "Adjustment",
    "AdjustmentReason",
    "AccountService",
    "Bill",
    "BillLine",
    "BillingAccount",
    "Invoice",
    "LedgerEntry",
    "MeterRead",
    "Payment",
    "PaymentBatch",
    "RateSchedule",
    "Refund",
    "SavedCard",
    "Service",
    "StripeCustomer",
    "StripeEvent",
]
