from django.conf import settings


def utility(request):
    """The utility's name and contact details, for the header, footer and emails."""
    return {
        "utility": {
            "name": settings.UTILITY_NAME,
            "short_name": settings.UTILITY_SHORT_NAME,
            "phone": settings.UTILITY_PHONE,
            "email": settings.UTILITY_EMAIL,
            "remit_to": settings.UTILITY_REMIT_TO,
            "address": settings.UTILITY_ADDRESS,
            "county": settings.CERTIFICATION_COUNTY,
        }
    }
