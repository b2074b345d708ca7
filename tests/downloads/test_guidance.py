"""Every error code a job can end with has its own guidance: a person always learns what to do."""

import pytest

from downloads.guidance import guidance_for
from engine.errors import ErrorCode, JobError


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_has_guidance_of_its_own(code):
    context = {"endpoint": "https://hub.example", "repo_id": "org/name", "revision": "main",
               "files": ["model.gguf"], "storage_dir": "/srv/models"}
    text = guidance_for(code, **context)
    assert len(text) > 40
    others = {c: guidance_for(c, **context) for c in ErrorCode if c != code}
    assert text not in others.values()


def test_an_unknown_code_is_refused_where_it_is_raised():
    with pytest.raises(ValueError):
        JobError("made_up_code", "no guidance exists for this")


def test_codes_compare_equal_to_their_stored_strings():
    # job rows, --json output and the README name codes as plain strings
    assert ErrorCode.DISK_FULL == "disk_full" and f"{ErrorCode.DISK_FULL}" == "disk_full"
