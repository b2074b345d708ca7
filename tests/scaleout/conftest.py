"""Fixtures of the fault-injection suite: throwaway deployments (PostgreSQL + Redis, or SQLite + the
ORM broker) that are torn down, processes, databases and mounts included, even when a test fails."""

import pytest

from tests.scaleout.backends import (
    PgDatabase,
    RedisServer,
    SqliteDatabase,
    drop_leftover_databases,
    postgres_problem,
    redis_problem,
    unavailable,
)
from tests.scaleout.stack import Stack

_checked: dict[str, str | None] = {}


def _require(name: str, probe) -> None:
    if name not in _checked:
        _checked[name] = probe()
        if name == "postgres" and _checked[name] is None:
            drop_leftover_databases()
    if _checked[name]:
        unavailable(_checked[name])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def make_stack(request, tmp_path):
    """make_stack(name, backend="postgres"|"sqlite", redis=True, env={...}) -> a migrated, empty Stack."""
    stacks: list[Stack] = []

    def make(name: str = "stack", *, backend: str = "postgres", redis: bool = True,
             env: dict | None = None) -> Stack:
        if backend == "postgres":
            _require("postgres", postgres_problem)
        if redis:
            _require("redis", redis_problem)
        workdir = tmp_path / name
        database = PgDatabase() if backend == "postgres" else SqliteDatabase(tmp_path / f"{name}.sqlite3")
        broker = RedisServer(workdir / "redis") if redis else None
        stack = Stack(workdir, database=database, redis=broker, env=env)
        stacks.append(stack)
        database.create()
        if stack.redis is not None:
            stack.redis.start()
        stack.migrate()
        return stack

    yield make
    call = getattr(request.node, "rep_call", None)
    for stack in stacks:
        if call is not None and call.failed:
            print(f"\n===== logs of {stack.workdir} =====\n{stack.log_tails()}")
        stack.close()
