"""The browser fixtures (Chromium, a qcluster worker, logged-in pages at 1280 and 390 px) for every
admin test module that asks for them; defined in tests.downloads.admin.browser."""

from tests.downloads.admin.browser import browser, login, page, sized_page, worker  # noqa: F401
