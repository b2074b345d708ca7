"""The transfer fixes glibc's mmap threshold, so a freed receive buffer goes back to the system instead
of staying in a thread's arena (a sharded download peaked at 194 MB RSS without it, 134 MB with it;
benchmarks/cdn.py shows the figure). Checked in a fresh process: after a first 1 MiB buffer was
freed, plain glibc serves the next one from its heap; with the threshold fixed, it is a mapping of
its own that disappears when freed."""

import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROBE = """
import sys
if sys.argv[1] == "session":
    from engine.transfer.session import TransferSession
    TransferSession(4).close()
def mappings():
    return sum(1 for line in open("/proc/self/maps") if len(line.split()) == 5)  # anonymous ones
first = bytes(1 << 20)
del first  # plain glibc raises its mmap threshold here
before = mappings()
read = bytes(1 << 20)  # the next 1 MiB read
during = mappings()
del read
print(during - before, mappings() - before)
"""


def probe(mode: str) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.split()
    return int(out[0]), int(out[1])


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_a_transfer_session_makes_freed_buffers_leave_the_process():
    assert probe("plain") == (0, 0)  # from the heap: freed, it stays in the process
    assert probe("session") == (1, 0)  # its own mapping, gone when freed
