"""Shared by the sandbox tests: a benign figure, a fake secret, and finding the job
processes this test process started."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from scigen_dagster.sandbox.worker import JOB_UID_BASE

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SECRET = f"sk-fake-{uuid.uuid4().hex}"

BENIGN = """\
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(6, 6))
ax.plot([0, 1, 2], [2, 0, 1], marker="o")
ax.set_title("Projectile path")
ax.set_xlabel("time (s)")
ax.annotate("apex", xy=(1, 0), xytext=(1.5, 1.5), arrowprops=dict(arrowstyle="->"))
ax.text(0.2, 1.0, "g = 9.8 m/s$^2$")
fig.savefig("figure.png", dpi=100)
"""


def _descends_from_us(pid: int) -> bool:
    """Whether ``pid`` is a descendant of this test process (other programs on the machine
    may run their own sandboxes; only ours are this test's business)."""
    me = os.getpid()
    for _ in range(64):
        try:
            pid = int(Path(f"/proc/{pid}/status").read_text().split("\nPPid:\t")[1].split()[0])
        except (OSError, IndexError, ValueError):
            return False
        if pid == me:
            return True
        if pid <= 1:
            return False
    return False


def _uid(status: str) -> int:
    return int(status.split("\nUid:\t")[1].split()[0])


def nobody_processes() -> list[int]:
    """Live (non-zombie) job processes (uid JOB_UID_BASE + worker pid) started by this test process."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        if (entry.name.isdigit() and _uid(status) >= JOB_UID_BASE and "\nState:\tZ" not in status
                and _descends_from_us(int(entry.name))):
            pids.append(int(entry.name))
    return pids


def no_jobs_left(within_s: float = 2.0) -> bool:
    deadline = time.monotonic() + within_s
    while nobody_processes():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True



def alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def parent_pid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/status").read_text().split("\nPPid:\t")[1].split()[0])



def render_unisolated(code: str) -> bytes | None:
    """The outside reference: the script in a fresh ``python -I`` of its own, in an empty cwd,
    saving the open figure the way the sandbox does when the script saves none."""
    wrapper = (
        "import os, runpy, sys\nimport matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "runpy.run_path(sys.argv[1], run_name='__main__')\n"
        "pngs = [f for f in os.listdir('.') if f.lower().endswith('.png')]\n"
        "if 'figure.png' not in pngs and len(pngs) == 1:\n    os.rename(pngs[0], 'figure.png')\n"
        "if not os.path.exists('figure.png') and plt.get_fignums():\n"
        "    plt.gcf().savefig('figure.png', dpi=100, bbox_inches='tight')\n"
    )
    with tempfile.TemporaryDirectory() as cwd:
        Path(cwd, "script.py").write_text(code)
        proc = subprocess.run([sys.executable, "-I", "-c", wrapper, "script.py"], cwd=cwd, capture_output=True, timeout=180,
                              env={"PATH": os.defpath, "MPLBACKEND": "Agg", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
                                   "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
        png = Path(cwd, "figure.png")
        return png.read_bytes() if proc.returncode == 0 and png.exists() else None
