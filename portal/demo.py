"""The demo that `make run` seeds (`seed_demo`); its logins are in accounts.demo_logins."""

# The apps whose demo.py `seed_demo` runs, in order.
DEMO_APPS = ["accounts", "billing", "autopay", "assistance", "certification"]
