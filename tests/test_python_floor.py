"""opforge's Python also runs in the interpreters of Triton's containers (the
python backend route: 3.10 in 23.05–24.10, 3.12 in 24.11–26.08), so the package may
use nothing newer than the Python floor pyproject.toml declares. vermin reads
the sources for the standard-library APIs and syntax each one needs."""
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

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


def test_readme_names_the_releases_whose_python_is_below_the_floor():
    """README: 22.12–23.04 ship 3.8, below the floor (pip will not install
    opforge there); every later release's Python, where the matrix knows it, is not."""
    from opforge import releases

    floor = Version(declared_floor())
    below = {name for name, release in releases.load_releases().items()
             if release.version("python") is not None and release.version("python") < floor}
    assert below == {"22.12", "23.01", "23.02", "23.03", "23.04"}
