"""Is the process that claimed a job still there? Asked of the kernel, for jobs claimed on this host.

A running job records `worker` = "host:pid" (worker_name below) and then writes a heartbeat about once
a second. From another host the only sign of a dead worker is a heartbeat older than
MODELHUB_HEARTBEAT_TIMEOUT (60 s by default). On the same host we need not wait: after `kill -9` of
`manage.py download --wait`, running the same command again should take the job over at once instead
of following its frozen progress for a minute.

"Gone" means: no process has that pid, it is a zombie (dead, not yet reaped by its parent), or the
process with that pid started after the job was claimed (the pid was reused). Start times come from
/proc/<pid>/stat; without /proc (macOS) a live pid is taken at its word.

Caveat: two machines (or containers with separate pid namespaces) sharing one host name would see
each other's pids as gone. Host names are unique in the deployments ModelHub supports (one host, or
workers with their own names); a shared one needs the heartbeat timeout alone, as before.
"""

import os
import socket
import time
from datetime import datetime

# The job's claim time (wall clock, stored in the database) is compared with the process's start
# (boot clock, from the kernel); NTP adjustments can move them apart a little. The slack errs towards
# "alive": a wrong "alive" only means waiting for the heartbeat timeout, a wrong "gone" would run the
# job twice.
START_SLACK = 2.0


def worker_name() -> str:
    """Who claims a job: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_gone(worker: str, started_at: datetime | None, now: datetime) -> bool:
    """True only when this host can tell for sure that the job's process no longer runs it."""
    host, sep, pid_text = (worker or "").rpartition(":")
    if not sep or host != socket.gethostname() or not pid_text.isdigit():
        return False  # another host's process (or a format we don't know): only its heartbeat tells
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # this very process claimed it (another thread runs it)
    exists, age = _process(pid)
    if not exists:
        return True
    if age is None or started_at is None:
        return False
    return age < (now - started_at).total_seconds() - START_SLACK


def _process(pid: int) -> tuple[bool, float | None]:
    """(the process exists and is not a zombie, seconds since it started or None when unknown)."""
    if not os.path.isdir("/proc/self"):  # no procfs (macOS): existence is all we can know
        return _signal_probe(pid), None
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        # Usually no such process; but /proc mounted with hidepid hides other users' processes,
        # which a signal probe still sees.
        return _signal_probe(pid), None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    fields = stat[stat.rindex(b")") + 2:].split()
    if fields[0] in (b"Z", b"X"):  # zombie or dead: its parent just has not collected it yet
        return False, None
    start_ticks = int(fields[19])  # field 22 of proc(5): start time after boot, in clock ticks
    return True, time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")


def _signal_probe(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True
