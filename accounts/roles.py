"""The staff roles, in one table: each role is a list of capabilities in plain words, and each
capability is the Django permissions it needs. `setup_roles` writes this into the groups
`Clerks`, `Finance` and `Supervisors`; a group's permissions are never edited by hand.

Permissions are named by "app_label.codename" strings, so this module imports no app.
"""

# What a member of staff can do, in words, and the permissions each takes.
CAPABILITIES: dict[str, list[str]] = {
    "read customer accounts": [
        "accounts.view_serviceaccount",
        "accounts.view_accountlink",
        "accounts.view_user",
        "billing.view_billingaccount",
        "billing.view_accountservice",
        "billing.view_bill",
        "billing.view_ledgerentry",
        "billing.view_meterread",
        "billing.view_rateschedule",
        "billing.view_payment",
        "billing.view_paymentbatch",
        "billing.view_refund",
        "billing.view_invoice",
        "autopay.view_autopayenrollment",
        "autopay.view_autopaydraft",
        "autopay.view_bankdraftagreement",
        "autopay.view_paymentauthorization",
        "autopay.view_bankaccount",
        "autopay.view_bankpayment",
        "autopay.view_scheduledpayment",
        "assistance.view_paymentplan",
        "assistance.view_incomeguideline",
        "certification.view_certification",
        "certification.view_dispute",
        "certification.view_notice",
        "billing.view_adjustment",
        "billing.view_adjustmentreason",
        "accounts.view_accountnote",
        "billing.view_servicerequest",
        "portal.view_run",
        "portal.view_storedfile",
    ],
    "read assistance applications": [
        "assistance.view_assistanceapplication",
        "assistance.view_householdmember",
        "assistance.view_incomesource",
        "assistance.view_applicationevent",
    ],
    # Photo IDs and proof of income: only the people who review applications open them.
    "open applicants' documents": ["assistance.view_applicationdocument"],
    "read card processing records": ["billing.view_stripeevent"],
    "read the email and text message logs": ["accounts.view_emaillog", "accounts.view_textmessage"],
    "read the high water use list": ["billing.view_usagealert"],
    "read the audit trail": ["portal.view_auditevent"],
    "serve customers": [
        "accounts.change_serviceaccount",
        "accounts.add_accountlink",
        "accounts.change_accountlink",
        "accounts.delete_accountlink",
        "billing.change_billingaccount",
        "billing.add_accountservice",
        "billing.change_accountservice",
        "billing.add_meterread",
        "billing.change_meterread",
        "billing.add_invoice",
        "billing.change_invoice",
        "autopay.add_bankdraftagreement",
        "autopay.change_bankdraftagreement",
    ],
    "review assistance applications": ["assistance.change_assistanceapplication"],
    "decide assistance applications": ["assistance.decide_assistanceapplication"],
    "decide payment plans": ["assistance.change_paymentplan", "assistance.decide_paymentplan"],
    "key payment batches": [
        "billing.add_paymentbatch",
        "billing.change_paymentbatch",
        "billing.add_payment",
        "billing.change_payment",
        "billing.delete_payment",
    ],
    "post payment batches keyed by someone else": ["billing.post_paymentbatch"],
    "void payment batches": ["billing.void_paymentbatch"],
    "take phone payments": ["billing.take_phone_payment"],
    "record returned checks": ["billing.record_returned_check"],
    "resolve disputes": ["certification.resolve_dispute"],
    "refund card payments": ["billing.refund_payment"],
    "approve large refunds": ["billing.approve_refund"],
    "export the certification list": ["certification.export_certification"],
    "set rates and the assistance income table": [
        "billing.add_rateschedule",
        "billing.change_rateschedule",
        "billing.delete_rateschedule",
        "assistance.add_incomeguideline",
        "assistance.change_incomeguideline",
    ],
    "change account numbers, tax lots and customer names": ["accounts.change_account_identity"],
    "write account notes": ["accounts.add_accountnote"],
    "open accounts and close them with a final bill": ["accounts.open_close_account"],
    "work customers' start, stop and move requests": ["billing.change_servicerequest"],
    "post adjustments up to the approval limit": ["billing.add_adjustment"],
    "approve adjustments above the limit": ["billing.approve_adjustment"],
    "reverse adjustments": ["billing.reverse_adjustment"],
    "read the finance reports": ["billing.view_finance_reports", "billing.view_glaccount"],
    "set the general-ledger account codes": ["billing.change_glaccount"],
    "start runs from the staff pages (bills, NACHA files, notices, certification)": ["portal.start_runs"],
    "keep the list of adjustment reasons": [
        "billing.add_adjustmentreason",
        "billing.change_adjustmentreason",
    ],
}

CLERKS = [
    "read customer accounts",
    "read assistance applications",
    "open applicants' documents",
    "read the email and text message logs",
    "read the high water use list",
    "serve customers",
    "review assistance applications",
    "decide assistance applications",
    "decide payment plans",
    "key payment batches",
    "post payment batches keyed by someone else",
    "take phone payments",
    "record returned checks",
    "resolve disputes",
    "write account notes",
    "post adjustments up to the approval limit",
    "open accounts and close them with a final bill",
    "work customers' start, stop and move requests",
]

# Finance reads everything but applicants' documents, and does not decide applications or
# plans or post batches: those are the clerks'.
FINANCE = [
    "read customer accounts",
    "read assistance applications",
    "read card processing records",
    "read the email and text message logs",
    "read the high water use list",
    "read the audit trail",
    "resolve disputes",
    "refund card payments",
    "export the certification list",
    "set rates and the assistance income table",
    "keep the list of adjustment reasons",
    "read the finance reports",
    "set the general-ledger account codes",
    "start runs from the staff pages (bills, NACHA files, notices, certification)",
]

ROLES: dict[str, list[str]] = {
    "Clerks": CLERKS,
    "Finance": FINANCE,
    "Supervisors": [
        *CLERKS,
        *(c for c in FINANCE if c not in CLERKS),
        "void payment batches",
        "approve large refunds",
        "change account numbers, tax lots and customer names",
        "approve adjustments above the limit",
        "reverse adjustments",
    ],
}


def role_permissions(role: str) -> list[str]:
    """Every permission a role holds, as "app_label.codename", in table order without repeats."""
    seen: dict[str, None] = {}
    for capability in ROLES[role]:
        for permission in CAPABILITIES[capability]:
            seen.setdefault(permission, None)
    return list(seen)


def roles_setup() -> dict[str, int]:
    """Create or update each role's group so it holds exactly the permissions of the table.

    Safe to run on every deploy. Permissions a group was given by hand are taken away: the
    table is the one place roles are defined. Raises LookupError naming any permission the
    database does not have (run `migrate` first).
    """
    from django.contrib.auth.models import Group, Permission
    from django.db import transaction

    wanted = {role: role_permissions(role) for role in ROLES}
    names = {p for perms in wanted.values() for p in perms}
    found = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    missing = sorted(names - found.keys())
    if missing:
        raise LookupError(f"permission(s) not in the database: {', '.join(missing)} (run migrate first)")
    counts = {}
    with transaction.atomic():
        for role, perms in wanted.items():
            group, _ = Group.objects.get_or_create(name=role)
            group.permissions.set([found[p] for p in perms])
            counts[role] = len(perms)
    return counts


def roles_matrix_markdown() -> str:
    """The role × capability table, as the README shows it (a test keeps the two the same)."""
    lines = ["| capability | " + " | ".join(ROLES) + " |", "|---|" + ":---:|" * len(ROLES)]
    for capability in CAPABILITIES:
        marks = " | ".join("yes" if capability in ROLES[role] else "" for role in ROLES)
        lines.append(f"| {capability} | {marks} |")
    return "\n".join(lines)
