#!/usr/bin/env python
"""Django's command-line utility for the utility portal.

A deployment sets DATABASE_URL (and the rest of its environment) and runs commands directly.
On a developer's machine, `make manage CMD="..."` (or PORTAL_DEV_SERVICES=1) runs a command on
the `make run` data: its services if it is up, otherwise the same services started for the
command. Without either, a missing DATABASE_URL is an error: nothing is started unasked (except
for makemigrations, makemessages and compilemessages, which read only the code).
"""

import os
import sys

# Commands that read only the code (models, templates, catalogs): they need no database or
# secrets, so they run anywhere, with the test settings and an address nothing listens on.
CODE_ONLY_COMMANDS = {"makemigrations", "makemessages", "compilemessages"}


def main() -> None:
    if not os.environ.get("DATABASE_URL") and sys.argv[1:2] and sys.argv[1] in CODE_ONLY_COMMANDS:
        os.environ["DATABASE_URL"] = "postgres://unused@127.0.0.1:9/unused"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    if not os.environ.get("DATABASE_URL"):
        if os.environ.get("PORTAL_DEV_SERVICES") == "1":
            from portal.devservices import manage_on_dev_data

            sys.exit(manage_on_dev_data(sys.argv[1:]))
        sys.exit(
            "DATABASE_URL is not set. In a deployment, set it (postgres://user:password@host:5432/portal) "
            "with the rest of the environment in the README. On a development machine, run the command on "
            '`make run`\'s data with `make manage CMD="..."` or PORTAL_DEV_SERVICES=1 python manage.py ...'
        )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
