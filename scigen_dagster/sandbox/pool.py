"""Isolated, fast rendering of untrusted (model-written) matplotlib scripts.

A pool of warm worker processes (:mod:`scigen_dagster.sandbox.worker`) imports
matplotlib once; every script then runs in a fresh fork of a worker that is
locked down with the layers the host supports (see :data:`LAYERS`):

* ``mountns``  - worker-wide private mount namespace whose root is a fresh tmpfs
  holding only Python, site-packages, shared libraries, fonts, time-zone data,
  /proc and a generated passwd (host paths do not even ``stat``), all
  read-only; each job gets its own size- and inode-capped tmpfs as cwd;
* ``netns``    - the job gets an empty network namespace;
* ``ipcns``    - the job gets its own IPC namespace: no host System V objects
  or POSIX message queues are visible, and none outlives the job;
* ``rlimits``  - CPU, address space, file size, processes/threads, fds, core;
* ``privdrop`` - setuid to a uid of the worker's own (JOB_UID_BASE + its pid, so
  process limits are not shared with other workers' jobs) when root, a nested
  user namespace otherwise;
* ``landlock`` - reads limited to Python/fonts/libs, writes to the scratch dir,
  no TCP, no signals to processes outside the job;
* ``seccomp``  - EPERM for sockets, exec, fork (threads stay allowed), ptrace,
  mounts/namespaces, cross-process calls, memory no limit counts (memfd,
  System V shm/queues, xattrs, pipe growth) and inotify/fanotify.

Every job forks from a zygote: a process forked from the warm worker before
any job, which never receives a job's code or results (the code arrives in the
child after the fork), so no job can find another's data in its memory.
Measurements: status, blank check, width and height are computed by trusted
code from the PNG (decoded within a pixel budget); text labels and overlap
counts are reported by the job itself (see ``SELF_REPORTED``).

Always on: empty environment, own session/process group, parent-death signal,
no_new_privs, non-dumpable, wall-clock timeout enforced by the worker with
``killpg(SIGKILL)``, capped stdout/stderr.
"""

from __future__ import annotations

import json
import os
import queue
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from scigen_dagster.sandbox import worker as sandbox_worker
from scigen_dagster.sandbox.worker import LAYERS, signal_name, write_frame

STATUSES = ("ok", "error", "timeout", "blank", "killed", "oversized")
# Fields of RenderResult that the job itself reports (it could forge them): not to be scored as verified facts.
SELF_REPORTED = ("text_labels", "overlapping_text_pairs")
_STARTUP_TIMEOUT_S = 120.0  # two cold workers importing matplotlib on a busy box
_RESPONSE_GRACE_S = 30.0  # beyond timeout_s: PNG checks and transfer in the worker


class SandboxUnavailableError(RuntimeError):
    """The sandbox cannot provide the protection that was asked for."""


@dataclass(frozen=True)
class RenderResult:
    status: str  # one of STATUSES
    png: bytes | None = field(default=None, repr=False)
    error: str = ""  # "line N: Type: message" when the script raised
    log: str = ""  # tail of the script's stdout/stderr
    seconds: float = 0.0
    width: int = 0  # from the PNG header, read by trusted code
    height: int = 0
    # Self-reported: measured inside the job, after its untrusted code ran, so a
    # script can forge them (within their caps). Status, blank check, width and
    # height are computed by the trusted side from the PNG; see SELF_REPORTED.
    text_labels: list[str] = field(default_factory=list)
    overlapping_text_pairs: int = 0
    layers: tuple[str, ...] = ()  # protection layers the job ran under
    self_reported: tuple[str, ...] = SELF_REPORTED

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class _WorkerDied(Exception):
    pass


def _worker_env() -> dict[str, str]:
    """Nothing from the caller's environment except where matplotlib keeps
    its config and font cache. Single-threaded BLAS keeps the worker free of
    threads, which makes its fork() safe."""
    env = {"PATH": os.defpath, "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for name in ("HOME", "MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


class _WorkerProcess:
    """Client side of one warm worker: frames over its stdin/stdout."""

    def __init__(self, cfg: dict):
        self.base = tempfile.mkdtemp(prefix="scigen-sandbox-")
        os.chmod(self.base, 0o711)  # jobs run as nobody and must reach their scratch dir
        self.proc = subprocess.Popen(
            [sys.executable, "-I", sandbox_worker.__file__],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_worker_env(), cwd="/",
        )
        self.timeout_s = cfg["timeout_s"]
        try:
            write_frame(self.proc.stdin.fileno(), json.dumps(cfg | {"base_dir": self.base}).encode())
        except OSError:
            pass  # it died at once; wait_ready() reports how

    def wait_ready(self) -> dict:
        try:
            msg = json.loads(self._read_frame(time.monotonic() + _STARTUP_TIMEOUT_S))
        except (OSError, EOFError, TimeoutError, ValueError) as exc:
            raise SandboxUnavailableError(f"sandbox worker failed to start: {self._death_reason(exc)}") from exc
        if msg.get("error"):
            raise SandboxUnavailableError(f"sandbox worker failed to start: {msg['error']}")
        self.zygote_pid = msg.get("zygote_pid")
        return msg

    def run(self, code: str) -> tuple[dict, bytes]:
        try:
            write_frame(self.proc.stdin.fileno(), json.dumps({"code": code}).encode())
            deadline = time.monotonic() + self.timeout_s + _RESPONSE_GRACE_S
            header = json.loads(self._read_frame(deadline))
            return header, self._read_frame(deadline)
        except (OSError, EOFError, TimeoutError, ValueError) as exc:
            raise _WorkerDied(self._death_reason(exc)) from exc

    def _read_frame(self, deadline: float) -> bytes:
        fd = self.proc.stdout.fileno()
        head = self._read_exact(fd, 8, deadline)
        return self._read_exact(fd, int.from_bytes(head, "big"), deadline)

    @staticmethod
    def _read_exact(fd: int, n: int, deadline: float) -> bytes:
        buf = bytearray()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while len(buf) < n:
            if not poller.poll(max(0.0, deadline - time.monotonic()) * 1000):
                raise TimeoutError("no answer from sandbox worker")
            chunk = os.read(fd, min(n - len(buf), 1 << 20))
            if not chunk:
                raise EOFError("sandbox worker closed its pipe")
            buf += chunk
        return bytes(buf)

    def _death_reason(self, exc: BaseException) -> str:
        try:
            rc = self.proc.wait(timeout=1)  # a closed pipe usually means it is exiting
        except subprocess.TimeoutExpired:  # alive but broken or hung: it has to go
            self.stop()
            return f"sandbox worker stopped responding ({exc})"
        how = f"killed by {signal_name(-rc)}" if rc < 0 else f"exit status {rc}"
        return f"sandbox worker died ({how})"

    def stop(self) -> None:
        """EOF makes an idle worker exit; a busy or hung one is killed, and
        its running job follows through the parent-death signal."""
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.base, ignore_errors=True)


class SandboxPool:
    """`workers` warm worker processes; each serves one job at a time."""

    def __init__(self, cfg: dict, workers: int, require_layers: list[str]):
        unknown = sorted(set(require_layers) - set(LAYERS))
        if unknown:
            raise ValueError(f"unknown sandbox layer(s) {unknown}; known: {list(LAYERS)}")
        self.cfg, self.require, self.workers = cfg, list(require_layers), workers
        self.idle: queue.SimpleQueue[_WorkerProcess | None] = queue.SimpleQueue()
        self.live: set[_WorkerProcess] = set()
        self.live_lock = threading.Lock()
        procs = [self._launch() for _ in range(workers)]  # warm up in parallel
        try:
            for proc in procs:
                self.layers, self.reasons = self._check(proc.wait_ready())
        except BaseException:
            self.close()
            raise
        for proc in procs:
            self.idle.put(proc)

    def _launch(self) -> _WorkerProcess:
        proc = _WorkerProcess(self.cfg)
        with self.live_lock:
            self.live.add(proc)
        return proc

    def _check(self, ready: dict) -> tuple[dict[str, bool], dict[str, str]]:
        layers, reasons = ready["layers"], ready["reasons"]
        missing = [name for name in self.require if not layers.get(name)]
        if missing:
            detail = "; ".join(f"{name}: {reasons.get(name, 'unavailable')}" for name in missing)
            raise SandboxUnavailableError(
                f"required sandbox layer(s) {missing} are not available on this host ({detail}). "
                f"Refusing to run unprotected; to relax, drop them from SandboxResource.require_layers "
                f"(currently {self.require})."
            )
        self.memory = dict(ready.get("memory", {}))  # what bounds a job's memory on this host
        return layers, reasons

    @property
    def active(self) -> tuple[str, ...]:
        return tuple(name for name in LAYERS if self.layers.get(name))

    def render(self, code: str) -> RenderResult:
        """Never raises for a job's sake: a job whose worker died, or whose
        worker could not be replaced, gets an error result of its own."""
        started = time.perf_counter()
        try:
            return self._render(code, started)
        except Exception as exc:  # noqa: BLE001 - one job's failure must not cost the batch
            return RenderResult("error", error=f"sandbox failure: {type(exc).__name__}: {exc}"[:2000],
                                seconds=time.perf_counter() - started, layers=self.active)

    def _render(self, code: str, started: float) -> RenderResult:
        if not isinstance(code, str):
            return RenderResult("error", error=f"script must be a str, got {type(code).__name__}", layers=self.active)
        proc = self.idle.get()
        try:
            if proc is None:  # replace a worker that died on an earlier job
                proc = self._launch()
                try:
                    self._check(proc.wait_ready())
                except SandboxUnavailableError as exc:
                    self._retire(proc)
                    proc = None
                    return RenderResult("error", error=f"no sandbox worker for this job: {exc}",
                                        seconds=time.perf_counter() - started, layers=self.active)
            header, png = proc.run(code)
            if header.get("worker_exiting"):  # it answered, then went: replace it before the next job
                self._retire(proc)
                proc = None
        except _WorkerDied as exc:
            self._retire(proc)
            proc = None
            return RenderResult("killed", error=f"{exc}; worker restarted", seconds=time.perf_counter() - started, layers=self.active)
        except BaseException:
            self._retire(proc)
            proc = None
            raise
        finally:
            self.idle.put(proc)
        status = header.get("status") if header.get("status") in STATUSES else "error"
        return RenderResult(
            status=status,
            png=png if status in ("ok", "blank") and png else None,
            error=str(header.get("error", "")),
            log=str(header.get("log", "")),
            seconds=time.perf_counter() - started,
            width=int(header.get("width", 0)),
            height=int(header.get("height", 0)),
            text_labels=list(header.get("text_labels", [])),
            overlapping_text_pairs=int(header.get("overlapping_text_pairs", 0)),
            layers=self.active,
        )

    def _retire(self, proc: _WorkerProcess | None) -> None:
        if proc is not None:
            proc.stop()
            with self.live_lock:
                self.live.discard(proc)

    def worker_pids(self) -> list[int]:
        with self.live_lock:
            return [p.proc.pid for p in self.live]

    def process_pids(self) -> list[int]:
        """Workers and their zygotes (the parents of every job), for CPU accounting."""
        with self.live_lock:
            return [pid for p in self.live for pid in (p.proc.pid, getattr(p, "zygote_pid", None)) if pid]

    def close(self) -> None:
        with self.live_lock:
            procs, self.live = list(self.live), set()
        for proc in procs:
            proc.stop()

    def render_many(self, codes: list[str]) -> list[RenderResult]:
        """Renders concurrently on every worker; results keep input order."""
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(codes)))) as executor:
            return list(executor.map(self.render, codes))


class LazyPool:
    """Renders like a pool, which ``start`` gives on the first job: a run that reuses every
    stored figure starts no worker (a pool's start costs seconds on a busy machine)."""

    def __init__(self, start: Callable[[], SandboxPool]):
        self._start = start

    def render(self, code: str) -> RenderResult:
        return self._start().render(code)

    def render_many(self, codes: list[str]) -> list[RenderResult]:
        return self._start().render_many(codes)
