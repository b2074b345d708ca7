"""The engine is a package of its own: it imports nothing from Django or from the app, at module level
or inside a function, so it can be read, tested and reused without them."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("django", "django_q", "downloads", "settings_app", "modelhub", "fakehub", "tests")


def engine_modules() -> list[str]:
    return sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                  for p in (ROOT / "engine").rglob("*.py"))


def test_no_engine_module_names_django_or_the_app_anywhere():
    offenders = []
    for path in (ROOT / "engine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
                          for name in names if name.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_every_engine_module_imports_without_django_installed_or_configured():
    # A fresh interpreter where importing Django fails: every engine module must still load.
    script = (
        "import sys\n"
        "class NoDjango:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {FORBIDDEN[:2]!r}:\n"
        "            raise ImportError(f'the engine must not import {name}')\n"
        "sys.meta_path.insert(0, NoDjango())\n"
        "import importlib\n"
        f"for name in {engine_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "print('imported', len(sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert "imported" in done.stdout
