"""The demo logins that seed_demo creates and `make run` prints.

Published on purpose: seed_demo refuses to run unless PORTAL_DEMO_MODE (or DEBUG) is on.
"""

DEMO_LOGINS = [
    ("customer", "demo@example.com", "Demo-Customer-2026!"),
    ("clerk", "clerk@example.com", "Demo-Clerk-2026!"),
    ("finance", "finance@example.com", "Demo-Finance-2026!"),
    ("supervisor", "supervisor@example.com", "Demo-Supervisor-2026!"),
]

# Staff must sign in with two-step verification; the demo staff share this authenticator key
# (add it to an authenticator app, or `make manage CMD=demo_code` prints the current code).
DEMO_STAFF_TOTP_KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
