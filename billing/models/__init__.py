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
from billing.models.journal import GLAccount
from billing.models.payments import (
    Invoice,
    LockboxException,
    Payment,
    PaymentBatch,
    Refund,
    SavedCard,
    StripeCustomer,
    StripeEvent,
)
from billing.models.service_requests import ServiceRequest
from billing.models.usage import IntervalRead, UsageAlert, UsageAlertSetting

__all__ = [
    "IntervalRead",
    "UsageAlert",
    "UsageAlertSetting",
    "Adjustment",
    "AdjustmentReason",
    "AccountService",
    "Bill",
    "GLAccount",
    "BillLine",
    "BillingAccount",
    "Invoice",
    "LedgerEntry",
    "LockboxException",
    "MeterRead",
    "Payment",
    "PaymentBatch",
    "RateSchedule",
    "Refund",
    "SavedCard",
    "Service",
    "ServiceRequest",
    "StripeCustomer",
    "StripeEvent",
]
