"""A real JupyterLab server and a real headless Chromium, started once per test session.

Every Jupyter directory (config, data, runtime, IPython, lab settings and workspaces, matplotlib)
is isolated in a temporary folder, the notebooks are copied there (Lab may autosave outputs into
them), and the server is stopped with SIGTERM at the end. Screenshots go to ``test-artifacts/``.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"

# Console messages that come from JupyterLab itself on a machine without internet, not from us.
BENIGN_CONSOLE = (
    "favicon",
    "Failed to fetch",
    "net::ERR_",
    "jupyterlab_pygments",
    "@jupyterlab/apputils-extension:notification",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def lab_server(browser, tmp_path_factory):
    home = tmp_path_factory.mktemp("lab")
    root = home / "root"
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    settings = home / "settings"
    notify = settings / "@jupyterlab" / "apputils-extension"
    notify.mkdir(parents=True)
    (notify / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # render every cell (no windowing), so widgets below the fold are in the DOM too
    tracker = settings / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    # no autosave: a notebook saved with outputs would reopen with views of widgets whose
    # kernel is gone ("widget model not found")
    docmanager = settings / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    env = dict(os.environ)
    env.update({
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "MPLCONFIGDIR": str(home / "mpl"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    })
    port, token = _free_port(), "nbdebug-test-token"
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
        f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True", "--JupyterNotebookApp.expose_app_in_browser=True",
        "--ServerApp.open_browser=False", "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = open(home / "server.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                break
        except Exception:
            if proc.poll() is not None or time.time() > deadline:
                log.flush()
                raise RuntimeError("JupyterLab did not start:\n" + (home / "server.log").read_text()[-3000:])
            time.sleep(0.3)
    yield {"base": base, "token": token, "root": root, "log": home / "server.log"}
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


def _shutdown_kernels(server):
    """Delete every session, so the next test starts a fresh kernel for the same notebook."""
    url = f"{server['base']}/api/sessions?token={server['token']}"
    with urllib.request.urlopen(url, timeout=10) as r:
        sessions = json.load(r)
    for session in sessions:
        req = urllib.request.Request(f"{server['base']}/api/sessions/{session['id']}?token={server['token']}", method="DELETE")
        urllib.request.urlopen(req, timeout=10).close()


@pytest.fixture
def page(browser, lab_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.console_errors.append(f"pageerror: {e}"))
    pg.set_default_timeout(60_000)
    yield pg
    context.close()
    _shutdown_kernels(lab_server)


def real_console_errors(pg) -> list[str]:
    return [e for e in pg.console_errors if not any(b in e for b in BENIGN_CONSOLE)]


def screenshot(pg, name: str) -> Path:
    """Save the page, and each nbdebug widget on it as a picture of its own."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    widgets = pg.locator(".nbd-root")
    for i in range(widgets.count()):
        widgets.nth(i).screenshot(path=str(ARTIFACTS / f"{name}-widget{i}.png"))
    return path
