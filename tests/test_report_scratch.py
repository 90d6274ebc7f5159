"""Review scratch folders: a live run's folder is never removed by another run.

A run's liveness is its lock on ``.lock`` in the folder, not the pid in the
folder's name: a run in another pid namespace (a container sharing ``/tmp``)
has a pid this process cannot see.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from stratlab.report._scratch import LOCK_NAME, SCRATCH_PREFIX, remove_stale_scratch, scratch_folder


@pytest.fixture
def tmp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def folder_of(root: Path, pid: int, *, lock_file: bool, old: bool = True) -> Path:
    folder = root / f"{SCRATCH_PREFIX}{pid}-abc123"
    folder.mkdir()
    (folder / "kernel-connection.json").write_text("{}")
    if lock_file:
        (folder / LOCK_NAME).write_text("")
    if old:
        os.utime(folder, (0, 0))
    return folder


def hold_lock(path: Path) -> subprocess.Popen[str]:
    """Another process holding the folder's lock (as a run in another container would)."""
    code = (
        "import fcntl, os, sys\n"
        f"fd = os.open({str(path)!r}, os.O_RDWR)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_locked_folder_is_kept_though_its_pid_looks_dead(tmp_root: Path) -> None:
    """The pid in the name is gone here, but a live process holds the lock: kept; once that
    process is killed (SIGKILL: no clean-up of its own), the next run removes the folder."""
    folder = folder_of(tmp_root, dead_pid(), lock_file=True)
    holder = hold_lock(folder / LOCK_NAME)
    try:
        assert remove_stale_scratch() == []
        assert folder.exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    os.utime(folder, (0, 0))
    assert remove_stale_scratch() == [folder]
    assert not folder.exists()


def test_an_unlocked_folder_is_kept_while_young(tmp_root: Path) -> None:
    """A run between creating its lock file and taking the lock: not removed."""
    young = folder_of(tmp_root, dead_pid(), lock_file=True, old=False)
    assert remove_stale_scratch() == []
    assert young.exists()


def test_folders_without_a_lock_file_by_pid_and_age(tmp_root: Path) -> None:
    """Folders of an older stratlab: removed only when their pid is gone and they are old."""
    gone = folder_of(tmp_root, dead_pid(), lock_file=False)
    young = folder_of(tmp_root, dead_pid(), lock_file=False, old=False)
    alive = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        running = folder_of(tmp_root, alive.pid, lock_file=False)
        mine = folder_of(tmp_root, os.getpid(), lock_file=False)
        assert remove_stale_scratch() == [gone]
        assert young.exists() and running.exists() and mine.exists()
    finally:
        alive.kill()
        alive.wait(timeout=30)


def test_scratch_folder_is_locked_while_used_and_removed_after(tmp_root: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"), scratch_folder() as folder:
        assert folder.parent == tmp_root
        assert folder.name.startswith(f"{SCRATCH_PREFIX}{os.getpid()}-")
        fd = os.open(folder / LOCK_NAME, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        raise RuntimeError("boom")
    assert not folder.exists()
