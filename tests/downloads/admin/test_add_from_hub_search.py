"""Add from Hub's search box: the endpoint's model search through the Hub client, results linking to the
overview, and a plain word when the endpoint (a mirror) cannot search or answers nonsense."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from tests.modelfiles import make_gguf

ADD_FROM_HUB = reverse("admin:downloads_modelvariant_add_from_hub")


def search(client, q: str) -> str:
    response = client.get(ADD_FROM_HUB, {"q": q})
    assert response.status_code == 200
    return response.content.decode()


def results(page: str) -> str:
    start = page.index('id="mh-search-results"')
    return page[start:page.index("</table>", start)]


@pytest.fixture
def models(configured, hub):
    hub.add_repo("org/tiny-embed-GGUF", {"e.Q4_K_M.gguf": make_gguf(), "README.md": b"# embed"})
    hub.add_repo("org/tiny-chat", {"README.md": b"# chat"})
    hub.add_repo("other/large", {"README.md": b"# large"})
    hub.set_card("org/tiny-embed-GGUF", pipeline_tag="feature-extraction", downloads=1234567, likes=56)
    hub.set_card("org/tiny-chat", pipeline_tag="text-generation", downloads=7, likes=0)
    return hub


def test_search_lists_matching_models_with_downloads_likes_and_task_linking_to_the_overview(
        admin_client, models):
    table = results(search(admin_client, "tiny"))
    assert table.index("org/tiny-embed-GGUF") < table.index("org/tiny-chat") and "other/large" not in table
    assert '"downloads">1,234,567</td>' in table and '"likes">56</td>' in table
    assert "<code>feature-extraction</code>" in table and "<code>text-generation</code>" in table
    assert 'href="?q=tiny&amp;repo_id=org/tiny-embed-GGUF"' in table
    assert 'title="org/tiny-embed-GGUF"' in table  # cut on a phone, the whole id on hover
    overview = admin_client.get(ADD_FROM_HUB, {"q": "tiny", "repo_id": "org/tiny-embed-GGUF"})
    overview = overview.content.decode()
    assert 'id="mh-overview"' in overview and 'id="mh-search-results"' in overview
    assert any(r.path == "/api/models" and "search=tiny" in r.query for r in models.requests)


def test_a_search_without_hits_says_so(admin_client, models):
    assert "No model on the Hub matches “nothing-like-this”." in search(admin_client, "nothing-like-this")


def test_an_endpoint_without_model_search_is_said_plainly(admin_client, models):
    models.model_search = False
    page = search(admin_client, "tiny")
    assert "No search here." in page and "does not offer model search (it answered HTTP 404" in page
    assert "many mirrors serve downloads only" in page and 'id="mh-search-results"' not in page
    assert 'id="id_repo_id"' in page  # the way on: type the repo id


class Scripted(BaseHTTPRequestHandler):
    """An endpoint whose /api/models answers what the test scripts (status, body)."""

    answer: tuple[int, bytes] = (200, b"")

    def do_GET(self):
        status, body = self.answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def scripted(configured):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    configured.hub_endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    configured.save()

    def answer(status: int, body: bytes):
        Scripted.answer = (status, body)
    yield answer
    server.shutdown()
    server.server_close()
    from huggingface_hub.utils import close_session
    close_session()


@pytest.mark.parametrize("status, body", [
    (200, b"<html><body>Welcome to the mirror</body></html>"),
    (200, b'{"models": "not a list"}'),
    (405, b"Method Not Allowed"),
])
def test_a_mirror_answering_nonsense_or_refusing_search_is_said_plainly(admin_client, scripted, status, body):
    scripted(status, body)
    page = search(admin_client, "tiny")
    assert "No search here." in page and "does not offer model search" in page
    assert "Welcome to the mirror" not in page


def test_hostile_search_answers_are_checked_escaped_and_cut(admin_client, scripted):
    long_id = "org/" + "x" * 90
    scripted(200, json.dumps([
        {"id": "<script>alert(1)</script>"}, {"id": "../../etc/passwd"}, {"id": 42},
        {"id": "ok/model", "downloads": "lots", "likes": -3, "pipeline_tag": "<b>bold</b>"},
        {"id": long_id, "downloads": 5, "likes": 1, "pipeline_tag": "text-generation"},
    ]).encode())
    page = search(admin_client, "x")
    table = results(page)
    assert "ok/model" in table and long_id in table and "<script>" not in table and "passwd" not in table
    assert "<b>" not in table and "bold" not in table  # a task that is not a task word is left out
    assert table.count(">—</td>") == 2  # "lots" and -3 are no counts
    assert "3 answer(s) that were not a model id were left out." in page


def test_a_failing_search_shows_the_error_and_guidance_not_a_crash(admin_client, models):
    models.down = True  # every request: 503, retried, then reported
    page = search(admin_client, "tiny")
    assert "The search failed: <code>server_error</code>" in page and "What to do:" in page


def test_the_search_never_shows_the_token(admin_client, models, configured):
    models.add_token("hf_search_secret_9876")
    configured.set_hf_token("hf_search_secret_9876")
    configured.save()
    page = search(admin_client, "tiny")
    assert "org/tiny-chat" in page and "hf_search_secret_9876" not in page
