"""Add from Hub helps choose (issue 14): free space and RAM against each choice, the recommended quant,
the card's first lines, license, tags and inferred kind, the primary button's words, and no doomed
Download now on a gated repo. Against the test Hub; the search box is in test_add_from_hub_search.py."""

import re

import pytest
from django.urls import reverse

from downloads.admin import hub_fit
from downloads.models import DownloadJob, ModelVariant
from tests.jobs import run_download
from tests.modelfiles import make_gguf

ADD_FROM_HUB = reverse("admin:downloads_modelvariant_add_from_hub")
CARD = (b"---\nlicense: apache-2.0\ntags: [secret-yaml-tag]\n---\n"
        b"<!-- hidden comment -->\n# Tiny Chat\n\n<p align=center><img src=x onerror=alert(1)></p>\n"
        b"A small chat model <script>alert('card')</script> for tests.\n\n![logo](https://x/logo.png)\n"
        + b"".join(b"Line %d of the card.\n" % i for i in range(40)))


@pytest.fixture
def gguf(configured, hub):
    return hub.add_repo("org/tiny-GGUF", {
        "tiny.Q2_K.gguf": make_gguf(metadata={"q": "2"}), "tiny.Q4_K_M.gguf": make_gguf(),
        "tiny.Q8_0.gguf": make_gguf(metadata={"q": "8"}), "README.md": CARD})


def look(client, repo_id="org/tiny-GGUF", **params) -> str:
    response = client.get(ADD_FROM_HUB, {"repo_id": repo_id, **params})
    assert response.status_code == 200
    return response.content.decode()


def row(page: str, key: str) -> str:
    """The choices-table row of one choice."""
    start = page.index(f'value="{key}"')
    return page[start: page.index("</tr>", start)]


def test_each_choice_says_whether_it_fits_in_the_free_space(admin_client, gguf, configured):
    page = look(admin_client)
    for key in ("gguf:tiny.Q4_K_M", "gguf:tiny.Q8_0", "all"):
        assert re.search(r"fits: [\d.]+ [KMGT]?B of [\d.]+ [KMGT]?B free", row(page, key)), key
    configured.min_free_space = 1 << 50  # keep 1 PiB free: nothing fits
    configured.save()
    page = look(admin_client)
    q4 = row(page, "gguf:tiny.Q4_K_M")
    assert "too big" in q4 and "does not fit: needs" in q4 and "kept free" in q4 and "mh-nofit" in q4


def test_blobs_already_on_disk_are_not_counted_twice(admin_client, gguf):
    job = run_download("org/tiny-GGUF", include=["tiny.Q4_K_M.gguf"], kind="text")
    assert job.state == "succeeded", job.error_message
    page = look(admin_client)
    assert "already on disk: nothing to download" in row(page, "gguf:tiny.Q4_K_M")
    q4_size = len(make_gguf())
    assert f"{q4_size} B already on disk" in row(page, "all")


def test_q4_k_m_is_marked_recommended_and_nothing_else(admin_client, gguf):
    page = look(admin_client)
    assert page.count(">recommended</span>") == 1
    assert ">recommended</span>" in row(page, "gguf:tiny.Q4_K_M")


def test_gguf_choices_say_whether_they_fit_in_the_ram_typed_and_remember_it(admin_client, gguf):
    default = hub_fit.machine_ram_gib()
    page = look(admin_client)
    assert f'name="ram_gb" value="{default}"' in page or f'name="ram_gb" value="{default:g}"' in page
    need = hub_fit.ram_needed(len(make_gguf()))
    assert f"fits in 64 GB RAM (needs ~{need / hub_fit.GIB:.1f} GB)" in row(look(admin_client, ram_gb="64"),
                                                                            "gguf:tiny.Q4_K_M")
    assert "fits in 64 GB RAM" in row(look(admin_client), "gguf:tiny.Q4_K_M")  # remembered in the session
    small = look(admin_client, ram_gb="0.5")
    assert f"needs ~{need / hub_fit.GIB:.1f} GB RAM, more than 0.5 GB" in row(small, "gguf:tiny.Q4_K_M")
    assert "RAM" not in row(small, "all")  # the whole repo is no single model to run
    refused = look(admin_client, ram_gb="-3")
    assert "Enter at least 0.5 GB." in refused and "more than 0.5 GB" in row(refused, "gguf:tiny.Q4_K_M")


def test_the_ram_rule_is_file_size_plus_a_fifth_plus_one_gib():
    assert hub_fit.ram_needed(10 * hub_fit.GIB) == 13 * hub_fit.GIB
    assert hub_fit.ram_text(13 * hub_fit.GIB, 16) == (True, "fits in 16 GB RAM (needs ~13.0 GB)")
    assert hub_fit.ram_text(13 * hub_fit.GIB, 8) == (False, "needs ~13.0 GB RAM, more than 8 GB")


def test_the_card_shows_its_first_lines_as_text_with_license_and_tags(admin_client, gguf, hub):
    long_tag = "t" * 90
    hub.set_card("org/tiny-GGUF", tags=["gguf", "license:apache-2.0", "<b>bold</b>", long_tag],
                 card_data={"license": "apache-2.0"}, pipeline_tag="text-generation")
    page = look(admin_client)
    card = page[page.index('id="mh-card"'):page.index("</div>", page.index('class="mh-card-text"'))]
    assert "# Tiny Chat" in card and "A small chat model  for tests." in card
    assert "Line 0 of the card." in card
    assert "Line 11 of the card." not in card  # the first lines only
    assert "secret-yaml-tag" not in card and "hidden comment" not in card and "logo.png" not in card
    assert "<script>" not in page.split("</header>")[-1].replace('<script src="', "")
    assert "onerror" not in page
    license_row = page[page.index('id="mh-license"'):page.index("</tr>", page.index('id="mh-license"'))]
    assert ">apache-2.0</span>" in license_row
    tags = page[page.index('id="mh-tags"'):page.index("</tr>", page.index('id="mh-tags"'))]
    assert "&lt;b&gt;bold&lt;/b&gt;" in tags and "<b>" not in tags and "license:" not in tags
    assert f'title="{long_tag}"' in tags and f">{long_tag}<" not in tags  # cut, the whole on hover


def test_a_repo_without_readme_says_so(admin_client, configured, hub):
    hub.add_repo("org/bare", {"m.Q4_K_M.gguf": make_gguf()})
    page = look(admin_client, "org/bare")
    assert "No card to show: this repository has no model card (README.md)." in page
    assert "not stated" in page  # no license


def test_an_embedding_model_is_inferred_as_embedding_and_the_kind_field_starts_there(
        admin_client, configured, hub):
    hub.add_repo("org/embed-GGUF", {"e.Q4_K_M.gguf": make_gguf(), "README.md": b"# embed"})
    hub.set_card("org/embed-GGUF", pipeline_tag="feature-extraction", tags=["gguf", "feature-extraction"])
    page = look(admin_client, "org/embed-GGUF")
    kind = page[page.index('id="mh-kind"'):page.index("</tr>", page.index('id="mh-kind"'))]
    assert "<strong>embedding</strong>" in kind and "pipeline_tag=feature-extraction" in kind
    assert '<option value="embedding" selected>' in page


def test_the_primary_button_says_what_it_will_do(admin_client, gguf):
    page = look(admin_client)
    assert 'id="mh-submit" value="Download selected"' in page and "downloads/add_from_hub.js" in page
    refused = admin_client.post(ADD_FROM_HUB, {"repo_id": "org/tiny-GGUF", "repo_type": "model",
                                               "revision": "main", "kind": "text"}).content.decode()
    assert 'id="mh-submit" value="Add selected"' in refused  # posted with the box unticked


def test_a_gated_repo_the_token_cannot_read_offers_no_download_now_and_refuses_a_forged_one(
        admin_client, configured, hub):
    hub.add_repo("org/gated", {"m.Q4_K_M.gguf": make_gguf(), "README.md": b"# gated"}, gated="auto")
    hub.add_token("hf_reader_token_5678")
    configured.set_hf_token("hf_reader_token_5678")
    configured.save()
    page = look(admin_client, "org/gated")
    assert re.search(r'<input type="checkbox" name="download_now"[^>]*disabled', page)
    blocked = page[page.index('id="mh-download-blocked"'):]
    assert "cannot read this repository&#x27;s files (gated_no_access)" in blocked
    assert f'href="{hub.url}/org/gated"' in blocked  # the fix: ask for access on the repo's page
    assert 'id="mh-submit" value="Add selected"' in page and "hf_reader_token_5678" not in page
    assert "inferred when the files can be read" in page and '<option value="auto" selected>' in page
    assert "unknown until the files can be listed" in row(page, "all")

    form = {"repo_id": "org/gated", "repo_type": "model", "revision": "main", "choices": ["all"],
            "kind": "text"}
    forged = admin_client.post(ADD_FROM_HUB, {**form, "download_now": "on"})
    assert "Download now is not possible: the current token cannot read" in forged.content.decode()
    assert not ModelVariant.objects.exists() and not DownloadJob.objects.exists()
    added = admin_client.post(ADD_FROM_HUB, form)
    assert added.status_code == 302 and ModelVariant.objects.count() == 1 and not DownloadJob.objects.exists()
