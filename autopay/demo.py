"""Demo data for autopay: what clerks may do with agreements and drafts."""

GROUP_PERMISSIONS = {
    "Clerks": [
        "autopay.view_bankdraftagreement",
        "autopay.add_bankdraftagreement",
        "autopay.change_bankdraftagreement",
        "autopay.view_autopayenrollment",
        "autopay.view_autopaydraft",
    ],
    "Finance": [
        "autopay.view_bankdraftagreement",
        "autopay.view_autopayenrollment",
        "autopay.view_autopaydraft",
    ],
}


def seed(**context) -> dict:
    return {}
