"""Every write in billing goes through these services."""
