"""Real front ends for the widget tests: JupyterLab and Voilà on 127.0.0.1, Debian's Chromium.

``start_server`` runs ``jupyter lab`` or ``voila`` from this virtualenv in its own
process group, on a free port with a token, in a given directory, and waits
until it answers; ``stop_server`` ends that process group by its id.  The
kernel is the project's (``python3`` installed into the virtualenv by
``make setup``).  ``chromium_path`` finds Debian's Chromium (installing it with
apt-get when missing and allowed); Playwright drives it with
``executable_path=`` and never downloads a browser.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--no-default-browser-check",
]

#: The notebook the browser tests open: the three explorers on the bundled example.
EXPLORER_CELLS = [
    "import stratlab\nmodel, history = stratlab.load_example()",
    "wi = stratlab.whatif_explorer(model, history)\nwi",
    "ce = stratlab.correlation_explorer(history, model=model)\nce",
    "se = stratlab.simulation_explorer(model, history, samples=300, horizon=2, elapsed=0.5)\nse",
]


def write_notebook(path: Path, cells: list[str] = EXPLORER_CELLS) -> Path:
    """An nbformat-4 notebook of code cells (no outputs) using the project's kernel."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (stratlab)",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, path)
    return path


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running Jupyter server: its process (group leader), base URL, token and log."""

    proc: subprocess.Popen[bytes]
    url: str
    token: str
    log: Path
    root: Path
    extra: dict[str, str] = field(default_factory=dict)

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    # a private runtime/config so parallel runs and the user's settings don't interfere
    env["JUPYTER_RUNTIME_DIR"] = str(root / ".runtime")
    env["JUPYTER_CONFIG_DIR"] = str(root / ".config")
    env["JUPYTERLAB_SETTINGS_DIR"] = str(root / ".lab-settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(root / ".lab-workspaces")
    env.pop("JUPYTER_PLATFORM_DIRS", None)
    env["PYTHONUNBUFFERED"] = "1"
    # the kernel writes nothing outside the temp dir
    env["MPLCONFIGDIR"] = str(root / ".mpl")
    return env


def start_server(kind: str, root: Path, notebook: str, *, timeout: float = 90.0) -> Server:
    """Start ``jupyter lab`` or ``voila`` serving ``root`` and wait until it answers."""
    port = free_port()
    token = secrets.token_hex(16)
    log = root / f"{kind}.log"
    if kind == "lab":
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=",
            "--LabServerApp.open_browser=False",
        ]
        if os.geteuid() == 0:  # CI containers run as root
            cmd.append("--allow-root")
        url = f"http://127.0.0.1:{port}"
        ready = f"{url}/api/status?token={token}"
    elif kind == "voila":
        cmd = [
            sys.executable,
            "-m",
            "voila",
            str(root / notebook),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            f"--Voila.root_dir={root}",
            f"--token={token}",
        ]
        url = f"http://127.0.0.1:{port}"
        ready = f"{url}/?token={token}"
    else:  # pragma: no cover - test helper misuse
        raise ValueError(kind)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=root,
            env=_env(root),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one by pid
        )
    server = Server(proc, url, token, log, root)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(ready, timeout=2) as r:
                if r.status == 200 and kind == "lab":
                    json.loads(r.read())
                    return server
                if r.status == 200:
                    return server
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.3)
    stop_server(server)
    raise RuntimeError(f"{kind} did not answer within {timeout} s:\n{server.log_tail()}")


def stop_server(server: Server) -> None:
    """End the server's process group (its kernels included) by its pid."""
    proc = server.proc
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    # kernels started by the server live in the same group: make sure none is left
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def chromium_path() -> str | None:
    """Debian's Chromium (``apt-get install -y chromium`` when missing and run as root)."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "chromium"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=600,
        )
    return shutil.which("chromium")
