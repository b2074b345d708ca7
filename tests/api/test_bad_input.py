"""Junk never gives a 500: non-int ids, huge numbers, wrong types, NUL bytes, unknown filters, bodies that
are not JSON objects. Each gets a JSON error with a code."""

import pytest

from downloads import services

HUGE = "9" * 30
GET = [
    "/api/v1/variants/abc/", f"/api/v1/variants/{HUGE}/", "/api/v1/variants/9223372036854775808/",
    "/api/v1/variants/9223372036854775807/", "/api/v1/variants/-1/", "/api/v1/variants/0/",
    "/api/v1/variants/?page=abc", "/api/v1/variants/?page=0", f"/api/v1/variants/?page={HUGE}",
    "/api/v1/variants/?page=99999", "/api/v1/variants/?page_size=-5", "/api/v1/variants/?page_size=100000",
    "/api/v1/variants/?status=nope", "/api/v1/variants/?repo=a%00b", "/api/v1/variants/?kind=" + "k" * 60,
    "/api/v1/variants/?unknown=1", "/api/v1/variants/?status=failed&status=installed",
    "/api/v1/jobs/?variant=abc", f"/api/v1/jobs/?variant={HUGE}", "/api/v1/jobs/?active=maybe",
    "/api/v1/jobs/?state=%00", f"/api/v1/jobs/{HUGE}/", "/api/v1/jobs/1.5/",
    "/api/v1/lookup/", "/api/v1/lookup/?reference=%00", "/api/v1/lookup/?reference=" + "a/" * 600,
    "/api/v1/lookup/?reference=https://evil.example/org/x", "/api/v1/lookup/?reference=org/x&revision=..",
    "/api/v1/nothing/here", "/api/v1/variants/1/explode/",
]
POST = [
    ("/api/v1/variants/", []), ("/api/v1/variants/", "just text"), ("/api/v1/variants/", {"reference": 5}),
    ("/api/v1/variants/", {"reference": "org/\x00x", "choice": "all"}),
    ("/api/v1/variants/", {"reference": "x" * 5000}),
    ("/api/v1/variants/", {"reference": "org/x", "choice": ["all"]}),
    ("/api/v1/variants/", {"reference": "org/x", "download": "perhaps"}),
    ("/api/v1/variants/", {"reference": "org/x", "kind": {"a": 1}}),
    ("/api/v1/variants/", {"reference": "org/x", "repo_type": "space"}),
    ("/api/v1/variants/{v}/verify/", {"mode": None}), ("/api/v1/variants/{v}/verify/", {"mode": 3}),
    ("/api/v1/variants/{v}/verify/", []), ("/api/v1/variants/{v}/delete-files/", {"dry_run": "maybe"}),
    (f"/api/v1/variants/{HUGE}/download/", {}), ("/api/v1/variants/abc/cancel/", {}),
    ("/api/v1/storage/cleanup/", {"only": "one path"}), ("/api/v1/storage/cleanup/", {"only": [None]}),
    ("/api/v1/storage/cleanup/", {"only": [5]}), ("/api/v1/storage/cleanup/", {"dryrun": False}),
    ("/api/v1/variants/", {"reference": "org/x", "choice": "all", "downlaod": True}),
]
RAW = ['{"reference": "\\udcff", "choice": "all"}', '{"reference": "org/x", "choice": "\\ud800"}',
       '{"reference": NaN}', '{"reference": "org/x", "kind": Infinity}', "{not json", '"text"', "null", "",
       '{"reference": "org/x", "revision": "\\u0000"}', '{"older_than_hours": 1e999}']
PATCH = [
    {"max_parallel_files": "abc"}, {"max_parallel_files": 10**30}, {"max_concurrent_downloads": -1},
    {"min_free_space": [1]}, {"min_free_space": True}, {"min_free_space": "9" * 2000},
    {"segment_min_size": "1e400"}, {"storage_dir": "a\x00b"}, {"storage_dir": ["a"]}, {"hub_endpoint": 5},
    {"completeness_rules": "nope"}, {"completeness_rules": {"": [["*"]]}}, {"hub_on_demand": "sometimes"},
    {"old_storage": "shred"}, {"hf_token": ["x"]}, {"reverify_interval_hours": 10**12}, [], "text",
    {"unknown_field": 1},
]


@pytest.fixture
def variant_id(db):
    return services.get_or_create_variant(repo_id="org/x")[0].pk


def json_error(response) -> dict:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] and body["message"], body
    return body


@pytest.mark.parametrize("url", GET)
def test_junk_queries_and_paths_get_json_errors(operator, configured, url):
    response = operator.get(url)
    if url.endswith("/9223372036854775807/") or url.endswith("/?page=99999"):
        assert response.status_code == 404  # well-formed, just nothing there
    json_error(response)


@pytest.mark.parametrize(("url", "body"), POST)
def test_junk_bodies_get_json_errors(operator, configured, variant_id, url, body):
    json_error(operator.post(url.format(v=variant_id), body, format="json"))


@pytest.mark.parametrize("body", PATCH)
def test_junk_settings_get_json_errors(operator, configured, body):
    before = operator.get("/api/v1/settings/").json()
    response = operator.patch("/api/v1/settings/", body, format="json")
    json_error(response)
    after = operator.get("/api/v1/settings/").json()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"}


@pytest.mark.parametrize("raw", RAW)
def test_raw_json_junk_gets_json_errors(operator, configured, raw):
    url = "/api/v1/storage/cleanup/" if "older" in raw else "/api/v1/variants/"
    json_error(operator.post(url, raw, content_type="application/json"))


def test_cleanup_only_touches_what_it_found_itself(operator, configured, tmp_path):
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    body = operator.post("/api/v1/storage/cleanup/", {"dry_run": False, "only": [str(outside)]},
                         format="json").json()
    assert body["removed"] == [] and outside.read_text() == "keep"


def test_bodies_that_are_not_json_are_refused(operator, variant_id):
    assert json_error(operator.post("/api/v1/variants/", "reference=org/x",
                                    content_type="application/x-www-form-urlencoded"))["code"] == (
        "unsupported_media_type")
    assert json_error(operator.post("/api/v1/variants/", "{not json", content_type="application/json"))[
        "code"] == "invalid_input"
    assert json_error(operator.post("/api/v1/variants/", '{"reference": NaN}',
                                    content_type="application/json"))["code"] == "invalid_input"
    assert json_error(operator.delete(f"/api/v1/variants/{variant_id}/"))["code"] == "method_not_allowed"
