"""What every ModelHub command shares: the base class, exit codes, JSON output, bad-input handling."""

import json

from django.core.management.base import BaseCommand, CommandError

from engine.errors import ErrorCode
from engine.selection import DB_INT_MAX, is_db_id

EXIT_INVALID = 2
EXIT_INTERRUPTED = 130


class ModelHubCommand(BaseCommand):
    """Base of the operational commands (scripts, cron, CI): thin wrappers around the services.

    `manage.py check` covers the project, so these skip Django's system checks, which load the URL
    conf and every admin module and would double a short command's start-up time.
    """

    requires_system_checks = []


def print_json(stdout, data) -> None:
    stdout.write(json.dumps(data, indent=2, default=str))


def invalid(message: str, *, as_json: bool, stdout) -> CommandError:
    """Bad input: one clear line (or a JSON object with error_code invalid_input), exit status 2."""
    if as_json:
        print_json(stdout, {"state": "invalid", "error_code": ErrorCode.INVALID_INPUT,
                            "error_message": message,
                            "guidance": f"Fix the input and run the command again: {message}"})
    return CommandError(message, returncode=EXIT_INVALID)


def rows_by_id(queryset, ids: list[int], what: str, *, as_json: bool, stdout) -> list:
    """The rows with these ids in the order given (repeats dropped). An unknown id is bad input (exit
    status 2) before anything changes, and so is one no row can have: asking the database about an id
    beyond 64 bits would fail with an overflow instead of "not found"."""
    found = queryset.in_bulk([i for i in ids if is_db_id(i)])
    missing = [i for i in dict.fromkeys(ids) if i not in found]
    if missing:
        raise invalid(f"no {what} with id {', '.join(map(str, missing))}", as_json=as_json, stdout=stdout)
    return [found[i] for i in dict.fromkeys(ids)]


def check_count(value: int, option: str, *, as_json: bool, stdout) -> int:
    """A count option (0 or more) that the database can take, e.g. as a LIMIT."""
    if not 0 <= value <= DB_INT_MAX:
        raise invalid(f"{option} must be a whole number from 0 to {DB_INT_MAX}, not {value}", as_json=as_json,
                      stdout=stdout)
    return value
