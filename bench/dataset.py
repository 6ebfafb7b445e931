"""The benchmark utility, written set-based in SQL: N accounts with some months of bills' charges
and payments ending with July 2026 (13 by default; one account in ten stops paying in February
2026, so it is delinquent by June 20)."""

import datetime as dt
from decimal import Decimal

from django.db import connection, transaction

from billing.models import RateSchedule, Service

MONTHS = 13  # service months 2025-07 .. 2026-07
NEXT_PERIOD = dt.date(2026, 8, 1)  # the month the bill-run benchmark bills
STOPS_PAYING = 7  # the last months a delinquent account has not paid (service months 2026-01 on)


def reset() -> None:
    """Empty the benchmark's tables, to build again with another history."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_serviceaccount, billing_rateschedule RESTART IDENTITY CASCADE")


def build(accounts: int, months: int = MONTHS) -> None:
    from billing.calendar import add_months

    start = add_months(NEXT_PERIOD, -months)  # first service month of history
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO accounts_serviceaccount
                (account_number, customer_name, service_address, service_city, service_zip, tax_lot, status,
                 access_code, email, phone, service_state, mailing_name, mailing_address, mailing_city,
                 mailing_state, mailing_zip, created_at, updated_at)
            SELECT lpad(g::text, 7, '0') || '-01', 'Customer ' || g, g || ' Main St', 'Oregon City', '97045',
                   '2S2E' || lpad((g / 2)::text, 8, '0'), 'active', upper(substr(md5(random()::text), 1, 8)),
                   '', '', 'OR', '', '', '', '', '', now(), now()
            FROM generate_series(1, %s) AS g
            """,
            [accounts],
        )
        cursor.execute(
            """
            INSERT INTO billing_accountservice (service_account_id, service, units)
            SELECT id, s.service, 1 FROM accounts_serviceaccount,
                   (VALUES ('sewer'), ('surface_water')) AS s(service)
            UNION ALL
            SELECT id, 'water', 1 FROM accounts_serviceaccount WHERE id % 3 = 0
            """
        )
        for effective, sewer, surface, water, per_ccf in [
            (dt.date(2025, 7, 1), "48.50", "11.20", "18.00", "3.85"),
            (dt.date(2026, 7, 1), "51.25", "11.85", "19.10", "4.05"),
        ]:
            for service, monthly, ccf in [
                (Service.SEWER, sewer, "0"),
                (Service.SURFACE_WATER, surface, "0"),
                (Service.WATER, water, per_ccf),
            ]:
                RateSchedule.objects.get_or_create(
                    service=service,
                    effective_date=effective,
                    defaults={"monthly_charge_per_unit": Decimal(monthly), "charge_per_ccf": Decimal(ccf)},
                )
        # Each month's bill as a ledger charge (posted the 1st of the next month, due the 20th),
        # and a payment in full on the 15th, except that one account in ten stops paying in 2026.
        cursor.execute(
            """
            INSERT INTO billing_ledgerentry
                (service_account_id, kind, amount, posted_on, due_date, description, source_key, created_at)
            SELECT a.id, 'charge', CASE WHEN a.id %% 3 = 0 THEN 98.70 ELSE 59.70 END,
                   (%(start)s::date + make_interval(months => m + 1))::date,
                   (%(start)s::date + make_interval(months => m + 1, days => 19))::date,
                   'Bill', 'bench:c:' || a.id || ':' || m, now()
            FROM accounts_serviceaccount a, generate_series(0, %(months)s - 1) AS m
            """,
            {"start": start, "months": months},
        )
        cursor.execute(
            """
            INSERT INTO billing_ledgerentry
                (service_account_id, kind, amount, posted_on, description, source_key, created_at)
            SELECT a.id, 'payment', CASE WHEN a.id %% 3 = 0 THEN -98.70 ELSE -59.70 END,
                   (%(start)s::date + make_interval(months => m + 1, days => 14))::date,
                   'Payment', 'bench:p:' || a.id || ':' || m, now()
            FROM accounts_serviceaccount a, generate_series(0, %(months)s - 1) AS m
            WHERE NOT (a.id %% 10 = 0 AND m >= %(months)s - %(stops)s)
            """,
            {"start": start, "months": months, "stops": STOPS_PAYING},
        )
        cursor.execute(
            """
            INSERT INTO billing_billingaccount (service_account_id, balance, paperless, updated_at)
            SELECT a.id, COALESCE(SUM(l.amount), 0), false, now()
            FROM accounts_serviceaccount a LEFT JOIN billing_ledgerentry l ON l.service_account_id = a.id
            GROUP BY a.id
            """
        )
        cursor.execute(
            """
            INSERT INTO billing_meterread (service_account_id, period, consumption_ccf)
            SELECT id, p, 5 + id %% 7 FROM accounts_serviceaccount, (VALUES (%s::date), (%s::date)) AS months(p)
            WHERE id %% 3 = 0
            """,
            [NEXT_PERIOD, dt.date(NEXT_PERIOD.year, NEXT_PERIOD.month + 1, 1)],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
