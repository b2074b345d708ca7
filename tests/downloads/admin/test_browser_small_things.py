"""Issue 14, small things, in Chromium at 1280 and 390 px: a favicon and a brand mark, and the header's
link (the admin's "View site") opens something useful: the README as a page, screenshots included."""

import pytest

from tests.downloads.admin.browser import save_shot, seen_by_user

pytestmark = pytest.mark.browser


def test_brand_mark_favicon_and_the_docs_link(sized_page, live_server, configured, artifacts_dir):
    page = sized_page
    page.goto(f"{live_server.url}/admin/")
    mark = page.locator("#site-name img.mh-brand-mark")
    assert seen_by_user(mark) and mark.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator("#site-name").inner_text().strip() == "ModelHub"
    icon = page.locator("link[rel=icon]").get_attribute("href")
    favicon = page.request.get(f"{live_server.url}{icon}")
    assert favicon.ok and favicon.headers["content-type"].startswith("image/svg+xml")

    docs = page.locator("#mh-docs-link")
    assert seen_by_user(docs) and docs.inner_text().lower() == "docs"  # the header shows capitals
    docs.click()
    page.wait_for_selector("#content-main.mh-readme")
    tour = page.locator("h2#admin-tour")
    assert seen_by_user(tour) and tour.inner_text() == "Admin tour"
    assert "python3" in page.locator("#content-main").inner_text()
    for image in page.locator(".mh-readme img").all():  # the screenshots in docs/
        image.scroll_into_view_if_needed()
        image.wait_for(state="visible")
        page.wait_for_function("img => img.complete", arg=image.element_handle())
        assert image.evaluate("img => img.naturalWidth") == 1280, image.get_attribute("src")
    save_shot(page, artifacts_dir, f"docs-page-{page.mh_width}", full_page=False)


def test_docs_images_are_only_files_of_docs(admin_client):
    assert admin_client.get("/admin/docs/..%2Fmanage.py").status_code == 404
    assert admin_client.get("/admin/docs/secret_key").status_code == 404
    assert admin_client.get("/admin/docs/nothing-here.png").status_code == 404


def test_favicon_ico_is_the_brand_mark(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response.url.endswith("/downloads/brand/modelhub.svg")


def test_docs_need_a_staff_login(client):
    response = client.get("/admin/docs/")
    assert response.status_code == 302 and "/admin/login/" in response.url
