"""Fixtures of the format checks, which are stdlib-only: these tests also run with `-p no:django`."""

import pytest


@pytest.fixture(autouse=True)
def fast_retries():
    """Shadows tests/conftest.py's autouse fixture of this name, which needs pytest-django's `settings`.

    These checks are stdlib-only and meant to run with `-p no:django`, where that fixture doesn't exist.
    """


@pytest.fixture
def write(tmp_path):
    def _write(name: str, data: bytes):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    return _write
