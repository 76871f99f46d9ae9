"""The hostile battery: scripts that try every class of escape (network, secrets and host
files, processes, signals, limits, output channels, host IPC, memory past the limits,
cross-job leakage, killing the worker, starving neighbours, watching the host, expensive
output). Each must be contained, and the pool must render a benign figure byte-identical to
an unisolated run right after it."""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sandbox_helpers import BENIGN, SECRET, nobody_processes, render_unisolated

from scigen_dagster.resources.sandbox import SandboxResource
from scigen_dagster.sandbox.pool import STATUSES

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Hostile:
    id: str
    code: str  # @TMP@ is replaced with a test-owned folder outside the sandbox
    statuses: frozenset[str]
    reason: tuple[str, ...]  # one of these must appear in error+log
    leftover: str = ""  # a file under @TMP@ whose existence would mean the attack worked


def _h(id, code, statuses, *reason, leftover=""):
    return Hostile(id, code, frozenset(statuses.split()), reason, leftover)


DENIED = ("denied by sandbox", "Errno 1]", "Errno 13]")
HIDDEN = DENIED + ("Errno 2]",)  # the path is not even in the job's view of the filesystem
# raw system calls, their failures as OSError like the os module's
SC = ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
      "def sc(*args):\n    r = libc.syscall(*args)\n    if r < 0:\n        e = ctypes.get_errno()\n"
      "        raise OSError(e, os.strerror(e))\n    return r\n")
PLOT = "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\n"
# System V keys: one the host owns, others a job tries to leave behind
KEY_HOST, KEY_SEM, KEY_SHM, KEY_MSG = 0x5C160001, 0x5C160002, 0x5C160003, 0x5C160004
LEAK_MARK = f"LEAKMARK-{uuid.uuid4().hex}"
CONTROL_MARK = f"LEAKMARK-{uuid.uuid4().hex}"  # never given to any job


def _leak_probe() -> str:
    """Counts copies of the marker an earlier job held (its source, output and drawn title)
    in this job's whole readable memory, against a control marker built the same way
    (both strings exist once in the probe itself). Neither is written literally here."""
    def build(mark: str) -> str:
        return f"('LEAK' + 'MARK-' + {mark[9:][::-1]!r}[::-1]).encode()"

    return (
        "import ctypes\n"
        f"marks = [{build(LEAK_MARK)}, {build(CONTROL_MARK)}]\n"
        "counts = [0, 0]\n"
        "for line in open('/proc/self/maps').read().splitlines():\n"
        "    fields = line.split()\n"
        "    if not fields[1].startswith('r') or (len(fields) > 5 and fields[5] in ('[vvar]', '[vsyscall]', '[vvar_vclock]')):\n"
        "        continue\n"
        "    start, end = (int(x, 16) for x in fields[0].split('-'))\n"
        "    for at in range(start, end, 1 << 24):\n"
        "        chunk = ctypes.string_at(at, min(1 << 24, end - at))\n"
        "        counts[0] += chunk.count(marks[0])\n"
        "        counts[1] += chunk.count(marks[1])\n"
        "        del chunk\n"
        "print('earlier job leaked' if counts[0] > counts[1] else 'no leak', counts)\n"
        + PLOT
    )


_PNG_BOMB = (  # 40 MP of 1-bit grey in a few KB: refused from its header, never decoded
    "import struct, zlib\nw, h = 8000, 5000\nraw = zlib.compress(bytes((1 + w // 8) * h), 9)\n"
    "def chunk(kind, body):\n    return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body))\n"
    "open('figure.png', 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 1, 0, 0, 0, 0))"
    " + chunk(b'IDAT', raw) + chunk(b'IEND', b''))\n"
)
_REPORT_WRITE = "import os\nfor fd in range(3, 40):\n    try:\n        os.write(fd, payload)\n    except OSError:\n        pass\nos._exit(0)\n"

HOSTILE = [
    # network
    _h("connect_localhost", "import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=1)\n", "error", *DENIED),
    _h("connect_external", "import socket\nsocket.create_connection(('93.184.216.34', 80), timeout=1)\n", "error", *DENIED),
    _h("dns_lookup", "import socket\nsocket.getaddrinfo('example.com', 443)\n", "error", "gaierror", *DENIED),
    _h("udp_sendto", "import socket\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('8.8.8.8', 53))\n", "error", *DENIED),
    _h("raw_socket_syscall",
       "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nfd = libc.syscall(41, 2, 1, 0)\n"
       "if fd < 0:\n    raise OSError(ctypes.get_errno(), 'raw socket syscall refused')\n", "error", *DENIED),
    # secrets and files outside the scratch folder
    _h("environ_secrets", "import os\nprint('environ=' + repr(dict(os.environ)))\nimport matplotlib.pyplot as plt\nplt.title(str(dict(os.environ)))\n",
       "ok", "environ={}"),
    _h("parent_environ", "import os\nprint(open(f'/proc/{os.getppid()}/environ').read())\n", "error", *DENIED),
    _h("read_shadow", "print(open('/etc/shadow').read())\n", "error", *HIDDEN),
    _h("read_outside_file", "print(open('@TMP@/secret.txt').read())\n", "error", *HIDDEN),
    _h("list_etc", "import os\nprint(os.listdir('/etc'))\n", "error", *DENIED),
    _h("write_outside", "open('@TMP@/pwned.txt', 'w').write('pwned')\n", "error", *HIDDEN, "Read-only", leftover="pwned.txt"),
    _h("write_world_tmp", "open('/tmp/scigen-sandbox-pwned', 'w').write('pwned')\n", "error", *DENIED, "Read-only"),
    _h("delete_parent_cache", "import os, shutil\nos.remove('@TMP@/cache/model.bin')\nshutil.rmtree('@TMP@/cache')\n", "error", *HIDDEN, "Read-only"),
    # its own /proc/self is the job's (threadpoolctl reads maps); another process's is not
    _h("proc_self", "print(open('/proc/self/maps').read()[:100])\nprint(open('/proc/1/maps').read())\n", "error", *DENIED),
    _h("proc_parent_mem", "import os\nopen(f'/proc/{os.getppid()}/mem', 'rb').read(16)\n", "error", *DENIED),
    # processes
    _h("fork_bomb", "import os\nwhile True:\n    os.fork()\n", "error", *DENIED),
    _h("double_fork_survivor",
       "import os, time\nif os.fork() == 0:\n    if os.fork() == 0:\n        time.sleep(20)\n        open('@TMP@/survivor', 'w').write('x')\n    os._exit(0)\n",
       "error", *DENIED, leftover="survivor"),
    _h("subprocess_run", "import subprocess\nsubprocess.run(['touch', '@TMP@/by_subprocess'])\n", "error", *DENIED, leftover="by_subprocess"),
    _h("os_system", "import os\nrc = os.system('touch @TMP@/by_system')\nif rc:\n    raise OSError(f'os.system exit status {rc}')\n",
       "error", "os.system exit status", leftover="by_system"),
    _h("os_execv", "import os\nos.execv('/bin/sh', ['sh', '-c', 'touch @TMP@/by_exec'])\n", "error", *DENIED, leftover="by_exec"),
    _h("posix_spawn", "import os\nos.posix_spawn('/usr/bin/touch', ['touch', '@TMP@/by_spawn'], {})\n", "error", *DENIED, leftover="by_spawn"),
    _h("thread_bomb", "import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n",
       "error", "can't start new thread"),
    _h("ptrace_parent",
       "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nif libc.ptrace(16, os.getppid(), 0, 0):\n"
       "    raise OSError(ctypes.get_errno(), 'ptrace attach refused')\n", "error", *DENIED),
    _h("new_namespaces",
       "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nif libc.unshare(0x10000000 | 0x20000):\n"
       "    raise OSError(ctypes.get_errno(), 'unshare refused')\n", "error", *DENIED),
    # signals
    _h("kill_parent", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n", "error", *DENIED),
    _h("kill_pid1", "import os, signal\nos.kill(1, signal.SIGKILL)\n", "error", *DENIED),
    _h("kill_everything", "import os, signal\nos.kill(-1, signal.SIGKILL)\n", "error", *DENIED),
    _h("killpg_parent_group", "import os, signal\nos.killpg(os.getpgid(os.getppid()), signal.SIGKILL)\n", "error", *DENIED),
    _h("ignore_signals_and_hang",
       "import signal, time\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):\n    signal.signal(s, signal.SIG_IGN)\n"
       "while True:\n    time.sleep(1)\n", "timeout", "process group killed"),
    _h("self_segfault", "import ctypes\nctypes.string_at(0)\n", "killed", "SIGSEGV"),
    # limits
    _h("infinite_loop", "while True:\n    pass\n", "killed timeout", "SIGXCPU", "timeout"),
    _h("busy_threads", "import threading\ndef spin():\n    while True:\n        pass\nfor _ in range(4):\n    threading.Thread(target=spin).start()\n",
       "killed timeout", "SIGXCPU", "timeout"),
    _h("sleep_past_timeout", "import time\ntime.sleep(60)\n", "timeout", "wall-clock timeout"),
    _h("memory_bomb", "chunks = []\nwhile True:\n    chunks.append(bytearray(10**7))\n", "error", "MemoryError"),
    _h("huge_allocation", "x = bytearray(10**11)\n", "error", "MemoryError"),
    _h("raise_rlimits", "import resource\nresource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY,) * 2)\n",
       "error", "not allowed to raise"),
    _h("raise_cpu_rlimit", "import resource\nresource.setrlimit(resource.RLIMIT_CPU, (resource.RLIM_INFINITY,) * 2)\n",
       "error", "not allowed to raise"),
    _h("huge_image", "import matplotlib.pyplot as plt\nfig = plt.figure(figsize=(500, 500))\nplt.plot([1, 2])\nfig.savefig('figure.png', dpi=100)\n",
       "oversized", "exceeds 40 MP"),
    _h("huge_file", "open('big.bin', 'wb').write(b'0' * (50 << 20))\n", "oversized", "File too large"),
    _h("fill_disk", "for i in range(100):\n    open(f'f{i}', 'wb').write(b'0' * (4 << 20))\n", "error", "No space left"),
    # output channels
    _h("stdout_flood", "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * (1 << 20))\n"
       "import matplotlib.pyplot as plt\nplt.plot([0, 1])\n", "ok", "bytes of output dropped"),
    _h("tamper_fds",
       "import os\nfake = b'{\"status\": \"ok\", \"text_labels\": [\"forged\"]}\\n'\nfor fd in range(21):\n"
       "    try:\n        os.write(fd, fake)\n        os.close(fd)\n    except OSError:\n        pass\n",
       "error", "corrupted the sandbox report", "no figure.png"),
    _h("symlink_figure", "import os\nos.symlink('/etc/shadow', 'figure.png')\n", "error", "not a regular file"),
    _h("fifo_figure", "import os\nos.mkfifo('figure.png')\n", "error", "not a regular file"),
    # host IPC: the job has its own IPC namespace, and the memory-holding calls are denied
    _h("ipc_host_semaphore_invisible", SC + f"print('host semaphore', sc(64, {KEY_HOST}, 0, 0))\n", "error", "Errno 2]"),
    _h("ipc_semaphore_outlives_job", SC + f"print('semid', sc(64, {KEY_SEM}, 1, 0o1666))\n" + PLOT, "ok", "semid"),
    _h("ipc_shm_segment", SC + f"sc(29, {KEY_SHM}, 1 << 30, 0o1666)\n", "error", *DENIED),
    _h("ipc_msg_queue", SC + f"sc(68, {KEY_MSG}, 0o1666)\n", "error", *DENIED),
    _h("ipc_posix_mq_outlives_job", SC + "name = ctypes.create_string_buffer(b'scigen-sandbox-mq')\n"
       "print('mq', sc(240, name, 0o100 | 2, 0o666, None))\n" + PLOT, "ok error", "mq", *DENIED),
    _h("ipc_posix_shared_memory", "from multiprocessing import shared_memory\nshared_memory.SharedMemory(create=True, size=1 << 30)\n",
       "error", "not available in the sandbox"),
    # memory no rlimit counts
    _h("memfd_create", "import os\nfd = os.memfd_create('hold')\nos.ftruncate(fd, 4 << 30)\n", "error", *DENIED),
    _h("memfd_raw_syscall", SC + "sc(319, b'hold', 0)\n", "error", *DENIED),
    _h("memfd_secret", SC + "sc(447, 0)\n", "error", *DENIED),
    _h("xattr_flood", "import os\nopen('a', 'w').close()\nfor i in range(10000):\n    os.setxattr('a', f'user.k{i}', b'x' * 60000)\n",
       "error", *DENIED),
    _h("inode_flood", "for i in range(200000):\n    open(f'f{i}', 'w').close()\n", "error", "No space left"),
    _h("directory_flood", "import os\nfor i in range(200000):\n    os.mkdir(f'd{i}')\n", "error", "No space left"),
    _h("shared_anonymous_mmap", "import mmap\nm = mmap.mmap(-1, 8 << 30, flags=mmap.MAP_SHARED)\nm[::4096] = b'x' * (2 << 20)\n",
       "error", "Errno 12]", "MemoryError"),
    _h("pipe_buffer_growth", "import fcntl, os\nr, w = os.pipe()\nfcntl.fcntl(w, 1031, 1 << 20)\n", "error", *DENIED),
    _h("pipe_flood", "import os\npipes = [os.pipe() for _ in range(5000)]\n", "error", "Too many open files"),
    _h("sparse_file_past_quota", "import os\nfd = os.open('big', os.O_RDWR | os.O_CREAT)\nos.ftruncate(fd, 1 << 34)\n",
       "oversized", "File too large"),
    # cross-job leakage: every job forks from a zygote that never held another job's data
    _h("leak_source", f"secret = {LEAK_MARK!r}\nprint(secret)\nimport matplotlib.pyplot as plt\nplt.title(secret)\nplt.plot([0, 1])\n",
       "ok", LEAK_MARK),
    # killing the worker through its report channel or how the job ends
    _h("report_deep_nesting", "payload = b'[' * 300000 + b']' * 300000 + b'\\n'\n" + _REPORT_WRITE, "error", "corrupted the sandbox report"),
    _h("report_huge_number", "payload = b'{\"status\": \"ok\", \"overlapping_text_pairs\": 1' + b'0' * 100000 + b'}\\n'\n" + _REPORT_WRITE,
       "error", "corrupted the sandbox report"),
    _h("report_not_utf8", "payload = b'\\xff\\xfe\\x00{\\n'\n" + _REPORT_WRITE, "error", "corrupted the sandbox report"),
    _h("report_wrong_types", "payload = b'{\"status\": \"ok\", \"text_labels\": \"forged\", \"overlapping_text_pairs\": \"many\", "
       "\"error\": {\"a\": [1]}}\\n'\n" + _REPORT_WRITE, "error", "no figure.png"),
    _h("unknown_signal_exit", "import os, time\nos.kill(os.getpid(), 40)\ntime.sleep(5)\n", "killed", "signal 40"),
    _h("realtime_signal_max", "import os, signal, time\nos.kill(os.getpid(), signal.SIGRTMAX)\ntime.sleep(5)\n", "killed", "SIGRTMAX"),
    _h("close_std_streams_and_exit", "import os\nos.close(1)\nos.close(2)\nraise SystemExit(3)\n", "error", "SystemExit"),
    # watching the host: no inotify/fanotify, and host paths are not in the job's view at all
    _h("inotify_watch", "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nif libc.inotify_init1(0) < 0:\n"
       "    raise OSError(ctypes.get_errno(), 'inotify_init1 refused')\n", "error", *DENIED),
    _h("inotify_raw_syscall", SC + "fd = sc(253)\nsc(254, fd, b'/', 0xfff)\n", "error", *DENIED),
    _h("fanotify", SC + "sc(300, 0, 0)\n", "error", *DENIED),
    _h("stat_host_secret", "import os\nprint(os.stat('@TMP@/secret.txt'))\n", "error", "Errno 2]"),
    _h("stat_repo_file", f"import os\nprint(os.stat({str(REPO / 'README.md')!r}))\n", "error", "Errno 2]"),
    _h("stat_etc", "import os\nprint(os.stat('/etc/hostname'), os.stat('/etc/shadow'))\n", "error", "Errno 2]"),
    _h("list_proc", "import os\nprint(os.listdir('/proc'))\n", "error", *DENIED),
    _h("read_zygote_status", "import os\nprint(open(f'/proc/{os.getppid()}/status').read())\n", "error", *DENIED),
    _h("read_zygote_fds", "import os\nprint(os.listdir(f'/proc/{os.getppid()}/fd'))\n", "error", *DENIED),
    _h("dev_shm", "open('/dev/shm/x', 'w').write('x')\n", "error", *HIDDEN),
    # expensive output
    _h("png_pixel_bomb", _PNG_BOMB, "oversized", "inspection budget"),
    _h("png_garbage_data", _PNG_BOMB.replace("8000, 5000", "100, 100").replace("raw = zlib.compress(bytes((1 + w // 8) * h), 9)",
                                                                             "raw = bytes(range(256)) * 40"),
       "error", "could not be decoded"),
    _h("figure_is_directory", "import os\nos.mkdir('figure.png')\n", "error", "not a regular file"),
    _h("figure_hardlink_out", "import os\nos.link('/etc/passwd', 'figure.png')\n", "error", "Errno 18]", *DENIED),
    # processes and privileges, by raw system calls and other routes
    _h("raw_clone", SC + "sc(56, 17, 0, 0, 0, 0)\n", "error", *DENIED),
    _h("raw_clone3", SC + "sc(435, None, 0)\n", "error", "Errno 38]"),
    _h("x32_abi_socket", SC + "sc(0x40000000 | 41, 2, 1, 0)\n", "error", "Errno 38]"),
    _h("setuid_root", "import os\nos.setuid(0)\n", "error", *DENIED),
    _h("chroot", "import os\nos.chroot('.')\n", "error", *DENIED),
    _h("mount_tmpfs", SC + "sc(165, b'none', b'.', b'tmpfs', 0, None)\n", "error", *DENIED),
    _h("keyctl", SC + "sc(250, 0, 0, 0, 0, 0)\n", "error", *DENIED),
    _h("bpf", SC + "sc(321, 0, None, 0)\n", "error", *DENIED),
    _h("perf_event_open", SC + "sc(298, None, 0, -1, -1, 0)\n", "error", *DENIED),
    _h("clear_parent_death_signal", "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nif libc.prctl(1, 0, 0, 0, 0):\n"
       "    raise OSError(ctypes.get_errno(), 'prctl refused')\n", "error", *DENIED),
    _h("oom_score_adj", "open('/proc/self/oom_score_adj', 'w').write('-1000')\n", "error", *DENIED, "Read-only"),
    _h("fd_exhaustion", "import os\nfds = [os.open('/dev/null', os.O_RDONLY) for _ in range(10000)]\n", "error", "Too many open files"),
    _h("kill_neighbour_pid", "import os, signal\nfor pid in range(os.getpid() - 50, os.getpid() + 50):\n    if pid != os.getpid():\n"
       "        try:\n            os.kill(pid, signal.SIGKILL)\n        except ProcessLookupError:\n            pass\n", "error", *DENIED),
    _h("tgkill_zygote", SC + "sc(234, os.getppid(), os.getppid(), 9)\n", "error", *DENIED),
    _h("pidfd_open_zygote", "import os\nos.pidfd_open(os.getppid())\n", "error", *DENIED),
    _h("join_zygote_group", "import os\nos.setpgid(0, os.getpgid(os.getppid()))\n", "error", *DENIED),
    _h("abstract_unix_socket", "import socket\ns = socket.socket(socket.AF_UNIX)\ns.bind('\\0scigen')\n", "error", *DENIED),
    # probes for the leak_source job's data, long after it ran, on either worker
    _h("leak_probe_1", _leak_probe(), "ok", "no leak"),
    _h("leak_probe_2", _leak_probe(), "ok", "no leak"),
    _h("leak_probe_3", _leak_probe(), "ok", "no leak"),
]


def _host_ipc_leftovers() -> list[str]:
    """System V and POSIX IPC objects the battery's jobs tried to leave on the host."""
    libc = ctypes.CDLL(None, use_errno=True)
    left = []
    for name, nr, args in (("semaphore", 64, (KEY_SEM, 0, 0)), ("shm segment", 29, (KEY_SHM, 0, 0)), ("msg queue", 68, (KEY_MSG, 0))):
        if libc.syscall(nr, *args) >= 0:
            left.append(name)
    fd = libc.syscall(240, ctypes.create_string_buffer(b"scigen-sandbox-mq"), 0, 0, None)
    if fd >= 0:
        os.close(fd)
        left.append("posix mq")
    return left


@pytest.fixture(scope="module")
def battery():
    # Directly under /tmp: every ancestor is world-traversable, so file
    # permissions alone would not stop a job from getting at it.
    outside = Path(tempfile.mkdtemp(prefix="scigen-outside-"))
    (outside / "secret.txt").write_text(SECRET)
    cache = outside / "cache"
    cache.mkdir()
    (cache / "model.bin").write_bytes(b"weights")
    for path, mode in ((outside, 0o777), (cache, 0o777), (cache / "model.bin", 0o666), (outside / "secret.txt", 0o644)):
        path.chmod(mode)  # world-readable/writable: only the sandbox may stand in the way
    libc = ctypes.CDLL(None, use_errno=True)
    host_sem = libc.syscall(64, KEY_HOST, 1, 0o1666)  # a host semaphore, readable by anyone: the job must not see it
    assert host_sem >= 0 and not _host_ipc_leftovers(), "stale IPC objects from an earlier run; remove them with ipcrm"
    os.environ["SCIGEN_FAKE_SECRET"] = SECRET  # inherited by nothing if the sandbox works
    reference = render_unisolated(BENIGN)
    sb = SandboxResource(timeout_s=4, cpu_s=2, memory_mb=768, max_output_mb=5, workers=2, max_stdout_kb=16)
    try:
        missing = [k for k in ("privdrop", "landlock", "seccomp", "ipcns", "mountns") if not sb.active_layers()[k]]
        if missing:
            pytest.skip(f"host lacks sandbox layers {missing}; containment cannot be asserted")
        codes = []
        for h in HOSTILE:  # each hostile script is followed by a benign one
            codes += [h.code.replace("@TMP@", str(outside)), BENIGN]
        started = time.monotonic()
        rendered = sb.render_many(codes)
        elapsed = time.monotonic() - started
        results = {h.id: rendered[2 * i] for i, h in enumerate(HOSTILE)}
        after_each = {h.id: rendered[2 * i + 1] for i, h in enumerate(HOSTILE)}
        leftovers_alive = nobody_processes()
        ipc_left = _host_ipc_leftovers()
        after = sb.render(BENIGN)
    finally:
        sb.close()
        libc.syscall(66, host_sem, 0, 0)  # semctl IPC_RMID
        del os.environ["SCIGEN_FAKE_SECRET"]
    yield {"results": results, "after_each": after_each, "reference": reference, "outside": outside, "elapsed": elapsed,
           "alive": leftovers_alive, "after": after, "ipc_left": ipc_left}
    shutil.rmtree(outside)


def test_battery_is_large_enough():
    assert len(HOSTILE) >= 60 and len({h.id for h in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize("case", HOSTILE, ids=lambda h: h.id)
def test_hostile_script_is_contained(battery, case):
    res = battery["results"][case.id]
    assert res.status in STATUSES and res.status in case.statuses, (res.status, res.error, res.log[-500:])
    assert any(r in res.error + res.log for r in case.reason), (res.error, res.log[-500:])
    everything = res.error + res.log + " ".join(res.text_labels) + repr(res.png)
    assert SECRET not in everything and "root:" not in everything
    assert "forged" not in res.text_labels
    if case.id != "leak_source":
        assert LEAK_MARK not in everything and "earlier job leaked" not in everything
    if case.leftover:
        assert not (battery["outside"] / case.leftover).exists()
    benign = battery["after_each"][case.id]  # the pool is correct after it: same bytes as an unisolated run
    assert benign.status == "ok" and benign.png == battery["reference"], (benign.status, benign.error)


def test_battery_left_host_intact(battery):
    outside = battery["outside"]
    assert (outside / "cache" / "model.bin").read_bytes() == b"weights"
    assert not Path("/tmp/scigen-sandbox-pwned").exists()
    assert sorted(p.name for p in outside.iterdir()) == ["cache", "secret.txt"]
    assert battery["alive"] == []  # every job's process group is gone
    assert battery["ipc_left"] == []  # no System V or POSIX IPC object outlived its job
    assert battery["elapsed"] < 150


def test_pool_renders_correctly_after_battery(battery):
    res = battery["after"]
    assert res.status == "ok" and res.png == battery["reference"] and "Projectile path" in res.text_labels


def test_one_job_cannot_use_up_another_jobs_threads():
    """Process limits are per uid and each worker's jobs have their own uid: a job holding
    nearly all of its thread budget leaves a concurrent job on the other worker its own."""
    hog = ("import threading, time\nstop = threading.Event()\nthreads = []\nwhile True:\n    try:\n"
           "        t = threading.Thread(target=stop.wait, daemon=True)\n        t.start()\n        threads.append(t)\n"
           "    except RuntimeError:\n        break\nprint('hog holds', len(threads), 'threads', flush=True)\ntime.sleep(2.5)\n"
           "stop.set()\n" + PLOT)
    needs = ("import threading, time\ntime.sleep(0.8)\nthreads = [threading.Thread(target=time.sleep, args=(0.2,)) for _ in range(16)]\n"
             "for t in threads:\n    t.start()\nfor t in threads:\n    t.join()\n" + PLOT)
    with SandboxResource(timeout_s=8, workers=2) as sb:
        hogged, neighbour = sb.render_many([hog, needs])
    assert hogged.status == "ok" and "hog holds" in hogged.log, (hogged.error, hogged.log)
    assert int(hogged.log.split("hog holds")[1].split()[0]) >= 16  # it really did hold most of the budget
    assert neighbour.status == "ok", (neighbour.error, neighbour.log)


def test_leak_probe_finds_a_marker_that_is_in_memory():
    """The probe can fail: with the marker really in the job's memory it reports the leak."""
    with SandboxResource(timeout_s=8, workers=1) as sb:
        res = sb.render(f"held = {LEAK_MARK!r}\n" + _leak_probe())
    assert res.status == "ok" and "earlier job leaked" in res.log, (res.error, res.log)
