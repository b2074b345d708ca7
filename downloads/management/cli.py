"""Shared bits of the management commands: progress bar, JSON output, exit codes."""

import json
import sys
import time

from django.core.management.base import CommandError

from downloads.models import DownloadJob
from engine.errors import ErrorCode
from engine.selection import DB_INT_MAX, is_db_id
from modelhub.sizes import format_size

EXIT_INVALID = 2
EXIT_INTERRUPTED = 130


def print_json(stdout, data) -> None:
    stdout.write(json.dumps(data, indent=2, default=str))


def invalid(message: str, *, as_json: bool, stdout) -> CommandError:
    """Bad input: one clear line (or a JSON object with error_code invalid_input), exit status 2."""
    if as_json:
        print_json(stdout, {"state": "invalid", "error_code": ErrorCode.INVALID_INPUT, "error_message": message,
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


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


class ProgressBar:
    """One redrawn line on a terminal; a line every few seconds when stderr is a file or pipe."""

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()
        self._last_line = 0.0

    def __call__(self, job: DownloadJob) -> None:
        pct = job.percent
        filled = int(self.width * pct / 100)
        bar = "#" * filled + "-" * (self.width - filled)
        line = (f"[{bar}] {pct:5.1f}% {format_size(job.bytes_done)}/{format_size(job.bytes_total)} "
                f"{format_size(job.speed_bps)}/s ETA {format_eta(job.eta_seconds)} {job.state}")
        if self.tty:
            self.stream.write("\r" + line.ljust(100))
            self.stream.flush()
        elif time.monotonic() - self._last_line >= 5:
            self._last_line = time.monotonic()
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
