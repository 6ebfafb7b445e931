"""Reads of autopay: an account's active enrollment and agreement, and what autopay adds to
billing's pages through its hooks."""


def enrollment_active(*, service_account):
    """The account's active card or bank-account autopay, with its method, or None."""
    from autopay.models import AutopayEnrollment

    return (
        AutopayEnrollment.objects.filter(
            service_account=service_account, status=AutopayEnrollment.Status.ACTIVE
        )
        .select_related("card", "bank_account")
        .first()
    )


def agreement_active(*, service_account):
    """The account's active paper bank-draft agreement, or None."""
    from autopay.models import BankDraftAgreement

    return BankDraftAgreement.objects.filter(
        service_account=service_account, status=BankDraftAgreement.Status.ACTIVE
    ).first()


def staff_account_flags(*, service_account) -> list[tuple[str, str]]:
    from autopay.models import AutopayEnrollment, BankDraftAgreement

    flags = []
    for enrollment in AutopayEnrollment.objects.filter(
        service_account=service_account, status="active"
    ).select_related("card", "bank_account", "user"):
        flags.append(
            (
                "Card autopay" if enrollment.card_id else "Bank account autopay (online)",
                f"{enrollment.method}, day {enrollment.draft_day}, by {enrollment.user.email}",
            )
        )
    for agreement in BankDraftAgreement.objects.filter(service_account=service_account, status="active"):
        flags.append(
            (
                "Bank draft",
                f"{agreement.get_account_type_display()} ending {agreement.account_last4}, the 20th",
            )
        )
    return flags


def staff_queues(*, user) -> list[dict]:
    from django.urls import reverse

    from autopay.models import AutopayDraft

    if not user.has_perm("autopay.view_autopaydraft"):
        return []
    return [
        {
            "label": "Autopay drafts that failed or were returned",
            "count": AutopayDraft.objects.filter(status__in=["failed", "returned"]).count(),
            "url": reverse("admin:autopay_autopaydraft_changelist") + "?status__in=failed,returned",
        }
    ]


def finance_figures() -> dict:
    """Autopay enrollment for the finance home: how many active accounts pay by card autopay,
    online bank account autopay or a paper bank draft agreement."""
    from accounts.models import ServiceAccount
    from autopay.models import AutopayEnrollment, BankDraftAgreement

    active = ServiceAccount.objects.filter(status=ServiceAccount.Status.ACTIVE).count()
    enrollments = AutopayEnrollment.objects.filter(status="active", service_account__status="active")
    cards = enrollments.filter(card__isnull=False).count()
    online_banks = enrollments.filter(bank_account__isnull=False).count()
    banks = BankDraftAgreement.objects.filter(status="active", service_account__status="active").count()

    def share(n: int) -> str:
        return f"{n:,} ({n / active:.0%})" if active else f"{n:,}"

    return {
        "title": "Autopay enrollment",
        "rows": [
            ("Active accounts", f"{active:,}"),
            ("Card autopay", share(cards)),
            ("Bank account autopay (online)", share(online_banks)),
            ("Bank drafts on the 20th (paper agreements)", share(banks)),
            ("Any autopay", share(cards + online_banks + banks)),
        ],
    }


def account_page_section(*, service_account, today, user) -> dict:
    """The customer's account page says whether autopay is on, and how."""
    from autopay.models import BankDraftAgreement
    from autopay.services.drafts import next_draft

    enrollment = enrollment_active(service_account=service_account)
    from autopay.models import ScheduledPayment
    from autopay.services.bank_accounts import bank_payments_pending

    return {
        "template": "autopay/_account_section.html",
        "context": {
            "account": service_account,
            "pending": list(bank_payments_pending(service_account=service_account)),
            "scheduled": list(
                ScheduledPayment.objects.filter(service_account=service_account, status="scheduled")
                .select_related("card", "bank_account")
                .order_by("pay_on")
            ),
            "enrollment": enrollment,
            "upcoming": next_draft(enrollment=enrollment) if enrollment else None,
            "agreement": BankDraftAgreement.objects.filter(
                service_account=service_account, status="active"
            ).first(),
            "user": user,  # the card is named only to its owner (another linked login sees the day)
        },
    }


def pay_page_links(*, service_account) -> list[dict]:
    from django.urls import reverse
    from django.utils.translation import gettext as _

    return [
        {"label": _("Pay from a bank account"), "url": reverse("pay_by_bank", args=[service_account.pk])},
        {
            "label": _("Schedule a payment for a later date"),
            "url": reverse("scheduled_payments", args=[service_account.pk]),
        },
    ]


def login_settings_links() -> list[dict]:
    from django.urls import reverse
    from django.utils.translation import gettext as _

    return [
        {
            "label": _("Saved cards and bank accounts"),
            "url": reverse("payment_methods"),
            "hint": _("(add a bank account, or remove a card or account you no longer use)"),
        }
    ]
