"""Packaging: the wheel ships every package and the top-level templates, and works outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_package_list_names_every_package() -> None:
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT / "src").parts)
        for p in (ROOT / "src" / "stratlab").rglob("__init__.py")
    }
    found.add("stratlab.templates")
    assert listed == found, (
        f"pyproject's packages list differs: missing {found - listed}, extra {listed - found}"
    )
    assert (ROOT / "templates" / "__init__.py").is_file()
    assert not (ROOT / "src" / "stratlab" / "templates").exists()


def test_version_is_written_once() -> None:
    import stratlab

    assert stratlab.__version__ == _pyproject()["project"]["version"]
    assert "__version__ =" not in (ROOT / "src" / "stratlab" / "__init__.py").read_text()


def test_review_from_the_wheel_outside_the_checkout(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(wheels)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = wheels.glob("stratlab-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    templates = sorted(n for n in names if n.startswith("stratlab/templates/"))
    assert "stratlab/templates/quarterly_review.ipynb" in templates, templates
    # the live figures' front end and the plotly.js they (and the reviews) load
    assert "stratlab/widgets/static/live_figure.js" in names
    assert "stratlab/plots/vendor/plotly-cartesian.min.js" in names
    assert "stratlab/plots/vendor/LICENSE" in names
    assert {n for n in names if n.endswith("datasets/data/northwind.yaml")}

    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import stratlab; print(stratlab.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(site)), where
    subprocess.run(
        [sys.executable, "-m", "stratlab.cli", "example", str(work / "ex")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    files = sorted(p.name for p in (work / "ex").iterdir())
    model = next(work / "ex" / f for f in files if f.endswith((".yaml", ".yml")))
    history = next(work / "ex" / f for f in files if f.endswith(".csv"))
    out = work / "review.html"
    run = subprocess.run(
        [sys.executable, "-m", "stratlab.cli", "review", str(model), str(history), "-o", str(out)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert out.stat().st_size > 100_000
    assert "Northwind" in out.read_text(encoding="utf-8")
