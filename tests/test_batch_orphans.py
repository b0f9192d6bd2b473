"""Batch workers die with the batch: `kill -9` of `csp pack --all-boroughs` left its workers building and publishing
packs, then waiting for work forever with their memory held. Tiny synthetic work stands in for the boroughs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

WORK = """
import os, time
from pathlib import Path

def borough(folder):
    # a borough's build: say which worker took it, then take long
    Path(folder, str(os.getpid())).touch()
    time.sleep(600)
"""

BATCH = """
import sys, time
from csp_evidence.runner.batch import worker_pool
from orphan_work import borough

pool = worker_pool(2)
busy = [pool.submit(borough, sys.argv[1]) for _ in range(4)]  # one borough for each worker, and two waiting
time.sleep(600)
"""

WATCHED = """
import os, sys, time
from csp_evidence.runner.batch import die_with_parent

sys.platform = "elsewhere"  # as on a system without prctl: the watchdog thread alone
die_with_parent(int(sys.argv[2]))
open(sys.argv[1], "w").write(str(os.getpid()))
time.sleep(600)
"""

PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2], str(__import__("os").getpid())])
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for a parent to reap it has stopped and holds no memory)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _gone_within(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def _env() -> dict[str, str]:
    return os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX process signals")
def test_the_workers_of_a_batch_killed_with_sigkill_die_with_it(tmp_path):
    (tmp_path / "orphan_work.py").write_text(WORK)
    started = tmp_path / "started"
    started.mkdir()
    env = _env() | {"PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    batch = subprocess.Popen([sys.executable, "-c", BATCH, str(started)], env=env)
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 300  # two workers importing the library on a busy machine
        while len(pids) < 2 and time.monotonic() < deadline and batch.poll() is None:
            time.sleep(0.2)
            pids = [int(p.name) for p in started.iterdir()]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        os.kill(batch.pid, signal.SIGKILL)
        batch.wait(10)
        assert _gone_within(pids, 10) == [], "batch workers outlived the batch"
    finally:
        batch.kill()
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_worker_watches_its_parent_where_there_is_no_parent_death_signal(tmp_path):
    said = tmp_path / "pid"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, WATCHED, str(said)], env=_env())
    child = 0
    try:
        deadline = time.monotonic() + 300
        while not child and time.monotonic() < deadline and parent.poll() is None:
            time.sleep(0.2)
            child = int(said.read_text() or 0) if said.is_file() else 0
        assert child, "the worker did not start"
        time.sleep(1.0)  # twice the watchdog's interval
        assert _alive(child)  # the watchdog leaves a worker whose parent lives alone
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        assert _gone_within([child], 10) == [], "the watchdog did not end a worker whose parent died"
    finally:
        parent.kill()
        if child and _alive(child):
            os.kill(child, signal.SIGKILL)
