"""A hostile Hub that points elsewhere (pagination links, redirects, whatever huggingface_hub is
asked to send): the token reaches the configured endpoint alone.

Each test asserts the job's error code and calls `untouched()` (see conftest.py).
"""

import pytest

from downloads.models import JobState
from tests.engine.hub.world import REPO, TOKEN, run

pytestmark = pytest.mark.django_db


def test_pagination_to_another_origin_is_refused_and_never_sent_the_token(evil, storage, untouched):
    evil.repo(REPO, files={"config.json": b"{}"},
              tree_link=f"{evil.elsewhere}/api/models/{REPO}/tree/{'a' * 40}?cursor=2")
    job = run()
    assert job.error_code == "protocol_error"
    assert "another host" in job.error_message
    assert not evil.requests_to(evil.elsewhere)
    assert TOKEN not in job.error_message + job.guidance
    assert evil.origins_that_saw(TOKEN) == {evil.url}  # the endpoint did get it: the test is live
    untouched()


def test_file_redirect_to_another_origin_goes_without_the_token(evil, storage, untouched):
    data = b'{"model_type": "llama"}'

    def to_cdn(handler):
        handler.send(302, b"", {"Location": f"{evil.elsewhere}/cdn/config.json"})

    evil.repo(REPO, files={"config.json": data}, resolve={"config.json": to_cdn})
    evil.elsewhere_handler = lambda handler: handler.send_file(data)
    job = run()
    assert job.state == JobState.SUCCEEDED, job.error_message
    assert [s.authorization for s in evil.requests_to(evil.elsewhere)] == [None]
    assert evil.origins_that_saw(TOKEN) == {evil.url}
    untouched()


def test_api_redirect_to_another_origin_goes_without_the_token(evil, storage, untouched):
    data = b"{}"
    script = evil.repo(REPO, files={"config.json": data})

    def moved(handler):
        handler.send(307, b"", {"Location": f"{evil.elsewhere}{handler.path}"})

    honest = type(script)(REPO, "a" * 40, {"config.json": data})
    script.info = moved
    evil.elsewhere_handler = lambda handler: handler.send_json(
        {"id": REPO, "sha": honest.sha, "siblings": [{"rfilename": "config.json"}]})
    job = run()
    assert job.state == JobState.SUCCEEDED, job.error_message
    assert evil.requests_to(evil.elsewhere) and all(s.authorization is None
                                                    for s in evil.requests_to(evil.elsewhere))
    assert evil.origins_that_saw(TOKEN) == {evil.url}
    untouched()


def test_no_request_through_huggingface_hub_carries_the_token_to_another_origin(evil):
    """The backstop below every metadata call: whatever huggingface_hub is asked to send, a bound
    token is stripped from a request to any origin but the endpoint's."""
    from huggingface_hub.utils import get_session

    from settings_app.hub_client import client_from_settings

    client = client_from_settings()  # binds the saved token to the endpoint
    assert client.token == TOKEN
    session = get_session()
    session.get(f"{evil.elsewhere}/api/anything", headers={"Authorization": f"Bearer {TOKEN}"})
    session.get(f"{evil.url}/api/whoami-v2", headers={"Authorization": f"Bearer {TOKEN}"})
    assert [s.authorization for s in evil.requests_to(evil.elsewhere)] == [None]
    assert evil.origins_that_saw(TOKEN) == {evil.url}
