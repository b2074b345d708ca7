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

Such a hold can last minutes, so a job says why it waits: its Watch reports once per stretch of
holding that reaches NOTICE_AFTER seconds, in plain words (`Pacer.explain`); ordinary spreading of a
few requests stays below it. A stretch ends when a request goes while the pacer no longer paces.

The headers are hostile input like any server value: bounded in length and in every number, and a
header that does not parse is ignored (no pacing), never an error.
"""

import math
import re
import threading
import time
from collections.abc import Callable
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
NOTICE_AFTER = 2.0        # seconds a job's request is held before the job says why it waits
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

    def __init__(self, kind: str = "api") -> None:
        self.kind = kind  # "file" or "api": the words of `explain`
        self._lock = threading.Lock()
        self.remaining: int | None = None  # our estimate: the server's last word, minus what we sent since
        self.reset_at = 0.0
        self.quota: int | None = None
        self._next = 0.0
        self.refused = False  # the hold is the server's 429, not our own pacing
        self.waited = 0.0  # seconds requests were held back (for tests and events)

    def observe(self, reading: Reading | None, *, status: int = 200, retry_after: float | None = None,
                now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if reading is not None:
                reset_at = now + reading.reset
                if self.remaining is None or now >= self.reset_at or reset_at > self.reset_at + SLACK:
                    self.remaining, self.reset_at = reading.remaining, reset_at  # a new window
                    self.refused = False
                elif reset_at >= self.reset_at - SLACK:  # the same window (older windows are ignored)
                    self.remaining = min(self.remaining, reading.remaining)
                self.quota = reading.quota or self.quota
            if status == 429 and (retry_after or reading is not None):
                # refused: nobody asks again before the server said (or the window ends)
                hold = min(retry_after if retry_after is not None else reading.reset, MAX_RETRY_AFTER)
                self.remaining, self.reset_at = 0, now + hold
                self.refused = True

    def _reserve(self) -> int:
        return max(RESERVE, (self.quota or 0) // 50)

    def _calm(self) -> int:
        return self.quota // 2 if self.quota else UNKNOWN_QUOTA_CALM

    def delay(self, now: float) -> float:
        """Seconds until the next request may go (0: now, and it is counted)."""
        with self._lock:
            if self.remaining is None:
                return 0.0
            if now >= self.reset_at:  # the window is over: free until a response says otherwise
                self.remaining = None
                return 0.0
            budget = self.remaining - self._reserve()
            if budget <= 0:
                return self.reset_at - now
            if self.remaining <= self._calm():
                if now < self._next:
                    return self._next - now
                self._next = now + (self.reset_at - now) / budget
            self.remaining -= 1
            return 0.0

    def pacing(self, now: float) -> bool:
        """Whether requests are held or spread out now (a request that went may still be paced)."""
        with self._lock:
            return (self.remaining is not None and now < self.reset_at
                    and self.remaining <= max(self._calm(), self._reserve()))

    def explain(self, now: float) -> str:
        """Why requests wait, in plain words; every number is bounded (parse, observe), so the text is."""
        with self._lock:
            left = max(0, self.reset_at - now)
            resets = f"{math.ceil(left)} s" if left >= 1 else "under a second"
            if self.refused:
                return f"The Hub asked to wait (HTTP 429): resuming in {resets}"
            what = "file requests" if self.kind == "file" else "API requests"
            remaining = max(0, self.remaining or 0)
            if remaining <= self._reserve():
                return (f"Waiting for the Hub's rate limit: {remaining:,} {what} left in this window "
                        f"(kept in reserve), it resets in {resets}")
            return (f"Waiting for the Hub's rate limit: {remaining:,} {what} left in this window, "
                    f"it resets in {resets}; spreading them out until then")

    def wait(self, cancel: threading.Event | None = None, watch: "Watch | None" = None) -> bool:
        """Block until a request may go; False when `cancel` was set meanwhile. `watch` hears of a hold."""
        started = time.monotonic()
        while (pause := self.delay(now := time.monotonic())) > 0:
            if watch is not None:
                watch.held(self, now - started + pause, now)
            pause = min(pause, 1.0)  # look again: a reading may have arrived meanwhile
            with self._lock:
                self.waited += pause
            if sleep_unless(cancel, pause):
                return False
        if watch is not None:
            watch.went(self, now)
        return True


class Watch:
    """One job's view of the pacing of its requests: `report` hears once per stretch of holding that
    lasts NOTICE_AFTER seconds or more (the job's event log), not once per request or thread."""

    def __init__(self, report: Callable[[str], None], after: float = NOTICE_AFTER) -> None:
        self._report = report
        self._after = after
        self._lock = threading.Lock()
        self._told = False

    def held(self, pacer: Pacer, hold: float, now: float) -> None:
        """A request has been held and will be for `hold` seconds in all, as far as is known now."""
        if hold < self._after:
            return
        with self._lock:
            if self._told:
                return
            self._told = True
        self._report(pacer.explain(now))

    def went(self, pacer: Pacer, now: float) -> None:
        """A request went: once requests flow freely again, the next hold is a new stretch."""
        if self._told and not pacer.pacing(now):
            with self._lock:
                self._told = False


_pacers: dict[tuple[Origin, str], Pacer] = {}
_registry_lock = threading.Lock()


def kind_of(url: str) -> str:
    return "file" if "/resolve/" in urlsplit(url).path else "api"


def pacer_for(url: str) -> Pacer:
    key = (origin(url), kind_of(url))
    with _registry_lock:
        pacer = _pacers.get(key)
        if pacer is None:
            pacer = _pacers[key] = Pacer(key[1])
        return pacer


def before(url: str, cancel: threading.Event | None = None, watch: Watch | None = None) -> bool:
    """Call before a request to `url`: waits as the pacing says (a job's `watch` hears of a long
    hold). False when cancelled meanwhile."""
    return pacer_for(url).wait(cancel, watch)


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
