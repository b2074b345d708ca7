"""The progress bar `download --wait`, `retry --wait` and `verify` draw on stderr."""

import sys
import time

from downloads.models import DownloadJob
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
