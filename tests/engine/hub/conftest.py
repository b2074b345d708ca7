"""A malicious Hub-compatible server, one repo per attack, and a folder to attack: storage and, beside
it, canary files. `storage` here is that world's storage folder, not the root conftest's.

`untouched()`, called after a job, asserts that the canary files outside storage are byte-for-byte
intact, that nothing was created or removed outside storage (a walk of the parent folder before and
after), and that no origin but the endpoint's saw the token."""

import pytest

from fakehub.hostile import HostileHub
from settings_app.models import Setting
from tests.engine.hub.world import CANARY, TOKEN, VICTIMS, assert_token_only_at_endpoint, walk


@pytest.fixture
def world(tmp_path):
    """A folder holding storage and, beside it, files a hostile server would like to reach."""
    root = tmp_path / "world"
    storage = root / "srv" / "storage"
    storage.mkdir(parents=True)
    for name in VICTIMS:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(CANARY)
    return root


@pytest.fixture
def storage(world):
    return world / "srv" / "storage"


@pytest.fixture
def evil(db, storage):
    from huggingface_hub.utils import close_session

    with HostileHub() as server:
        setting = Setting.load()
        setting.hub_endpoint = server.url
        setting.storage_dir = str(storage)
        setting.min_free_space = 0
        setting.save()
        setting.set_hf_token(TOKEN)
        setting.save()
        yield server
    close_session()


@pytest.fixture
def untouched(world, storage, evil):
    """Call after the job: asserts the world outside storage is exactly as before, and that no origin
    but the endpoint's ever saw the token."""
    before = walk(world, storage)

    def check():
        assert walk(world, storage) == before
        for name in VICTIMS:
            assert (world / name).read_bytes() == CANARY
        assert_token_only_at_endpoint(evil)
    return check
