#!/usr/bin/env python
"""Django's command-line utility for ModelHub."""
import gc
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelhub.settings")
    # Start-up imports Django and every app: about a million objects that live as long as the
    # process. The cyclic GC would rescan them again and again meanwhile (~7% of a command's
    # start-up), so it is paused until the apps are ready; downloads.apps resumes it.
    gc.disable()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
