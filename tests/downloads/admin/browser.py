"""What the browser tests share: Chromium, a logged-in admin page at a given width, screenshots, and
asking whether the user can really see an element (inside the viewport, not cut off, not covered).

Playwright drives Debian's Chromium against pytest-django's live server; a real django-q2 worker
(`manage.py qcluster`, a subprocess on the same SQLite file) runs downloads where a test needs one.
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests import workers

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
PASSWORD = "browser-Secret-123"
# The widths the issue names: a laptop beside the admin's sidebar, and a phone.
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture
def browser(monkeypatch):
    if not os.path.exists(CHROMIUM):
        message = (f"{CHROMIUM} is missing: apt-get install -y chromium "
                   "(the browser tests drive Debian's Chromium)")
        if os.environ.get("MODELHUB_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are still plain
    # synchronous code, which Django would otherwise refuse next to a running loop.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def worker(configured, artifacts_dir):
    proc = workers.start_qcluster(log_path=artifacts_dir / "browser-qcluster.log")
    yield proc
    # SIGTERM to the cluster's main process only: it stops its own worker processes within a second or
    # two. (workers.stop signals the whole group, which kills django-q's sentinel first and leaves the main
    # process hanging until the SIGKILL fallback 20 s later.) workers.stop then cleans up whatever is left.
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    workers.stop(proc)


@pytest.fixture
def login(browser, live_server, django_user_model):
    """login(width=1280, height=800, username="boss") -> a page logged in as a superuser."""
    contexts = []

    def open_page(width: int = 1400, height: int = 900, username: str = "boss"):
        if not django_user_model.objects.filter(username=username).exists():
            django_user_model.objects.create_superuser(username, f"{username}@example.org", PASSWORD)
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector("#site-name")
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(login):
    return login()


@pytest.fixture(params=list(WIDTHS))
def sized_page(request, login):
    """The same test at 1280 px and at 390 px; `sized_page.mh_width` names the width in screenshots."""
    width, height = WIDTHS[request.param]
    page = login(width, height)
    page.mh_width = request.param
    return page


def save_shot(page, artifacts_dir: Path, name: str, *, full_page: bool = True) -> Path:
    path = artifacts_dir / f"browser-{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def seen_by_user(locator) -> bool:
    """Inside the viewport horizontally, not cut off by a scrolling ancestor (a wide table scrolls inside
    its box), and what the user sees at its centre is the element itself, not something covering it.

    The window is scrolled vertically only: Playwright's own scroll-into-view would also scroll the
    table sideways and so hide the very problem this looks for."""
    locator.wait_for(state="attached")
    return locator.evaluate("""el => {
        let r = el.getBoundingClientRect();
        if (r.top < 0 || r.bottom > window.innerHeight) {
            window.scrollBy(0, r.top - window.innerHeight / 2);
            r = el.getBoundingClientRect();
        }
        if (r.width === 0 || r.height === 0) return false;
        if (r.left < 0 || r.right > window.innerWidth + 0.5) return false;
        for (let box = el.parentElement; box; box = box.parentElement) {
            if (getComputedStyle(box).overflowX === "visible") continue;
            const c = box.getBoundingClientRect();
            if (r.left < c.left - 0.5 || r.right > c.right + 0.5) return false;
        }
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return hit !== null && (el === hit || el.contains(hit) || hit.contains(el));
    }""")


def watch_percent(locator, *, until: str = "100.0%", timeout: float = 40, on_first_move=None) -> list[float]:
    """Read the live percent text until it reaches `until`; returns every value seen on the way."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = locator.inner_text().strip()
        if text:
            seen.append(float(text.rstrip("%")))
            if on_first_move and 0 < seen[-1] < 100:
                on_first_move()
                on_first_move = None
        if text == until:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"percent never reached {until}; saw {sorted(set(seen))}")
