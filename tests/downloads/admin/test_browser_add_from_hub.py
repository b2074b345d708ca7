"""Issue 14, "Add from Hub helps choose", in Chromium at 1280 and 390 px: search the Hub, open a hit,
and see what helps choose (card, license, kind, recommended quant, free space, RAM fit) and a button
that says what it will do; a gated repo offers no doomed Download now; a mirror without search says so."""

import pytest

from tests.downloads.admin.browser import save_shot, seen_by_user
from tests.modelfiles import make_gguf

pytestmark = pytest.mark.browser
PAGE = "/admin/downloads/modelvariant/add-from-hub/"


@pytest.fixture
def embed(configured, hub):
    hub.add_repo("nomic-ai/nomic-embed-text-v1.5-GGUF", {
        "nomic-embed-text-v1.5.Q4_K_M.gguf": make_gguf(), "nomic-embed-text-v1.5.Q8_0.gguf":
        make_gguf(metadata={"q": "8"}), "nomic-embed-text-v1.5.f16.gguf": make_gguf(metadata={"q": "16"}),
        "README.md": b"---\nlicense: apache-2.0\n---\n# Nomic Embed Text v1.5\n\nGGUF quants of an "
                     b"embedding model <script>alert(1)</script>for llama.cpp.\n"})
    hub.set_card("nomic-ai/nomic-embed-text-v1.5-GGUF", pipeline_tag="sentence-similarity",
                 tags=["gguf", "sentence-similarity", "license:apache-2.0"],
                 card_data={"license": "apache-2.0"}, downloads=48213, likes=97)
    return hub


def test_search_open_a_hit_and_see_what_helps_choose(sized_page, live_server, embed, artifacts_dir):
    page = sized_page
    page.goto(f"{live_server.url}{PAGE}")
    page.fill("#id_q", "nomic-embed")
    page.click("#mh-search input[type=submit]")
    hit = page.locator("#mh-search-results a", has_text="nomic-ai/nomic-embed-text-v1.5-GGUF")
    assert seen_by_user(hit)
    row = page.locator("#mh-search-results tbody tr").first.inner_text()
    assert "48,213" in row and "97" in row and "sentence-similarity" in row
    save_shot(page, artifacts_dir, f"add-from-hub-search-{page.mh_width}")
    hit.click()

    page.wait_for_selector("#mh-choices")
    kind = page.locator("#mh-kind td")
    assert seen_by_user(kind) and kind.inner_text().startswith("embedding")
    assert page.locator("#id_kind").input_value() == "embedding"
    license_row = page.locator("#mh-license")
    assert seen_by_user(license_row) and "apache-2.0" in license_row.inner_text()
    card = page.locator(".mh-card-text")
    assert seen_by_user(card) and card.inner_text().startswith("# Nomic Embed Text v1.5\nGGUF quants of an")
    assert "alert" not in card.inner_text()

    save_shot(page, artifacts_dir, f"add-from-hub-overview-{page.mh_width}")
    q4 = page.locator("#mh-choices tr", has=page.locator("input[value='gguf:nomic-embed-text-v1.5.Q4_K_M']"))
    badge = q4.locator(".mh-recommended")
    assert seen_by_user(badge) and badge.inner_text() == "recommended"
    assert page.locator(".mh-recommended").count() == 1
    space = q4.locator(".mh-space")
    assert seen_by_user(space) and space.inner_text().startswith("fits: ")
    ram = q4.locator(".mh-ram")
    assert seen_by_user(ram) and ram.inner_text().startswith("fits in ")
    save_shot(page, artifacts_dir, f"add-from-hub-choices-{page.mh_width}", full_page=False)

    page.fill("#id_ram_gb", "0.5")  # live, before it is submitted
    assert ram.inner_text().startswith("needs ~") and ram.inner_text().endswith("more than 0.5 GB")
    page.click("#mh-ram input[type=submit]")  # submitted: remembered for the next look
    page.wait_for_selector("#mh-choices")
    assert page.locator("#id_ram_gb").input_value() == "0.5"
    assert "more than 0.5 GB" in page.locator("#mh-choices .mh-ram").first.inner_text()

    button = page.locator("#mh-submit")
    page.check("input[value='gguf:nomic-embed-text-v1.5.Q4_K_M']")
    assert seen_by_user(button) and button.input_value() == "Download selected"
    page.uncheck("#id_download_now")
    assert button.input_value() == "Add selected"
    page.check("#id_download_now")
    assert button.input_value() == "Download selected"


def test_a_gated_repo_offers_no_doomed_download_now(sized_page, live_server, configured, hub, artifacts_dir):
    hub.add_repo("meta-llama/Llama-3.2-1B-GGUF", {"m.Q4_K_M.gguf": make_gguf(), "README.md": b"# L"},
                 gated="manual")
    page = sized_page
    page.goto(f"{live_server.url}{PAGE}?repo_id=meta-llama/Llama-3.2-1B-GGUF")
    box = page.locator("#id_download_now")
    assert box.is_disabled() and not box.is_checked()
    why = page.locator("#mh-download-blocked")
    assert seen_by_user(why)
    assert why.inner_text().startswith("Not possible yet: the current token cannot read this repository's "
                                       "files (gated_no_token).")
    assert "Accept the license" in why.inner_text()
    assert page.locator("#mh-submit").input_value() == "Add selected"
    save_shot(page, artifacts_dir, f"add-from-hub-gated-{page.mh_width}")


def test_a_mirror_without_search_says_so(sized_page, live_server, configured, hub):
    hub.model_search = False
    page = sized_page
    page.goto(f"{live_server.url}{PAGE}")
    page.fill("#id_q", "qwen")
    page.click("#mh-search input[type=submit]")
    note = page.locator("#mh-search-unsupported")
    assert seen_by_user(note)
    assert "does not offer model search (it answered HTTP 404 to /api/models)" in note.inner_text()
    assert seen_by_user(page.locator("#id_repo_id"))


def test_a_choice_that_does_not_fit_is_marked(sized_page, live_server, configured, hub):
    hub.add_repo("org/m-GGUF", {"m.Q4_K_M.gguf": make_gguf(), "m.Q8_0.gguf": make_gguf(metadata={"q": "8"})})
    configured.min_free_space = 1 << 50  # keep 1 PiB free: nothing fits
    configured.save()
    page = sized_page
    page.goto(f"{live_server.url}{PAGE}?repo_id=org/m-GGUF")
    q8 = page.locator("#mh-choices tr", has=page.locator("input[value='gguf:m.Q8_0']"))
    badge = q8.locator(".mh-badge-fail")
    assert seen_by_user(badge) and badge.inner_text() == "too big"
    assert q8.locator(".mh-space").inner_text().startswith("too big does not fit: needs ")
