"""The scan line printed on a return stub: what the bank's lockbox machine reads back.

        10023401  0000078970  3
    account       amount due  check digit (Luhn, mod 10, over the account key and the cents)

The account is written as its key (account_number_key: no dash, upper case), padded on the left
to 12 characters with spaces; letters in a key are read by Luhn mod 36. A misread
character changes the check digit, so a stub the machine misread lands with the exceptions
instead of on the wrong account.
"""

import re
from decimal import Decimal

from stdnum import luhn

from accounts.selectors import account_number_key

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ACCOUNT_WIDTH = 12
CENTS_WIDTH = 10


def _check_digit(key: str, cents: str) -> str:
    alphabet = "0123456789" if key.isdigit() else ALPHABET
    return luhn.calc_check_digit(key + cents, alphabet=alphabet)


def scan_line(*, account_number: str, amount: Decimal) -> str:
    """The scan line, or "" for an account number it cannot carry (characters other than letters,
    digits and dashes, or more than 12 of them): that stub is read by its printed number."""
    key = account_number_key(account_number)
    if not re.fullmatch(rf"[0-9A-Z]{{1,{ACCOUNT_WIDTH}}}", key):
        return ""
    cents = f"{max(int((amount * 100).to_integral_value()), 0):0{CENTS_WIDTH}d}"
    return f"{key:>{ACCOUNT_WIDTH}}  {cents}  {_check_digit(key, cents)}"


def scan_line_read(text: str) -> tuple[str, Decimal] | None:
    """(account key, amount) from a scan line as printed or as the bank's file gives it, or None
    when it is not one or its check digit does not match."""
    match = re.fullmatch(rf"\s*([0-9A-Za-z]{{1,12}})\s+(\d{{{CENTS_WIDTH}}})\s+([0-9A-Za-z])\s*", text or "")
    if not match:
        return None
    key, cents, check = match.group(1).upper(), match.group(2), match.group(3).upper()
    if _check_digit(key, cents) != check:
        return None
    return key, Decimal(cents).scaleb(-2)
