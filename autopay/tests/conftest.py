import datetime as dt

import pytest


@pytest.fixture
def tuesday(time_machine):
    """Tuesday, December 1, 2026, mid-morning in the utility's time zone: the day bills come out.
    Returned so a test can move the clock on."""
    time_machine.move_to(dt.datetime(2026, 12, 1, 18, tzinfo=dt.UTC), tick=True)
    return time_machine
