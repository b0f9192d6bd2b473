"""Warm Jupyter kernels: one kernel executes many notebooks in turn, reset to a clean session before each.

Starting a kernel and importing pandas, statsmodels and matplotlib takes two to three seconds, longer than
most chapters take to run, and a batch of 32 boroughs runs 224 notebooks. A ``WarmKernel`` starts once and
is reused: before each notebook it clears the user namespace (IPython's reset, as ``%reset -f``), closes
figures, restores matplotlib's settings, the warning filters and the working directory as they were when the
kernel started, and sets the execution counter back to 1, so an executed notebook reads as if it ran in a
fresh kernel. Imported modules stay loaded, and so do the library's in-memory tables (``datasets``), which
is where the time is saved.

A kernel that ran a failing notebook, died, or was started for another project folder or project settings
is shut down and a fresh one started, so a failure can never leave state behind for the next notebook.
Notebooks still run through papermill (parameters injected, failing cell marked, ``PapermillExecutionError``
raised); ``execute`` only hands papermill the running kernel.
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from jupyter_client.manager import KernelManager

ENGINE = "csp-warm-kernel"
START_TIMEOUT = 60
RESET_TIMEOUT = 60

# Runs in the kernel once, before its first notebook: what a fresh session looks like.
_SESSION_START = """
import os as _os, sys as _sys, types as _types, warnings as _warnings
import matplotlib as _mpl
_state = _types.ModuleType("_csp_session_start")
_state.cwd = _os.getcwd()
_state.filters = list(_warnings.filters)
with _warnings.catch_warnings():
    _warnings.simplefilter("ignore")
    _state.rc = {k: v for k, v in _mpl.rcParams.items() if k != "backend"}
_sys.modules["_csp_session_start"] = _state
del _os, _sys, _types, _warnings, _mpl, _state
"""

# Runs in the kernel before every notebook: back to that fresh session. IPython's reset with a new session
# clears the namespace (as %reset -f does), opens a new history session and sets the execution counter to 1.
_SESSION_RESET = """
def _csp_reset():
    import os, sys, warnings
    state = sys.modules["_csp_session_start"]
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sys.modules["matplotlib"].rcParams.update(state.rc)
    warnings.filters[:] = state.filters
    warnings._filters_mutated()
    os.chdir(state.cwd)
    get_ipython().reset(new_session=True)
_csp_reset()
"""

# Environment variables that change what a notebook computes: the project's own settings and thread counts.
# A kernel is reused only while its folder and these are unchanged.
_SIGNIFICANT_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONPATH", "MPLBACKEND")


def _signature(cwd: Path, env: Mapping[str, str]) -> tuple:
    return str(cwd), tuple(sorted((k, v) for k, v in env.items() if k.startswith("CSP_") or k in _SIGNIFICANT_ENV))


class KernelError(RuntimeError):
    """A warm kernel could not be started or reset."""


class WarmKernel:
    """One Jupyter kernel, started on first use and reused for notebook after notebook.

    `cwd` and `env` are where and with what environment the kernel runs; a later `execute` asking for another
    folder, or other project settings (``CSP_*``) or thread counts, gets a fresh kernel. Not thread-safe: give each thread its own (see `KernelPool`).
    """

    def __init__(self, kernel_name: str = "python3") -> None:
        self.kernel_name = kernel_name
        self.km: KernelManager | None = None
        self.kc = None  # one client for the kernel's life: a new client waits ~0.2 s to settle each time
        self._signature: tuple | None = None
        self._dirty = False  # a notebook ran since the last reset
        self.starts = 0  # kernels started over this object's life (for tests and benchmarks)

    def _start(self, cwd: Path, env: Mapping[str, str]) -> None:
        self.shutdown()
        km = KernelManager(kernel_name=self.kernel_name)
        # history in memory, as nbclient does for the kernels it starts
        km.start_kernel(cwd=str(cwd), env=dict(env), extra_arguments=["--HistoryManager.hist_file=:memory:"])
        self.km, self.starts = km, self.starts + 1
        self._signature = _signature(cwd, env)
        self._dirty = False
        try:
            self.kc = km.client()
            self.kc.start_channels()
            self.kc.wait_for_ready(timeout=START_TIMEOUT)
            self.kc.allow_stdin = False
            self._run_silently(_SESSION_START)
        except Exception as exc:
            self.shutdown()
            raise KernelError(f"a kernel could not be started in {cwd} ({type(exc).__name__}: {exc})") from exc

    def _run_silently(self, code: str) -> None:
        """Execute `code` without storing it in the history or counting it; raise if it fails."""
        try:
            msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
            while True:
                reply = self.kc.get_shell_msg(timeout=RESET_TIMEOUT)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
        except Exception as exc:
            raise KernelError(f"the warm kernel did not answer ({type(exc).__name__}: {exc})") from exc
        content = reply["content"]
        if content.get("status") != "ok":
            raise KernelError(f"the warm kernel could not reset its session: {content.get('ename')}: "
                              f"{content.get('evalue')}")

    def ready(self, cwd: Path, env: Mapping[str, str]):
        """A running kernel in `cwd` with `env` and a fresh session: reused when possible, else started."""
        signature = _signature(cwd, env)
        if self.km is None or signature != self._signature or not self.km.is_alive():
            self._start(cwd, env)
        elif self._dirty:
            try:
                self._run_silently(_SESSION_RESET)
            except KernelError:
                self._start(cwd, env)
        self._dirty = True
        return self.km, self.kc

    def discard(self) -> None:
        """Forget the running kernel (after a failure): the next notebook gets a fresh one."""
        self.shutdown()

    def shutdown(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:  # already dead: nothing to clean up
                pass
        self.km, self.kc, self._signature = None, None, None


class KernelPool:
    """`size` warm kernels shared by threads: `with pool.kernel() as k` lends one to a thread at a time."""

    def __init__(self, size: int = 1, kernel_name: str = "python3") -> None:
        self.kernels = [WarmKernel(kernel_name) for _ in range(max(1, size))]
        self._free: queue.Queue[WarmKernel] = queue.Queue()
        for k in self.kernels:
            self._free.put(k)

    @contextmanager
    def kernel(self) -> Iterator[WarmKernel]:
        k = self._free.get()
        try:
            yield k
        finally:
            self._free.put(k)

    @property
    def starts(self) -> int:
        return sum(k.starts for k in self.kernels)

    def shutdown(self) -> None:
        for k in self.kernels:
            k.shutdown()

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()


_per_thread = threading.local()


def thread_kernels() -> KernelPool:
    """This thread's own warm kernel, kept for the life of the process (a batch worker's), shut down at exit."""
    pool = getattr(_per_thread, "pool", None)
    if pool is None:
        pool = _per_thread.pool = KernelPool(1)
        atexit.register(pool.shutdown)
    return pool


def _register_engine() -> None:
    """A papermill engine that executes on a kernel it is given and leaves it running."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class WarmKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, km=None, kc=None,
                                     **kwargs):
            client = PapermillNotebookClient(
                nb_man, km=km, timeout=execution_timeout, startup_timeout=start_timeout, kernel_name=kernel_name,
                log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
                **{k: v for k, v in kwargs.items() if k not in ("input_path", "timeout", "startup_timeout")},
            )
            client.kc = kc  # the warm kernel's own client: nbclient neither starts nor stops it
            return client.execute()

    papermill_engines.register(ENGINE, WarmKernelEngine)


def execute(kernel: WarmKernel, notebook: Path, output: Path, parameters: dict, cwd: Path,
            env: Mapping[str, str] | None = None) -> None:
    """Execute `notebook` with papermill on `kernel` (fresh session), writing the executed copy to `output`.

    Raises what papermill raises (``PapermillExecutionError`` naming the cell); the kernel is then discarded.
    """
    import papermill as pm

    _register_engine()
    km, kc = kernel.ready(cwd, os.environ if env is None else env)
    try:
        # saved once at the end (and on failure), not after every cell: outputs hold the charts' images
        pm.execute_notebook(str(notebook), str(output), parameters=parameters, engine_name=ENGINE, km=km, kc=kc,
                            kernel_name=kernel.kernel_name, progress_bar=False, log_output=False,
                            request_save_on_cell_execute=False)
    except BaseException:
        kernel.discard()
        raise
