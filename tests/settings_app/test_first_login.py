"""Issue 14, small things: run.sh's first start prints the address and the new login in a box, the login
is kept in var/admin-password as `user:password`, and the README says exactly that."""

import io
import re
import stat

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from tests.workers import ROOT

pytestmark = pytest.mark.django_db
URL = "http://127.0.0.1:8000/admin/"


def ensure_admin(*args: str) -> str:
    out = io.StringIO()
    call_command("ensure_admin", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def var_dir(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("MODELHUB_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("MODELHUB_ADMIN_USER", raising=False)
    settings.VAR_DIR = tmp_path
    return tmp_path


def box_lines(output: str) -> list[str]:
    lines = [line for line in output.splitlines() if line[:1] in "┌│└"]
    assert lines[0].startswith("┌") and lines[-1].startswith("└"), output
    assert len({len(line) for line in lines}) == 1, "the box's lines are not of one width"
    return [line.strip("│ ") for line in lines[1:-1]]


def test_first_start_boxes_the_address_and_the_login_kept_in_var(var_dir):
    inside = box_lines(ensure_admin("--url", URL))
    assert inside[0] == f"ModelHub: open {URL}"
    found = re.fullmatch(r"First login:  user (\S+)  password (\S+)", inside[1])
    assert found, inside
    user, password = found.groups()
    saved = var_dir / "admin-password"
    assert saved.read_text() == f"{user}:{password}\n"  # what the README says the file holds
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert authenticate(username=user, password=password) is not None
    assert f"Saved in {saved} (as admin:<password>, readable by you only)." in inside

    again = box_lines(ensure_admin("--url", URL))  # later starts: where it is, never the password again
    assert again == [f"ModelHub: open {URL}",
                     f"Log in as admin: first password in {saved} (user:password), unless changed since."]


def test_run_sh_prints_the_box_and_the_readme_matches_the_file():
    run_sh = (ROOT / "run.sh").read_text()
    assert 'manage.py ensure_admin --url "http://$addr/admin/"' in run_sh
    readme = (ROOT / "README.md").read_text()
    assert "`var/admin-password`" in readme and "`admin:<password>`" in readme
