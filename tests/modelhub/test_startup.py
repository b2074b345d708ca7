"""manage.py pauses the garbage collector while Django starts; every command must run with it on."""

import subprocess
import sys

from tests.workers import ROOT


def test_commands_run_with_the_gc_resumed_and_startup_objects_frozen(tmp_path):
    code = "import gc; print(gc.isenabled(), gc.get_freeze_count() > 10000)"
    out = subprocess.run([sys.executable, str(ROOT / "manage.py"), "shell", "-c", code], cwd=ROOT,
                         capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                              "MODELHUB_VAR_DIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1].split() == ["True", "True"]  # after the shell's own notice
