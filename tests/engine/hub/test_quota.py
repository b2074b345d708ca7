"""The Hub's rate-limit headers, read as hostile input, and the pacing they lead to (no clock: every
step is given its time)."""

import pytest

from engine.hub.quota import MAX_RESET, RESERVE, Pacer, Reading, Watch, kind_of, parse


def test_the_hubs_headers_are_read():
    reading = parse({"RateLimit": '"resolvers";r=2873;t=141',
                     "RateLimit-Policy": '"fixed window";"resolvers";q=3000;w=300'})
    assert reading == Reading("resolvers", 2873, 141, 3000, 300)
    assert parse({"RateLimit": '"api";r=5;t=9'}) == Reading("api", 5, 9)  # no policy: quota unknown


def test_of_several_buckets_the_tightest_counts():
    reading = parse({"RateLimit": '"burst";r=90;t=10, "daily";r=7;t=3000',
                     "RateLimit-Policy": '"burst";q=100;w=60, "daily";q=1000;w=3600'})
    assert reading == Reading("daily", 7, 3000, 1000, 3600)


@pytest.mark.parametrize("value", [
    "", "garbage", "r=1;t=2", '"api";r=1', '"api";t=2', '"api";r=-1;t=2', '"api";r=1;t=-2',
    '"api";r=1.5;t=2', '"api";r=1;t=' + str(MAX_RESET + 1), '"api";r=99999999999;t=2',
    '"api";r=1;t=2' + ";r=1" * 400, '"api";r=1;t=2;<script>', '"ap"i";r=1;t=2', '"api";r=1e3;t=2',
    '"api";r=١;t=2',  # a non-ASCII digit
])
def test_malformed_values_are_ignored(value):
    assert parse({"RateLimit": value}) is None


def test_a_malformed_policy_leaves_the_quota_unknown():
    for policy in ('"fixed window";q=0;w=300', '"x";q=5;w=99999', "q=5;w=5", '"x";q=a;w=1'):
        assert parse({"RateLimit": '"api";r=5;t=9', "RateLimit-Policy": policy}) == Reading("api", 5, 9)


def test_plenty_left_means_no_pacing():
    pacer = Pacer()
    pacer.observe(Reading("api", 400, 100, 500, 300), now=0.0)
    assert [pacer.delay(0.0) for _ in range(100)] == [0.0] * 100
    assert pacer.remaining == 300


def test_below_half_the_quota_the_rest_is_spread_over_the_window():
    pacer = Pacer()
    pacer.observe(Reading("api", 104, 100, 500, 300), now=0.0)  # 100 to spend (reserve 10) in 100 s
    assert pacer.delay(0.0) == 0.0
    assert pacer.delay(0.0) == pytest.approx(100 / 94, rel=0.01)  # the next one waits its turn
    assert pacer.delay(1.1) == 0.0


def test_at_the_reserve_it_waits_for_the_reset_then_goes_again():
    pacer = Pacer()
    pacer.observe(Reading("api", RESERVE, 30), now=0.0)
    assert pacer.delay(0.0) == 30.0
    assert pacer.delay(29.0) == 1.0
    assert pacer.delay(30.0) == 0.0  # a new window: free until a response says more


def test_a_429_holds_every_request_until_retry_after():
    pacer = Pacer()
    pacer.observe(None, status=429, retry_after=7.0, now=10.0)
    assert pacer.delay(10.0) == 7.0
    assert pacer.delay(17.0) == 0.0


def test_readings_out_of_order_do_not_give_back_spent_requests():
    pacer = Pacer()
    pacer.observe(Reading("api", 60, 50, 500, 300), now=0.0)
    pacer.observe(Reading("api", 90, 50, 500, 300), now=0.2)  # an older answer, arriving late
    assert pacer.remaining == 60
    pacer.observe(Reading("api", 499, 300, 500, 300), now=51.0)  # the next window
    assert pacer.remaining == 499
    pacer.observe(Reading("api", 20, 1, 500, 300), now=51.1)  # a straggler of the old window
    assert pacer.remaining == 499


def test_files_and_metadata_are_paced_apart():
    assert kind_of("https://huggingface.co/org/m/resolve/main/a.bin") == "file"
    assert kind_of("https://huggingface.co/api/models/org/m/tree/main") == "api"


def test_a_hold_is_explained_in_plain_words():
    refused = Pacer("file")
    refused.observe(None, status=429, retry_after=30.0, now=0.0)
    assert refused.explain(0.0) == "The Hub asked to wait (HTTP 429): resuming in 30 s"
    spread = Pacer("file")
    spread.observe(Reading("resolvers", 40, 45, 100, 300), now=0.0)
    assert spread.explain(0.5) == ("Waiting for the Hub's rate limit: 40 file requests left in this window, "
                                   "it resets in 45 s; spreading them out until then")
    spent = Pacer("api")
    spent.observe(Reading("api", 3, 2, 500, 300), now=0.0)
    assert spent.explain(1.5) == ("Waiting for the Hub's rate limit: 3 API requests left in this window "
                                  "(kept in reserve), it resets in under a second")


def test_a_job_hears_once_per_stretch_of_holding_and_not_of_short_waits():
    told = []
    watch, pacer = Watch(told.append, after=2.0), Pacer("file")
    pacer.observe(Reading("resolvers", 40, 45, 100, 300), now=0.0)
    watch.held(pacer, 0.5, now=0.0)  # ordinary spreading
    assert told == []
    for now in (1.0, 2.0, 3.0):  # many threads, many polls: one report
        watch.held(pacer, 2.5, now=now)
        watch.went(pacer, now=now)  # still paced: the stretch goes on
    assert len(told) == 1 and "40 file requests left" in told[0]
    watch.went(pacer, now=46.0)  # the window is over: requests flow freely again
    pacer.observe(None, status=429, retry_after=10.0, now=50.0)
    watch.held(pacer, 10.0, now=50.0)
    assert told[1:] == ["The Hub asked to wait (HTTP 429): resuming in 10 s"]
