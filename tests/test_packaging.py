"""The wheel carries the front end, installs into a fresh venv, and renders a widget from there."""
from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import open_html

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(REPO)],
        check=True,
    )
    (path,) = out.glob("nbdebug-*.whl")
    return path


def test_wheel_contents(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "nbdebug/static/_lib.js" in names and "nbdebug/static/summary.js" in names
    assert "nbdebug/data/friedland2d/spiral_100_35dB.csv" in names
    assert not any(n.startswith(("tests/", "js/")) for n in names)


def test_wheel_installs_and_renders_from_fresh_venv(wheel, tmp_path, browser):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    # the dependencies come from the test environment's site-packages, added as a plain path so
    # that its .pth files (the editable nbdebug among them) are not processed
    site = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = (
        "import nbdebug as nd, torch.nn as nn\n"
        "from nbdebug.views._base import js_dir\n"
        "print(nd.__file__)\n"
        "print(js_dir())\n"
        "s = nd.summary(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)))\n"
        f"s.to_html({str(tmp_path / 'page.html')!r})\n"
        "print(len(s.widget()._esm))\n"
    )
    out = subprocess.run([str(py), "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    module_file, static, esm_len = out.stdout.split()
    assert module_file.startswith(str(venv)), "nbdebug must come from the wheel, not the checkout"
    assert static.endswith("nbdebug/static") and static.startswith(str(venv))
    assert int(esm_len) > 1000

    page = open_html(browser, tmp_path / "page.html")
    assert page.locator("[data-testid=nbd-summary] tbody tr").count() == 4
    assert page.locator("svg.nbd-gutter path.nbd-edge").count() == 3
    assert page.page_errors == []
    page.close()
