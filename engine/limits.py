"""Upper bounds for how much one download job runs at once (no Django here: the transfer code uses it).

Each parallel file is a thread with its own connection; each segment of a large file another one,
plus a hashing thread per segmented file. Without a bound, a stored value of a few hundred and a
repo of a thousand files once ran 437 threads: past a few dozen connections a job only competes
with itself for the same link and disk, and the Hub answers with 429s. The bounds are checked when
a value is saved (Settings form, `configure`) and applied again where threads are started, so a
value stored before the bounds existed cannot get past them either.
"""

MAX_PARALLEL_FILES = 32
# aria2, the usual tool for segmented downloads, caps connections per server at 16 for the same reason.
MAX_SEGMENTS_PER_FILE = 16
# Automatic connections may grow a file further, since each addition has to pay off (transfer/adaptive.py):
# a CDN capping each connection at 20 MB/s needs 20 of them to fill 400 MB/s (hf_xet adapts up to 64).
MAX_AUTO_SEGMENTS_PER_FILE = 32
# Files x segments: the connections one job may open. 4 files x 16 segments or 32 files x 2 segments.
MAX_CONNECTIONS_PER_JOB = 64


def bounded(value: int | None, upper: int) -> int:
    """`value` within 1..upper (a missing or zero value counts as 1)."""
    return max(1, min(int(value or 1), upper))


AUTO_SEGMENTS = 0  # segments_per_file 0: as many as keep adding throughput (transfer/adaptive.py)


def job_parallelism(parallel_files: int | None, segments_per_file: int | None) -> tuple[int, int]:
    """(files at once, segments per file) as a job runs them: each within its bound, and their product
    within MAX_CONNECTIONS_PER_JOB (segments give way: they only help single large files). For
    AUTO_SEGMENTS, the segments number is the most one file may grow to; the job's files then share
    MAX_CONNECTIONS_PER_JOB as they grow (adaptive.ConnectionBudget), so one large file can take what
    idle file slots leave."""
    files = bounded(parallel_files, MAX_PARALLEL_FILES)
    if segments_per_file == AUTO_SEGMENTS:
        return files, MAX_AUTO_SEGMENTS_PER_FILE
    per_file = min(MAX_SEGMENTS_PER_FILE, MAX_CONNECTIONS_PER_JOB // files)
    return files, bounded(segments_per_file, per_file)


def parallelism_problem(parallel_files: int, segments_per_file: int) -> str:
    """A sentence for the form and `configure` when the pair is over a bound, else ""."""
    if parallel_files > MAX_PARALLEL_FILES:
        return (f"At most {MAX_PARALLEL_FILES} files per job at once (more only compete for the same link "
                "and disk).")
    if segments_per_file > MAX_SEGMENTS_PER_FILE:
        return f"At most {MAX_SEGMENTS_PER_FILE} connections per file."
    if parallel_files * segments_per_file > MAX_CONNECTIONS_PER_JOB:
        return (f"{parallel_files} files at once x {segments_per_file} connections per file is "
                f"{parallel_files * segments_per_file} connections for one job; at most "
                f"{MAX_CONNECTIONS_PER_JOB}. Lower one of them.")
    return ""
