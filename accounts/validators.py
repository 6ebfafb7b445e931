from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The seed utility's published policy. Each rule has its own message so a customer
# knows exactly what to change. Letters outside A-Z count too (é, Ñ).
RULES = [
    (
        lambda p: len(p) >= 8,
        "password_too_short",
        _("Your password must be at least 8 characters long."),
    ),
    (
        lambda p: any(c.isupper() for c in p),
        "password_no_upper",
        _("Your password must contain at least one upper-case letter."),
    ),
    (
        lambda p: any(c.islower() for c in p),
        "password_no_lower",
        _("Your password must contain at least one lower-case letter."),
    ),
    (
        lambda p: any(not c.isalnum() for c in p),
        "password_no_symbol",
        _(
            "Your password must contain at least one character that is not a letter or a "
            "digit, for example ! + @ # /."
        ),
    ),
]


class UtilityPasswordPolicyValidator:
    """At least 8 characters with an upper-case letter, a lower-case letter and a symbol.

    There is no upper limit: long passphrases are welcome.
    """

    def validate(self, password, user=None):
        errors = [
            ValidationError(message, code=code) for check, code, message in RULES if not check(password)
        ]
        if errors:
            raise ValidationError(errors)

    def get_help_text(self):
        return _(
            "Your password must be at least 8 characters long and contain an upper-case "
            "letter, a lower-case letter and a character that is not a letter or a digit."
        )
