"""Fresh interpreter and warm in-process exec per script vs the warm, locked-down sandbox pool.

Renders every benign script in ``benchmarks/sandbox_corpus/`` (25 scientific
figure types, two scripts each, 6x6 in saved at 100 dpi with zlib level 1,
the same save call in every way) three ways, each with ``--workers`` scripts
in flight at once (default 2, one per core here):

* fresh:     ``python -I script.py`` in its own temporary cwd, one process each;
* inprocess: ``--workers`` warm, unisolated interpreters (warmed up by the
  sandbox worker's own ``_warm_up``, minus its text instrumentation) that ``exec`` one script after
  another in a fresh cwd, closing all figures in between: the seed's way, and
  the speed limit for the sandbox (it shares state between scripts and
  contains nothing);
* sandbox:   ``SandboxResource(workers=N).render_many`` on an already warm pool
  (its start-up is reported separately as ``sandbox_startup_s``).

The ways alternate over chunks of the corpus, so that load from anything
else on the machine weighs on all alike rather than on whichever ran during it.

The last line is JSON: n_scripts, fresh_per_s, inprocess_per_s,
sandbox_per_s, ratio (sandbox speed / fresh), ratio_to_inprocess (sandbox
speed / in-process speed, goal >= 0.9), identical (every sandbox PNG
byte-identical to the fresh interpreter's), identical_inprocess (the same
against the in-process exec), workers, sandbox_startup_s, layers (active
protection layers), the names of scripts that failed or differed, and the
CPU time per script of fresh and sandbox (fresh_cpu_ms, sandbox_cpu_ms:
this process plus the interpreters, resp. the workers, zygotes and their
jobs) with their quotient cpu_ratio. The wall-clock ratios depend on what
else runs on the machine; the CPU figures much less so.

    .venv/bin/python benchmarks/bench_sandbox.py [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parent / "sandbox_corpus"
sys.path.insert(0, str(REPO_ROOT))

from scigen_dagster.resources.sandbox import SandboxResource  # noqa: E402


def render_fresh(script: Path) -> bytes | None:
    # Same backend the sandbox pins; everything else is matplotlib's defaults in both ways.
    env = {**os.environ, "MPLBACKEND": "Agg"}
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run([sys.executable, "-I", str(script)], cwd=cwd, env=env, capture_output=True, timeout=120)
        png = Path(cwd, "figure.png")
        return png.read_bytes() if proc.returncode == 0 and png.exists() else None


# A warm, unisolated interpreter: reads script paths on stdin, execs each in a
# fresh cwd, answers "<seconds> <png hex or ->" per line.
_INPROCESS = r"""
import importlib.util, os, sys, tempfile, time
spec = importlib.util.spec_from_file_location("sandbox_worker", sys.argv[1])
worker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(worker)
worker._warm_up(instrument=False)  # the sandbox worker's own warm-up, without its text instrumentation
import matplotlib.pyplot as plt
print("ready", flush=True)
for line in sys.stdin:
    path = line.strip()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as cwd:
        os.chdir(cwd)
        try:
            exec(compile(open(path).read(), path, "exec"), {"__name__": "__main__"})
            png = open("figure.png", "rb").read().hex() if os.path.exists("figure.png") else "-"
        except Exception:
            png = "-"
        plt.close("all")
        os.chdir("/")
    print(f"{time.perf_counter() - started:.6f} {png}", flush=True)
"""


class InProcess:
    """One warm unisolated interpreter that execs scripts one after another."""

    def __init__(self) -> None:
        worker = REPO_ROOT / "scigen_dagster" / "sandbox" / "worker.py"
        self.proc = subprocess.Popen([sys.executable, "-I", "-c", _INPROCESS, str(worker)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env={**os.environ, "MPLBACKEND": "Agg"}, text=True, cwd="/")
        assert self.proc.stdout.readline().strip() == "ready"

    def render(self, script: Path) -> bytes | None:
        self.proc.stdin.write(f"{script}\n")
        self.proc.stdin.flush()
        png = self.proc.stdout.readline().split()[1]
        return None if png == "-" else bytes.fromhex(png)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def _render_inprocess(interps: list[InProcess], chunk: list[Path]) -> list[bytes | None]:
    """Each interpreter takes the next script as soon as it is free."""
    import queue
    import threading

    todo: queue.SimpleQueue = queue.SimpleQueue()
    for i, s in enumerate(chunk):
        todo.put((i, s))
    out: list[bytes | None] = [None] * len(chunk)

    def drain(interp: InProcess) -> None:
        while True:
            try:
                i, s = todo.get_nowait()
            except queue.Empty:
                return
            out[i] = interp.render(s)

    threads = [threading.Thread(target=drain, args=(interp,)) for interp in interps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _self_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _workers_cpu_s(pids: list[int]) -> float:
    """utime + stime of the sandbox workers and zygotes, and of their reaped jobs."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(f) for f in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunks", type=int, default=4)
    args = parser.parse_args()
    scripts = sorted(CORPUS.glob("*.py"))
    size = -(-len(scripts) // args.chunks)

    fresh, inproc, boxed, fresh_s, inproc_s, sandbox_s, fresh_cpu, sandbox_cpu = [], [], [], 0.0, 0.0, 0.0, 0.0, 0.0
    interps = [InProcess() for _ in range(args.workers)]
    with ThreadPoolExecutor(args.workers) as pool, SandboxResource(workers=args.workers) as sandbox:
        started = time.perf_counter()
        layers = sandbox.active_layers()  # starts and warms the pool
        startup_s = time.perf_counter() - started
        render_fresh(scripts[0])  # untimed: warm the page cache for the fresh path too
        workers = sandbox.pool().process_pids()
        for i in range(0, len(scripts), size):
            chunk = scripts[i : i + size]
            cpu = _self_cpu_s() + _children_cpu_s()
            started = time.perf_counter()
            fresh += pool.map(render_fresh, chunk)
            fresh_s += time.perf_counter() - started
            fresh_cpu += _self_cpu_s() + _children_cpu_s() - cpu
            started = time.perf_counter()
            inproc += _render_inprocess(interps, chunk)
            inproc_s += time.perf_counter() - started
            cpu = _self_cpu_s() + _workers_cpu_s(workers)
            started = time.perf_counter()
            boxed += sandbox.render_many([s.read_text() for s in chunk])
            sandbox_s += time.perf_counter() - started
            sandbox_cpu += _self_cpu_s() + _workers_cpu_s(workers) - cpu
    for interp in interps:
        interp.close()

    failed = [s.stem for s, f, b in zip(scripts, fresh, boxed) if f is None or not b.ok]
    differ = [s.stem for s, f, b in zip(scripts, fresh, boxed) if f is not None and b.ok and f != b.png]
    differ_inprocess = [s.stem for s, f, b in zip(scripts, inproc, boxed) if b.ok and f != b.png]
    for s, b in zip(scripts, boxed):
        print(f"{s.stem:36s} {b.status:9s} {b.seconds:6.3f}s  {b.width}x{b.height}  overlaps={b.overlapping_text_pairs}")
    print(f"layers: {', '.join(k for k, v in layers.items() if v)}")
    n = len(scripts)
    print(json.dumps({
        "n_scripts": n,
        "fresh_per_s": round(n / fresh_s, 2),
        "inprocess_per_s": round(n / inproc_s, 2),
        "sandbox_per_s": round(n / sandbox_s, 2),
        "ratio": round(fresh_s / sandbox_s, 2),
        "ratio_to_inprocess": round(inproc_s / sandbox_s, 2),
        "identical": not failed and not differ,
        "identical_inprocess": not failed and not differ_inprocess,
        "layers": [k for k, v in layers.items() if v],
        "workers": args.workers,
        "sandbox_startup_s": round(startup_s, 2),
        "failed": failed,
        "differ": differ,
        "differ_inprocess": differ_inprocess,
        "fresh_cpu_ms": round(1000 * fresh_cpu / n, 1),
        "sandbox_cpu_ms": round(1000 * sandbox_cpu / n, 1),
        "cpu_ratio": round(fresh_cpu / sandbox_cpu, 2),
    }))


if __name__ == "__main__":
    main()
