"""Where the bytes of a segmented file are: its segments, the sidecar that records them, and which piece
a free connection takes next.

A segment is a byte range being (or done being) fetched by one request at a time. With a fixed
number of connections the file is tiled into that many segments up front (`plan`). With adaptive
connections it is cut into pieces taken in file order (`next_piece`): the file's sha256 is computed
in file order while the bytes arrive, so what arrives must be near the front. Tiling a 1 GiB file
into 16 equal segments makes every segment finish at about the same moment, with the first one's
prefix hashed and ~15/16 of the file still to hash after the last byte (over a second at 600 MB/s).
Pieces from the front keep the unhashed part within about LAG bytes, at the cost of one request per
piece (a time to first byte each): pieces are as large as that bound allows, and shrink towards the
end of the file so the last connections finish together.
"""

import json
from dataclasses import dataclass
from pathlib import Path

SIDECAR_SUFFIX = ".segments"
ALIGN = 64 << 10      # segment boundaries on 64 KiB: whole pages, and still fine-grained
LAG = 256 << 20       # bytes in flight ahead of the contiguous prefix, about: what is left to hash at the end
MIN_PIECE = 4 << 20   # below this, a request's time to first byte costs more than the piece


@dataclass
class Segment:
    start: int
    end: int   # exclusive
    done: int  # bytes written from `start`
    taken: bool = False  # a connection is fetching it (not saved: after a restart nobody is)

    @property
    def pos(self) -> int:
        return self.start + self.done

    @property
    def complete(self) -> bool:
        return self.pos >= self.end


def sidecar_path(partial: Path) -> Path:
    return partial.with_name(partial.name + SIDECAR_SUFFIX)


def present_bytes(partial: Path) -> int:
    """Bytes an earlier attempt already stored in a partial (a segmented one is sparse at full size)."""
    try:
        state = json.loads(sidecar_path(partial).read_text())
        return sum(done for _, _, done in state["segments"])
    except (OSError, ValueError, TypeError, KeyError):
        pass
    try:
        return partial.stat().st_size
    except OSError:
        return 0


def align_up(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def plan(size: int, parts: int, already: int = 0) -> list[Segment]:
    """Split [already, size) into `parts` aligned ranges, after a done prefix [0, already)."""
    segments = [Segment(0, already, already)] if already else []
    remaining = size - already
    step = max(ALIGN, align_up(-(-remaining // parts))) if remaining > 0 else ALIGN
    pos = already
    while pos < size:
        end = min(size, pos + step)
        segments.append(Segment(pos, end, 0))
        pos = end
    return segments


def next_piece(front: int, size: int, connections: int) -> Segment | None:
    """The piece a free connection takes at `front`, the first byte nobody has taken yet: at most
    LAG / connections, and half an even share of what is left, at least MIN_PIECE. Half a share: one
    round of pieces never takes the whole rest of the file, so the pieces shrink towards its end and
    the last round, which is what remains to hash after the last byte, is small."""
    left = size - front
    if left <= 0:
        return None
    connections = max(1, connections)
    share = -(-left // (2 * connections))
    piece = min(LAG // connections, max(MIN_PIECE, share))
    end = min(size, front + max(ALIGN, align_up(piece)))
    return Segment(front, end, 0)
