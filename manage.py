#!/usr/bin/env python
"""Django's command-line utility for the utility portal.

With no DATABASE_URL (a developer's machine), commands run on the `make run` data: its
services if it is up, otherwise the same services started for the command. A deployment
always sets DATABASE_URL and runs the command directly.
"""

import os
import sys


def main() -> None:
    if not os.environ.get("DATABASE_URL"):
        from portal.devservices import manage_on_dev_data

        sys.exit(manage_on_dev_data(sys.argv[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
