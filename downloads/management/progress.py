"""The progress bar `download --wait`, `retry --wait`, `resume --wait` and `verify` draw on stderr, and
the run-here loop of `retry --wait` and `resume --wait`."""

import sys
import time

from django.core.management.base import CommandError

from downloads.jobs import inline
from downloads.models import DownloadJob
from modelhub.commands import EXIT_INTERRUPTED
from modelhub.sizes import format_size


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


def run_here(job: DownloadJob, *, as_json: bool, stderr) -> DownloadJob:
    """`retry --wait` and `resume --wait`: run (or follow) the job in this command, with a progress bar
    unless the output is JSON. Ctrl-C cancels it, keeping its partial files, and exits 130."""
    bar = None if as_json else ProgressBar(stderr._out)
    try:
        return inline.run_and_follow(job, reporter=bar, on_wait=stderr.write)
    except KeyboardInterrupt:
        raise CommandError("Interrupted: the job was cancelled and its partial files kept.",
                           returncode=EXIT_INTERRUPTED) from None
    finally:
        if bar:
            bar.close()
