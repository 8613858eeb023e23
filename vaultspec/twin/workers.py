"""Several twin server processes on one listening socket, under a supervising parent.

`serve(workers=N)` prepares everything once (store migrated, TLS files, the listening socket), then
`supervise` forks the workers. Each worker builds its own backend after the fork, so no SQLite
connection, thread or cache ever crosses a fork; the caches stay coherent through the store
(`read_cache`). The parent:

- forwards SIGTERM/SIGINT to the workers and waits until they have shut down;
- replaces a worker that dies on its own (a crash), but gives up (stops the rest, raises) when
  workers keep dying within seconds of their start;
- is the pid in twin.json. Workers ask the kernel to kill them when the parent dies
  (`PR_SET_PDEATHSIG`), so even a SIGKILLed parent frees the port at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1
_SIGNALS = {signal.SIGTERM, signal.SIGINT}
QUICK_DEATH_S = 5.0
MAX_QUICK_DEATHS = 5


class WorkersFailed(RuntimeError):
    """Workers kept dying right after they started."""


def _die_with_parent(parent: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _fork(run: Callable[[], None]) -> int:
    """Fork one worker running `run()`; the child never returns from here."""
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        _die_with_parent(parent)
        run()
    except (SystemExit, KeyboardInterrupt):
        pass
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)  # never run the parent's cleanup (twin.json, the socket) in a worker


def supervise(count: int, run: Callable[[], None]) -> None:
    """Run `count` forked workers of `run()` until SIGTERM/SIGINT; see the module docstring."""
    workers: dict[int, float] = {}  # pid -> start time
    stopping = False

    def stop_all(signum: int = signal.SIGTERM, frame: object = None) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(workers):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def start_one() -> None:
        # Signals stay blocked across the fork: the child must not run this process's handler, and
        # a stop requested meanwhile must reach the new worker (it is in `workers` before delivery).
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            workers[_fork(run)] = time.monotonic()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        if stopping:
            stop_all()

    previous = {sig: signal.signal(sig, stop_all) for sig in _SIGNALS}
    quick_deaths = 0
    try:
        for _ in range(count):
            start_one()
        while workers:
            try:
                pid, _status = os.wait()
            except ChildProcessError:
                break
            started = workers.pop(pid, None)
            if started is None or stopping:
                continue
            quick_deaths = quick_deaths + 1 if time.monotonic() - started < QUICK_DEATH_S else 0
            if quick_deaths >= MAX_QUICK_DEATHS:
                stop_all()
                continue
            print(f"vaultspec twin: worker {pid} died; starting another", file=sys.stderr, flush=True)
            start_one()
    finally:
        stop_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if quick_deaths >= MAX_QUICK_DEATHS:
        raise WorkersFailed(f"twin workers died {quick_deaths} times within {QUICK_DEATH_S:.0f} s of starting")
