"""Rate-limit manners: read the Hub's quota headers and pace requests so the quota lasts the window.

The Hub counts requests per 5-minute window in buckets ("api" for metadata, "resolvers" for file
URLs) and tells each client where it stands, in the IETF draft's shape:

    RateLimit: "resolvers";r=2873;t=141              r requests left, window resets in t seconds
    RateLimit-Policy: "fixed window";"resolvers";q=3000;w=300     q requests per w seconds

A repo of thousands of small files spends one resolve request per file. Bursting until the server
answers 429 and then sleeping through Retry-After costs the same window but fails requests on the
way (and other tools of the same user meet the 429s too). So each origin and kind of request gets a
Pacer: free while more than half the quota is left, then the remaining requests are spread evenly
over what is left of the window, keeping a small reserve; with the reserve reached, it waits for the
reset. A 429 holds every request of that kind until Retry-After.

The headers are hostile input like any server value: bounded in length and in every number, and a
header that does not parse is ignored (no pacing), never an error.
"""

import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from engine.hub.origins import Origin, origin
from engine.retrying import MAX_RETRY_AFTER, parse_retry_after, sleep_unless

MAX_HEADER = 1024         # characters of a header value read at all
MAX_ITEMS = 8             # list members of a header
MAX_COUNT = 10**9         # r and q
MAX_RESET = 3600          # t and w, seconds: an hour-long window is plausible, a longer one is not
RESERVE = 4               # requests kept back at least (other processes of this user spend too)
UNKNOWN_QUOTA_CALM = 100  # without a policy: pace once fewer than this are left
SLACK = 1.5               # seconds: t is whole seconds, so readings of one window differ by about one
_PARAM = re.compile(r"([a-z][a-z0-9_-]{0,15})=([0-9]{1,10})")
_NAME = re.compile(r'"([^"\\]{0,64})"')


@dataclass(frozen=True)
class Reading:
    """What one response said about a bucket: `remaining` requests for `reset` more seconds, out of
    `quota` per `window` seconds when the policy says."""

    bucket: str
    remaining: int
    reset: int
    quota: int | None = None
    window: int | None = None


def _items(value: str | None) -> list[tuple[list[str], dict[str, int]]]:
    """(quoted names, numeric parameters) of each list member; members that do not parse are left out."""
    if not isinstance(value, str) or len(value) > MAX_HEADER:
        return []
    items = []
    for member in value.split(",")[:MAX_ITEMS]:
        names, params = [], {}
        for part in member.split(";"):
            part = part.strip()
            if (m := _NAME.fullmatch(part)) is not None:
                names.append(m.group(1))
            elif (m := _PARAM.fullmatch(part.replace(" ", ""))) is not None and m.group(1) not in params:
                params[m.group(1)] = int(m.group(2))
            else:
                names = []
                break  # anything else: the whole member is malformed
        if names:
            items.append((names, params))
    return items


def parse(headers) -> Reading | None:
    """The most restrictive bucket a response reports, or None when it reports none readably."""
    readings = []
    policies = [(names, p) for names, p in _items(headers.get("RateLimit-Policy"))
                if 0 < p.get("q", 0) <= MAX_COUNT and 0 < p.get("w", 0) <= MAX_RESET]
    for names, p in _items(headers.get("RateLimit")):
        r, t = p.get("r"), p.get("t")
        if r is None or t is None or r > MAX_COUNT or t > MAX_RESET:
            continue
        bucket = names[0]
        policy = next((q for n, q in policies if bucket in n), policies[0][1] if len(policies) == 1 else None)
        quota, window = (policy["q"], policy["w"]) if policy else (None, None)
        readings.append(Reading(bucket, r, t, quota, window))
    return min(readings, key=lambda x: x.remaining) if readings else None


class Pacer:
    """One origin's requests of one kind (metadata or file), shared by every thread of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.remaining: int | None = None  # our estimate: the server's last word, minus what we sent since
        self.reset_at = 0.0
        self.quota: int | None = None
        self._next = 0.0
        self.waited = 0.0  # seconds requests were held back (for tests and events)

    def observe(self, reading: Reading | None, *, status: int = 200, retry_after: float | None = None,
                now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if reading is not None:
                reset_at = now + reading.reset
                if self.remaining is None or now >= self.reset_at or reset_at > self.reset_at + SLACK:
                    self.remaining, self.reset_at = reading.remaining, reset_at  # a new window
                elif reset_at >= self.reset_at - SLACK:  # the same window (older windows are ignored)
                    self.remaining = min(self.remaining, reading.remaining)
                self.quota = reading.quota or self.quota
            if status == 429 and (retry_after or reading is not None):
                # refused: nobody asks again before the server said (or the window ends)
                hold = min(retry_after if retry_after is not None else reading.reset, MAX_RETRY_AFTER)
                self.remaining, self.reset_at = 0, now + hold

    def delay(self, now: float) -> float:
        """Seconds until the next request may go (0: now, and it is counted)."""
        with self._lock:
            if self.remaining is None:
                return 0.0
            if now >= self.reset_at:  # the window is over: free until a response says otherwise
                self.remaining = None
                return 0.0
            reserve = max(RESERVE, (self.quota or 0) // 50)
            budget = self.remaining - reserve
            if budget <= 0:
                return self.reset_at - now
            calm = self.quota // 2 if self.quota else UNKNOWN_QUOTA_CALM
            if self.remaining <= calm:
                if now < self._next:
                    return self._next - now
                self._next = now + (self.reset_at - now) / budget
            self.remaining -= 1
            return 0.0

    def wait(self, cancel: threading.Event | None = None) -> bool:
        """Block until a request may go; False when `cancel` was set meanwhile."""
        while (pause := self.delay(time.monotonic())) > 0:
            pause = min(pause, 1.0)  # look again: a reading may have arrived meanwhile
            with self._lock:
                self.waited += pause
            if sleep_unless(cancel, pause):
                return False
        return True


_pacers: dict[tuple[Origin, str], Pacer] = {}
_registry_lock = threading.Lock()


def kind_of(url: str) -> str:
    return "file" if "/resolve/" in urlsplit(url).path else "api"


def pacer_for(url: str) -> Pacer:
    key = (origin(url), kind_of(url))
    with _registry_lock:
        pacer = _pacers.get(key)
        if pacer is None:
            pacer = _pacers[key] = Pacer()
        return pacer


def before(url: str, cancel: threading.Event | None = None) -> bool:
    """Call before a request to `url`: waits as the pacing says. False when cancelled meanwhile."""
    return pacer_for(url).wait(cancel)


def after(url: str, status: int, headers) -> None:
    """Call with every response from `url`: what it says about the quota is remembered."""
    reading = parse(headers)
    retry_after = parse_retry_after(headers.get("Retry-After")) if status == 429 else None
    if reading is not None or retry_after is not None:
        pacer_for(url).observe(reading, status=status, retry_after=retry_after)


def httpx_request_hook(request) -> None:
    before(str(request.url))


def httpx_response_hook(response) -> None:
    after(str(response.request.url), response.status_code, response.headers)


def forget() -> None:
    """Drop every pacer (tests start each server fresh on a new port, but a port can be reused)."""
    with _registry_lock:
        _pacers.clear()
