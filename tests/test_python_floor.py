"""opforge's Python also runs in the interpreters of Triton's containers (the
python backend route; 3.10 on the Ubuntu 22.04 releases), so the package may
use nothing newer than the Python floor pyproject.toml declares. vermin reads
the sources for the standard-library APIs and syntax each one needs."""
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]


def declared_floor() -> str:
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    (floor,) = [s.version for s in SpecifierSet(requires) if s.operator == ">="]
    return floor


def test_the_package_needs_no_newer_python_than_pyproject_declares():
    floor = declared_floor()
    vermin = [sys.executable, "-c", "import sys, vermin; sys.exit(vermin.main())"]
    run = subprocess.run([*vermin, "--no-tips", "--violations", f"--target={floor}-", str(ROOT / "python" / "opforge")],
                         capture_output=True, text=True)
    assert "Analyzing" in run.stdout, run.stdout + run.stderr  # it read the package
    assert run.returncode == 0, f"opforge needs a newer Python than requires-python's {floor}:\n{run.stdout}{run.stderr}"
