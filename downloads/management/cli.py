"""Shared bits of the management commands: progress bar, JSON output, exit codes."""

import json
import sys
import time

from django.core.management.base import CommandError

from downloads.models import DownloadJob
from settings_app.sizes import format_size

EXIT_INVALID = 2
EXIT_INTERRUPTED = 130


def print_json(stdout, data) -> None:
    stdout.write(json.dumps(data, indent=2, default=str))


def invalid(message: str, *, as_json: bool, stdout) -> CommandError:
    """Bad input: one clear line (or a JSON object with error_code invalid_input), exit status 2."""
    if as_json:
        print_json(stdout, {"state": "invalid", "error_code": "invalid_input", "error_message": message,
                            "guidance": f"Fix the input and run the command again: {message}"})
    return CommandError(message, returncode=EXIT_INVALID)


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
