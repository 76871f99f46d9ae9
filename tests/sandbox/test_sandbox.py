"""SandboxResource: rendering contract, limits, worker resilience and pool lifecycle.
The hostile battery is in test_isolation.py, the real-script corpus in test_compat.py."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
from sandbox_helpers import BENIGN, PNG_SIGNATURE, alive, no_jobs_left, nobody_processes, parent_pid

from scigen_dagster.resources.sandbox import SandboxResource
from scigen_dagster.sandbox.pool import LAYERS, SandboxPool, SandboxUnavailableError


@pytest.fixture(scope="module")
def sandbox():
    with SandboxResource(timeout_s=3, workers=2) as sb:
        yield sb


# ------------------------------------------------------------------ contract
def test_benign_figure_renders(sandbox):
    res = sandbox.render(BENIGN)
    assert res.status == "ok", res.error + res.log
    assert res.png.startswith(PNG_SIGNATURE) and len(res.png) > 5000
    assert (res.width, res.height) == (600, 600)
    assert {"Projectile path", "time (s)", "apex", "g = 9.8 m/s$^2$"} <= set(res.text_labels)
    assert not any(label.replace(".", "").replace("−", "").isdigit() for label in res.text_labels)  # no tick labels
    assert res.overlapping_text_pairs == 0
    assert res.layers == tuple(k for k, v in sandbox.active_layers().items() if v)
    assert res.seconds > 0 and res.error == ""


def test_active_layers_reports_every_layer(sandbox):
    layers = sandbox.active_layers()
    assert set(layers) == set(LAYERS) and all(isinstance(v, bool) for v in layers.values())


def test_sandbox_saves_open_figure_when_script_does_not(sandbox):
    res = sandbox.render("import matplotlib.pyplot as plt\nplt.figure(figsize=(4, 3))\nplt.bar(['a', 'b'], [3, 5])\nplt.title('Counts')\n")
    assert res.status == "ok", res.error
    assert res.png.startswith(PNG_SIGNATURE)
    assert 300 < res.width < 420 and 220 < res.height < 320  # 4x3 in at dpi 100, cropped tight
    assert "Counts" in res.text_labels


def test_blank_figure_detected(sandbox):
    res = sandbox.render("import matplotlib.pyplot as plt\nfig = plt.figure()\nfig.savefig('figure.png')\n")
    assert res.status == "blank"
    assert "near-uniform" in res.error and res.png is not None


def test_error_reports_line_number(sandbox):
    res = sandbox.render("import matplotlib.pyplot as plt\nfig = plt.figure()\nplt.plot(undefined_name)\n")
    assert res.status == "error"
    assert res.error == "line 3: NameError: name 'undefined_name' is not defined"
    assert "undefined_name" in res.log  # traceback with source line


def test_syntax_error_reports_line_number(sandbox):
    res = sandbox.render("x = 1\ny = (2,\nz = 3 +\n")
    assert res.status == "error" and res.error.startswith("line ") and "SyntaxError" in res.error


def test_script_without_figure_is_an_error(sandbox):
    res = sandbox.render("print('no plot here')\n")
    assert res.status == "error" and "no figure.png" in res.error and "no plot here" in res.log


def test_overlapping_text_is_counted(sandbox):
    res = sandbox.render(
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
        "ax.text(0.5, 0.5, 'Force F'); ax.text(0.52, 0.5, 'Normal N'); ax.text(0.51, 0.505, 'mg')\n"
        "fig.savefig('figure.png', dpi=100)\n"
    )
    assert res.status == "ok" and res.overlapping_text_pairs == 3


def test_text_extents_match_get_window_extent():
    """The worker reuses the layout each Text.draw computes instead of calling
    get_window_extent again; both must give the same boxes (checked in a
    subprocess, since the instrumentation patches matplotlib classes)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import matplotlib; matplotlib.use('Agg')\n"
        "import worker as sw\n"
        "from matplotlib import text\n"
        "state = sw._instrument_matplotlib()\n"
        "assert sw._instrument_matplotlib() is state  # installed once\n"
        "import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots()\n"
        "ax.plot([1, 2], [3, 4]); ax.set_title(r'$\\alpha$ title', wrap=True); ax.set_xlabel('x (m)')\n"
        "ax.annotate('apex', (1.5, 3.5), (1.2, 3.8), arrowprops=dict(arrowstyle='->'))\n"
        "ax.text(1.1, 3.1, 'two\\nlines', rotation=30, bbox=dict(boxstyle='round'))\n"
        "fig.canvas.draw()\n"
        "renderer = fig.canvas.get_renderer()\n"
        "boxes = {}\n"
        "for t in fig.findobj(text.Text):\n"
        "    boxes.setdefault(t.get_text(), []).append(text.Text.get_window_extent(t, renderer).bounds)\n"
        "got = [(s, b) for s, b, _ in state['texts']]\n"
        "assert all(b in boxes[s] for s, b in got), (got, boxes)\n"
        "assert {'$\\\\alpha$ title', 'x (m)', 'apex', 'two\\nlines'} <= {s for s, _ in got}, got\n"
        "print(len(got))\n"
    )
    worker_dir = str(Path(__file__).resolve().parents[2] / "scigen_dagster" / "sandbox")
    proc = subprocess.run([sys.executable, "-I", "-c", code, worker_dir], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.split()[-1]) >= 10  # title, label, annotation, text, tick labels


@pytest.mark.parametrize(
    ("paint", "blank"),
    [
        (lambda px: None, True),  # one colour
        (lambda px: px.__setitem__((slice(0, 1), slice(0, 10)), (0, 0, 0, 255)), True),  # 10 stray pixels: nothing drawn
        (lambda px: px.__setitem__((slice(0, 6), slice(0, 6)), (0, 0, 0, 255)), False),  # one small marker is a figure
        (lambda px: px.__setitem__((slice(0, 2), slice(None)), (0, 0, 0, 255)), False),  # 99.6% white: one thin line is a figure
        (lambda px: px.__setitem__((slice(100, 102), slice(200, 240)), (0, 0, 255, 255)), False),  # 80 px, 0.03%: a sparse mark
        (lambda px: px.__setitem__((slice(0, 250), slice(None)), (0, 0, 255, 255)), False),  # two halves
    ],
)
def test_blank_check_counts_non_background_pixels(tmp_path, paint, blank):
    import numpy as np
    from PIL import Image

    from scigen_dagster.sandbox.worker import _inspect_png

    px = np.full((500, 500, 4), 255, dtype=np.uint8)
    paint(px)
    Image.fromarray(px, "RGBA").save(tmp_path / "figure.png")
    res = _inspect_png(str(tmp_path / "figure.png"), 1 << 24)
    assert res.get("status") == ("blank" if blank else None), res.get("error")
    if blank:  # the reason is the exact count of pixels off the background (white)
        drawn = int((px != 255).any(axis=2).sum())
        assert f"only {drawn} of 250000 pixels" in res["error"]


def test_sparse_meaningful_figure_is_not_blank(sandbox):
    """A few points on a bare canvas: >99.5% one colour, yet a figure."""
    res = sandbox.render(
        "import matplotlib.pyplot as plt\nfig = plt.figure(figsize=(8, 8))\nax = fig.add_axes([0, 0, 1, 1])\nax.axis('off')\n"
        "ax.scatter([0.2, 0.5, 0.8], [0.3, 0.7, 0.4], s=12, c='k')\nax.set_xlim(0, 1); ax.set_ylim(0, 1)\n"
        "fig.savefig('figure.png', dpi=100)\n"
    )
    assert res.status == "ok", res.error


def test_png_above_pixel_budget_is_refused_before_decoding(tmp_path):
    """A few-KB PNG that claims 40 MP: refused from its header, with the reason."""
    import zlib

    from scigen_dagster.sandbox.worker import PIXEL_BUDGET, _inspect_png

    width, height = 8000, 5000  # 40 MP, 1 bit grey: compresses to almost nothing
    raw = zlib.compress(b"".join(b"\x00" + bytes(width // 8) for _ in range(height)), 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    (tmp_path / "figure.png").write_bytes(PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b""))
    assert (tmp_path / "figure.png").stat().st_size < 100_000
    res = _inspect_png(str(tmp_path / "figure.png"), 1 << 24)
    assert res["status"] == "oversized" and "8000x5000" in res["error"] and f"{PIXEL_BUDGET / 1e6:g} MP" in res["error"]


def test_report_parsing_is_total():
    from scigen_dagster.sandbox.worker import _parse_report, signal_name

    nasty = [b"[" * 100_000 + b"]" * 100_000, b'{"status": "ok", "error": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
             b'{"status": "ok", "overlapping_text_pairs": 1' + b"0" * 5000 + b"}", b"\xff\xfe", b'{"status": ["ok"]}',
             b'{"status": "ok", "text_labels": [1, {"a": 2}, "x"], "failures": [1]}', b"1e999999", b""]
    for raw in nasty:
        rep = _parse_report(raw)
        assert rep is None or rep["status"] == "ok"
    assert _parse_report(nasty[5])["text_labels"] == ["x"]
    assert signal_name(9) == "SIGKILL" and signal_name(77) == "signal 77"


def test_batch_survives_a_worker_that_cannot_be_replaced(sandbox, monkeypatch):
    """A job whose worker dies and cannot be restarted gets an error result; the batch goes on."""
    pool = SandboxPool({"timeout_s": 3, "memory_mb": 2048, "cpu_s": 30, "max_output_mb": 20, "max_stdout_kb": 64}, 1, [])
    try:
        kill = "import os\nos.kill(os.getppid(), 9)\n"  # denied by the sandbox: the worker lives on
        assert pool.render(kill).status == "error"
        assert len(pool.worker_pids()) == 1
        os.kill(pool.worker_pids()[0], 9)  # now it dies for real, and the replacement cannot start
        monkeypatch.setattr(SandboxPool, "_launch", lambda self: (_ for _ in ()).throw(OSError("no more processes")))
        results = pool.render_many([BENIGN, BENIGN, BENIGN])
        assert [r.status for r in results][0] == "killed"
        assert all(r.status == "error" and "no more processes" in r.error for r in results[1:])
    finally:
        pool.close()


def test_render_many_keeps_input_order(sandbox):
    codes = [f"import matplotlib.pyplot as plt\nplt.plot([0, {i}])\nplt.title('panel {i}')\n" for i in range(5)]
    codes.insert(2, "raise ValueError('middle one fails')\n")
    results = sandbox.render_many(codes)
    assert [r.status for r in results] == ["ok", "ok", "error", "ok", "ok", "ok"]
    assert results[2].error == "line 1: ValueError: middle one fails"
    titles = [r.text_labels[-1] for i, r in enumerate(results) if i != 2]
    assert titles == [f"panel {i}" for i in range(5)]


def test_timeout_kills_whole_process_group(sandbox):
    code = (
        "import os, threading, time\nprint('pid', os.getpid(), flush=True)\n"
        "for _ in range(3):\n    threading.Thread(target=time.sleep, args=(60,)).start()\ntime.sleep(60)\n"
    )
    res = sandbox.render(code)
    assert res.status == "timeout" and "process group killed" in res.error
    assert 3 <= res.seconds < 5
    pid = int(res.log.split()[1])
    assert no_jobs_left(within_s=0)
    assert not Path(f"/proc/{pid}").exists()


def test_dead_worker_is_replaced_and_job_reported_killed(sandbox):
    workers = set(sandbox.pool().worker_pids())
    holder: dict = {}
    job = threading.Thread(target=lambda: holder.setdefault("res", sandbox.render("import time\ntime.sleep(30)\n")))
    job.start()
    deadline = time.monotonic() + 10
    while not (busy := [p for p in nobody_processes() if parent_pid(parent_pid(p)) in workers]):  # worker > zygote > job
        assert time.monotonic() < deadline
        time.sleep(0.05)
    job_pid = busy[0]
    os.kill(parent_pid(parent_pid(job_pid)), 9)
    job.join(10)
    res = holder["res"]
    assert res.status == "killed" and "sandbox worker died (killed by SIGKILL)" in res.error
    # the orphaned job followed its worker (parent-death signal), wherever it was reparented
    deadline = time.monotonic() + 2
    while alive(job_pid):
        assert time.monotonic() < deadline, "orphaned job survived its worker"
        time.sleep(0.05)
    assert no_jobs_left()
    assert [r.status for r in sandbox.render_many([BENIGN] * 4)] == ["ok"] * 4


def test_cpu_limit_kills_busy_loop():
    with SandboxResource(timeout_s=10, cpu_s=1, workers=1) as sb:
        res = sb.render("while True:\n    pass\n")
    assert res.status == "killed" and "SIGXCPU" in res.error and res.seconds < 9  # well before the 10 s wall clock


# ----------------------------------------------------------------- lifecycle
def test_unknown_required_layer_is_rejected():
    with pytest.raises(ValueError, match="unknown sandbox layer"):
        SandboxResource(require_layers=["nope"]).render("pass")


def test_missing_required_layer_refuses_to_start():
    pool = SandboxPool.__new__(SandboxPool)
    pool.require = ["seccomp", "netns"]
    ready = {"layers": {"seccomp": False, "netns": True}, "reasons": {"seccomp": "no syscall table for riscv64"}}
    with pytest.raises(SandboxUnavailableError, match=r"\['seccomp'\].*riscv64.*require_layers"):
        pool._check(ready)


def test_required_layers_present_start_normally(sandbox):
    present = [k for k, v in sandbox.active_layers().items() if v]
    with SandboxResource(workers=1, require_layers=present) as sb:
        assert sb.render(BENIGN).status == "ok"


def test_resource_survives_pickle_and_fork(sandbox):
    assert sandbox.render(BENIGN).ok  # pool is running
    clone = pickle.loads(pickle.dumps(sandbox))
    assert clone.timeout_s == sandbox.timeout_s and clone._handle.pool is None
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child must not touch the parent's workers: it starts its own pool
        status = "crash"
        try:
            status = sandbox.render(BENIGN).status
            sandbox.close()
        finally:
            os.write(write_end, status.encode())
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    assert os.read(read_end, 100) == b"ok"
    os.close(read_end)
    assert sandbox.render(BENIGN).ok  # parent pool unaffected


def test_dagster_asset_uses_resource():
    @dg.asset
    def rendered(sandbox: SandboxResource) -> list:
        return [r.status for r in sandbox.render_many([BENIGN, "1/0"])]

    result = dg.materialize([rendered], resources={"sandbox": SandboxResource(workers=1)})
    assert result.success and result.output_for_node("rendered") == ["ok", "error"]



def test_the_pool_starts_on_the_first_script_and_closes_with_the_run():
    """A run that reuses every figure pays no pool start; one that renders gets its pool
    closed after the run."""
    seen = {}

    @dg.asset
    def rendered(sandbox: SandboxResource) -> None:
        renderer = sandbox.renderer()
        seen["before"] = sandbox._handle.pool
        seen["status"] = renderer.render(BENIGN).status
        seen["pool"] = sandbox._handle.pool

    assert dg.materialize([rendered], resources={"sandbox": SandboxResource(workers=1)}).success
    assert seen["before"] is None, "no worker started before the first script"
    assert seen["status"] == "ok" and seen["pool"] is not None
    assert not seen["pool"].worker_pids(), "the run's teardown stopped its workers"


def test_zygote_death_costs_at_most_one_job():
    """A worker whose zygote is gone answers the job with an error and is replaced (it cannot
    fork a new zygote: it has held job data); the next job renders normally."""
    pool = SandboxPool({"timeout_s": 3, "memory_mb": 2048, "cpu_s": 30, "max_output_mb": 20, "max_stdout_kb": 64}, 1, [])
    try:
        assert pool.render(BENIGN).status == "ok"
        worker, zygote = pool.process_pids()
        assert parent_pid(zygote) == worker
        os.kill(zygote, 9)
        first, second = pool.render(BENIGN), pool.render(BENIGN)
        assert first.status == "error" and "zygote" in first.error, first
        assert second.status == "ok", second
        assert worker not in pool.process_pids()
    finally:
        pool.close()


def test_memory_bounds_are_reported(sandbox):
    """What bounds a job's memory on this host is stated, including why no cgroup is used."""
    active = sandbox.active_layers()
    memory = sandbox.pool().memory
    assert set(memory) == {"address_space", "scratch", "uncounted_memory", "processes", "cgroup"}
    if active["seccomp"]:
        assert "memfd_create" in memory["uncounted_memory"] and "shmget" in memory["uncounted_memory"]
    if active["mountns"]:
        assert "nr_inodes=2048" in memory["scratch"]
    assert memory["cgroup"].startswith("not used")
