"""The layering: `sandbox` and `islands` never import `factorengine`, and every module imports on its own."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["sandbox", "islands"])
def test_generic_package_never_imports_factorengine(package):
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / package).rglob("*.py")
                 if any(name.split(".")[0] == "factorengine" for name in _imported_modules(path))]
    assert offenders == []


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = 'pip install -e ".[test]" && python -m pytest'
    assert command in readme and command in ci


def test_every_module_imports_as_the_first_import():
    script = (
        "import importlib, pkgutil, sys\n"
        "import factorengine\n"
        "names = [m.name for m in pkgutil.walk_packages(factorengine.__path__, 'factorengine.')]\n"
        "for name in names:\n"
        "    for loaded in [m for m in sys.modules if m.split('.')[0] in ('factorengine', 'sandbox', 'islands')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError as error:\n"
        "        print(name, error)\n"
        "print(len(names), 'modules')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    *failures, summary = result.stdout.splitlines() or [""]
    assert failures == [] and summary.endswith(" modules"), result.stdout + result.stderr


def _calls_print(path: Path) -> bool:
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
               for node in ast.walk(ast.parse(path.read_text())))


def test_only_the_command_line_prints():
    domain = [path for path in (ROOT / "factorengine").rglob("*.py")
              if path.parent.name != "commands" and path.name != "cli.py"]
    assert [str(path.relative_to(ROOT)) for path in domain if _calls_print(path)] == []


def test_domain_packages_never_import_the_commands():
    domain = [path for path in (ROOT / "factorengine").rglob("*.py")
              if path.parent.name != "commands" and path.name != "cli.py"]
    offenders = [str(path.relative_to(ROOT)) for path in domain
                 if any(name.startswith("factorengine.commands") for name in _imported_modules(path))]
    assert offenders == []
