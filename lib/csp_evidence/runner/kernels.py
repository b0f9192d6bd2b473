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
import functools
import os
import queue
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a kernel is started: a run that executes nothing does not need them
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager


def run_sync(coroutine_function):
    """jupyter_core's run_sync, imported when first used."""
    from jupyter_core.utils import run_sync as wrap

    return wrap(coroutine_function)


ENGINE = "csp-warm-kernel"
START_TIMEOUT = 60
RESET_TIMEOUT = 60
CELL_TIMEOUT = 1800  # seconds: a backstop for a hung cell (the slowest chapter cell takes a few seconds)

# Runs in the kernel once, before its first notebook: what a fresh session looks like. The heavy libraries
# are imported first, so the warning filters and settings they install at import are part of the snapshot.
_SESSION_START = """
def _csp_session_start():
    import copy, os, sys, types, warnings
    import numpy, pandas, matplotlib
    for name in ("scipy.stats", "statsmodels.api", "matplotlib.pyplot", "csp_evidence.report.charts"):
        try:
            __import__(name)
        except Exception:  # a broken library shows its traceback in the notebook's own cell instead
            pass
    state = types.ModuleType("_csp_session_start")
    state.cwd = os.getcwd()
    state.environ = dict(os.environ)
    state.path = list(sys.path)
    state.filters = list(warnings.filters)
    state.numpy_err = numpy.geterr()
    state.numpy_print = numpy.get_printoptions()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        state.rc = {k: copy.deepcopy(v) for k, v in matplotlib.rcParams.items() if k != "backend"}
    sys.modules["_csp_session_start"] = state
_csp_session_start()
del _csp_session_start
"""

# Runs in the kernel before every notebook: back to that fresh session. IPython's reset with a new session
# clears the namespace (as %reset -f does), opens a new history session and sets the execution counter to 1.
_SESSION_RESET = """
def _csp_reset():
    import os, sys, warnings
    import numpy, pandas
    state = sys.modules["_csp_session_start"]
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sys.modules["matplotlib"].rcParams.update(state.rc)
        pandas.reset_option("all")
    warnings.filters[:] = state.filters
    warnings._filters_mutated()
    numpy.seterr(**state.numpy_err)
    numpy.set_printoptions(**state.numpy_print)
    os.environ.clear()
    os.environ.update(state.environ)
    sys.path[:] = state.path
    os.chdir(state.cwd)
    get_ipython().reset(new_session=True)
_csp_reset()
"""

# Environment variables that change what a notebook computes: the project's own settings and thread counts.
# A kernel is reused only while its folder, these and the caller's `key` (library and data) are unchanged.
_SIGNIFICANT_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONPATH", "MPLBACKEND")


def _signature(cwd: Path, env: Mapping[str, str], key: str) -> tuple:
    settings = tuple(sorted((k, v) for k, v in env.items() if k.startswith("CSP_") or k in _SIGNIFICANT_ENV))
    return str(cwd), settings, key


class KernelError(RuntimeError):
    """A warm kernel could not be started or reset."""


class WarmKernel:
    """One Jupyter kernel, started on first use and reused for notebook after notebook.

    A later notebook asking for another folder, other project settings (``CSP_*``), thread counts or `key`
    (the pipeline passes a digest of the library and the locked data) gets a fresh kernel, so a long-lived
    worker never runs new inputs on old code or old in-memory tables.

    All talk with the kernel happens on the kernel's own thread, through one asynchronous client kept for the
    kernel's life: nbclient can then watch the kernel while a cell runs (a dead kernel or a cell past
    ``CELL_TIMEOUT`` fails the notebook instead of hanging it) and no settling wait is paid per notebook.
    Any thread may call `execute`; one notebook runs at a time (see `KernelPool` for several kernels).
    """

    def __init__(self, kernel_name: str = "python3") -> None:
        self.kernel_name = kernel_name
        self.km: AsyncKernelManager | None = None
        self._sockets: str | None = None  # the folder of the kernel's IPC sockets
        self.kc: AsyncKernelClient | None = None
        self._signature: tuple | None = None
        self._dirty = False  # a notebook ran since the last reset
        self.starts = 0  # kernels started over this object's life (for tests and benchmarks)
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"warm-kernel-{id(self):x}")
        self._closed = False

    # ----------------------------------------------------------------- on the kernel's own thread

    def _start(self, cwd: Path, env: Mapping[str, str], key: str) -> None:
        self._shutdown()
        # IPC sockets in a private folder, not TCP on localhost: nothing listens on a port, and the kernel has no
        # 'running over TCP without encryption' warning to print into every run
        self._sockets = tempfile.mkdtemp(prefix="csp-kernel-")
        from jupyter_client.manager import AsyncKernelManager

        km = AsyncKernelManager(kernel_name=self.kernel_name, transport="ipc", ip=os.path.join(self._sockets, "k"))
        self.km, self.starts = km, self.starts + 1
        try:
            # history in memory, as nbclient does for the kernels it starts
            run_sync(km.start_kernel)(
                cwd=str(cwd), env=dict(env), extra_arguments=["--HistoryManager.hist_file=:memory:"]
            )
            self.kc = km.client()
            self.kc.start_channels()
            run_sync(self.kc.wait_for_ready)(timeout=START_TIMEOUT)
            self.kc.allow_stdin = False
            self._run_silently(_SESSION_START)
        except BaseException as exc:
            self._shutdown()
            if isinstance(exc, Exception):
                raise KernelError(f"a kernel could not be started in {cwd} ({type(exc).__name__}: {exc})") from exc
            raise
        self._signature = _signature(cwd, env, key)
        self._dirty = False

    def _run_silently(self, code: str) -> None:
        """Execute `code` without storing it in the history or counting it; raise if it fails."""

        kc = self.kc
        assert kc is not None, "no kernel is running"

        async def run() -> dict:
            msg_id = kc.execute(code, silent=True, store_history=False, allow_stdin=False)
            while True:
                reply = await kc.get_shell_msg(timeout=RESET_TIMEOUT)
                if reply["parent_header"].get("msg_id") == msg_id:
                    return reply

        try:
            reply = run_sync(run)()
        except Exception as exc:
            raise KernelError(f"the warm kernel did not answer ({type(exc).__name__}: {exc})") from exc
        content = reply["content"]
        if content.get("status") != "ok":
            raise KernelError(
                f"the warm kernel could not set up its session: {content.get('ename')}: {content.get('evalue')}"
            )

    def _ready(self, cwd: Path, env: Mapping[str, str], key: str) -> None:
        alive = self.km is not None and run_sync(self.km.is_alive)()
        if not alive or _signature(cwd, env, key) != self._signature:
            self._start(cwd, env, key)
        elif self._dirty:
            try:
                self._run_silently(_SESSION_RESET)
            except KernelError:
                self._start(cwd, env, key)
        self._dirty = True

    def _execute(
        self, notebook: Path, output: Path, parameters: dict, cwd: Path, env: Mapping[str, str], key: str
    ) -> None:
        import papermill as pm

        if self._closed:
            raise KernelError(f"the warm kernel was closed; {notebook.name} was not run")

        _register_engine()
        self._ready(cwd, env, key)
        try:
            # saved once at the end, not after every cell (outputs hold the charts' images); the engine
            # saves the partly executed notebook if execution stops on anything but a cell's error
            pm.execute_notebook(
                str(notebook),
                str(output),
                parameters=parameters,
                engine_name=ENGINE,
                km=self.km,
                kc=self.kc,
                save_partial_to=str(output),
                kernel_name=self.kernel_name,
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                execution_timeout=CELL_TIMEOUT,
            )
        except BaseException:
            self._shutdown()  # a failure never leaves its state for the next notebook
            raise

    def _shutdown(self) -> None:
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:
                pass
        if self.km is not None:
            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # already dead: nothing to clean up
                pass
        self.km, self.kc, self._signature = None, None, None
        if self._sockets:
            shutil.rmtree(self._sockets, ignore_errors=True)
            self._sockets = None

    # ----------------------------------------------------------------- from any thread

    def execute(
        self,
        notebook: Path,
        output: Path,
        parameters: dict,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        key: str = "",
    ) -> None:
        """Execute `notebook` with papermill (fresh session), writing the executed copy to `output`.

        Raises what papermill raises (``PapermillExecutionError`` naming the cell); the kernel is then discarded.
        If the caller is interrupted (Ctrl-C) while waiting, the kernel is interrupted too.
        """
        env = dict(os.environ if env is None else env)
        job = self._io.submit(self._execute, notebook, output, parameters, cwd, env, key)
        try:
            job.result()
        except BaseException:
            if not job.done():
                self.interrupt()
            raise

    def interrupt(self) -> None:
        """Interrupt the cell running now, if any (safe from any thread): the notebook then fails as usual."""
        provisioner = getattr(self.km, "provisioner", None)
        pid = getattr(provisioner, "pid", None)
        if pid:
            try:
                os.kill(pid, signal.SIGINT)
            except OSError:
                pass

    def shutdown(self) -> None:
        """Shut the kernel down (it starts again if another notebook comes)."""
        try:
            self._io.submit(self._shutdown).result()
        except RuntimeError:  # the thread is gone (interpreter exit): stop the kernel's processes from here
            km = self.km
            pid = getattr(getattr(km, "provisioner", None), "pid", None)
            if pid:
                try:
                    os.killpg(pid, signal.SIGKILL)  # the kernel leads its own process group
                except OSError:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            if km is not None:
                try:
                    km.cleanup_connection_file()
                except Exception:
                    pass
            self.km, self.kc = None, None
            if self._sockets:
                shutil.rmtree(self._sockets, ignore_errors=True)
                self._sockets = None

    def close(self) -> None:
        """Shut the kernel down and stop its thread; later notebooks are refused."""
        self._closed = True
        self.shutdown()
        self._io.shutdown(wait=True)


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

    def interrupt(self) -> None:
        for k in self.kernels:
            k.interrupt()

    def shutdown(self) -> None:
        for k in self.kernels:
            k.close()

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


@functools.cache
def _register_engine() -> None:
    """A papermill engine that executes on a kernel it is given and leaves it running (registered once)."""
    import nbformat
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class WarmKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            km=None,
            kc=None,
            save_partial_to=None,
            **kwargs,
        ):
            client = PapermillNotebookClient(
                nb_man,
                km=km,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                **{k: v for k, v in kwargs.items() if k not in ("input_path", "timeout", "startup_timeout")},
            )
            client.kc = kc  # the warm kernel's own client: nbclient neither starts nor stops it
            try:
                return client.execute()
            except BaseException as exc:  # a dead kernel, a timeout, an interrupt: keep what ran, for debugging
                if save_partial_to:
                    nb_man.nb.metadata.setdefault("papermill", {})["stopped_by"] = f"{type(exc).__name__}: {exc}"
                    try:
                        nbformat.write(nb_man.nb, save_partial_to)
                    except Exception:  # never hide the reason the notebook stopped
                        pass
                raise

    papermill_engines.register(ENGINE, WarmKernelEngine)
