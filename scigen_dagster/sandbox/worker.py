"""Warm sandbox worker for untrusted matplotlib scripts.

Started by :mod:`scigen_dagster.resources.sandbox` as ``python -I <this file>``.
``-I`` drops cwd/PYTHONPATH from ``sys.path``, so this module must not import
the package; it only needs the stdlib, numpy, matplotlib and Pillow.

The worker pays the matplotlib import and first-render costs once, then forks
one child per job. The child locks itself down (see ``CHILD_LAYERS``) before it runs
the script, so the worker itself never executes untrusted code.

Protocol over stdin/stdout, frames are a big-endian u64 length + payload:
  client -> worker: config JSON, then one ``{"code": str}`` JSON per job
  worker -> client: ready JSON ``{"layers", "reasons", "error"}``, then per job
                    a result JSON frame followed by a PNG frame (may be empty)
"""

from __future__ import annotations

import ctypes
import errno
import functools
import gc
import io
import json
import linecache
import os
import resource
import select
import signal
import socket
import stat
import struct
import sys
import sysconfig
import tempfile
import time
import traceback

SCRIPT = "<script>"
FIGURE = "figure.png"
MAX_PIXELS = 40_000_000  # canvas the child's Agg may allocate
# What the trusted side decodes to inspect a returned PNG: about 4 bytes a
# pixel, so 16 MP stays under 100 MB however small the compressed file is.
PIXEL_BUDGET = 16_000_000
# Jobs run as JOB_UID_BASE + the worker's pid: a uid no host account has and
# no other live worker shares, so RLIMIT_NPROC (counted per uid) is one
# worker's alone and one job's threads cannot starve a concurrent job.
JOB_UID_BASE = 1_000_000_000
_MB = 1024 * 1024
_REPORT_CAP = 4 * _MB  # the child's report is untrusted: bound what we buffer
_LABEL_CAP = 500

# Per-child layers, in the order they are applied: namespaces and rlimits need
# privileges that privdrop removes, and seccomp comes last so the setup code
# itself is not filtered. "mountns" is applied once, to the whole worker.
# "ipcns" gives each job its own System V / POSIX message-queue namespace,
# destroyed (with every object in it) when the job's last process ends.
CHILD_LAYERS = ("netns", "ipcns", "rlimits", "privdrop", "landlock", "seccomp")
LAYERS = ("mountns",) + CHILD_LAYERS

_libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWIPC = 0x00020000, 0x10000000, 0x40000000, 0x08000000
CLONE_THREAD = 0x00010000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x1000, 0x2000, 0x4000, 0x40000
MNT_DETACH, AT_RECURSIVE = 0x2, 0x8000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID = 0x1, 0x2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS = 1, 4, 22, 38
SYS_MOUNT_SETATTR = 442  # same number on every architecture (new syscall table)
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446


class ZygoteLost(RuntimeError):
    """The zygote ended or fell out of step with the worker: the worker must be replaced."""


class OversizedFigure(Exception):
    """Raised inside the child before Agg allocates a canvas above MAX_PIXELS."""


def _c_check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def _syscall(nr: int, *args) -> int:
    # Wrap ints explicitly: ctypes would otherwise pass them as 32-bit C ints.
    return _libc.syscall(ctypes.c_long(nr), *(ctypes.c_long(a) if isinstance(a, int) else a for a in args))


# --------------------------------------------------------------------- framing
def read_frame(fd: int) -> bytes | None:
    """Blocking read of one frame; None on a clean EOF before the header."""
    head = _read_exact(fd, 8)
    if head is None:
        return None
    body = _read_exact(fd, struct.unpack(">Q", head)[0])
    if body is None:
        raise EOFError("truncated frame")
    return body


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, _MB))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def write_frame(fd: int, payload: bytes) -> None:
    write_frame_raw(fd, struct.pack(">Q", len(payload)) + payload)


def write_frame_raw(fd: int, payload: bytes) -> None:
    data = memoryview(payload)
    while data:
        data = data[os.write(fd, data):]


# ------------------------------------------------------------ host-level setup
def _enter_user_namespace() -> None:
    """Unprivileged fallback: become root of a fresh user namespace so that
    network/mount namespaces can still be created (rootless-container style)."""
    uid, gid = os.geteuid(), os.getegid()
    _c_check(_libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)


def _mount(src: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _c_check(_libc.mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def _mount_setattr(path: str, flags: int, attr_set: int, attr_clr: int) -> None:
    attr = struct.pack("=QQQQ", attr_set, attr_clr, 0, 0)  # struct mount_attr
    _c_check(_syscall(SYS_MOUNT_SETATTR, -100, path.encode(), flags, attr, len(attr)), f"mount_setattr {path}")


def _bind(src: str, target: str) -> None:
    """Bind `src` (a folder or a file) at `target`, creating the mount point."""
    if os.path.isdir(src):
        os.makedirs(target, 0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), 0o755, exist_ok=True)
        if not os.path.exists(target):
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644))
    _mount(src, target, None, MS_BIND | MS_REC, None)


def _replicate_links(path: str, root: str, depth: int = 0) -> str:
    """Recreate under `root` each symlink on the way to `path` (/lib -> usr/lib,
    a .venv link), so the path resolves there as on the host; returns the
    path with every link resolved, which is what gets bound."""
    if depth > 20:
        raise OSError(errno.ELOOP, f"too many links resolving {path}")
    cur = "/"
    for part in path.strip("/").split("/"):
        nxt = os.path.join(cur, part)
        if os.path.islink(nxt):
            target = os.readlink(nxt)
            if not os.path.lexists(root + nxt):
                os.makedirs(root + cur, 0o755, exist_ok=True)
                os.symlink(target, root + nxt)
            cur = _replicate_links(os.path.normpath(os.path.join(cur, target)), root, depth + 1)
        else:
            cur = nxt
    return cur


def _topmost(real: list[str]) -> list[str]:
    """The paths not inside another one of them (binding those covers the rest)."""
    real = sorted(set(real))
    out: list[str] = []
    for path in real:
        if not any(path == top or path.startswith(top.rstrip("/") + "/") for top in out):
            out.append(path)
    return out


def _enter_mount_namespace(base: str, read_dirs: list[str], read_files: list[str], job_uid: int) -> None:
    """Private mount namespace for the worker, its zygote and all jobs, whose
    root is a fresh tmpfs holding only what rendering needs: Python,
    site-packages, shared libraries, fonts, time-zone data, /proc (for a
    job's own /proc/self; Landlock keeps it from the rest), a passwd file
    naming the job's uid, and under `base` the per-job scratch mount points.
    Host paths outside that list do not exist there, not even for stat().
    Everything is read-only except `base`, where each job gets its own
    size- and inode-capped tmpfs (see Job)."""
    _c_check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)
    root = base  # the host folder the pool made for this worker becomes our /
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=2m,nr_inodes=4096,mode=0755")
    extra = [p for p in ("/etc/localtime",) if os.path.exists(p)]  # a link into zoneinfo
    for path in _topmost([_replicate_links(p, root) for p in read_dirs]):
        _bind(path, root + path)
    for path in (_replicate_links(p, root) for p in read_files + extra):
        if not os.path.exists(root + path):
            _bind(path, root + path)
    _bind("/proc", root + "/proc")
    os.makedirs(root + "/etc", 0o755, exist_ok=True)
    for name, text in (("passwd", f"root:x:0:0:root:/:/usr/sbin/nologin\nsandbox:x:{job_uid}:{job_uid}:sandbox job:/nonexistent:/usr/sbin/nologin\n"),
                       ("group", f"root:x:0:\nsandbox:x:{job_uid}:\n")):
        with open(f"{root}/etc/{name}", "w") as fh:
            fh.write(text)
    jobs = root + base  # same path inside as outside: scratch paths mean the same in both
    os.makedirs(jobs, 0o711, exist_ok=True)
    _mount("tmpfs", jobs, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,nr_inodes=1024,mode=0711")
    old = root + "/.oldroot"
    os.mkdir(old, 0o700)
    SYS_PIVOT_ROOT = 155
    _c_check(_syscall(SYS_PIVOT_ROOT, root.encode(), old.encode()), "pivot_root")
    os.chdir("/")
    _c_check(_libc.umount2(b"/.oldroot", MNT_DETACH), "umount old root")
    os.rmdir("/.oldroot")
    _mount_setattr("/", AT_RECURSIVE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0)
    _mount_setattr(base, 0, 0, MOUNT_ATTR_RDONLY)


# -------------------------------------------------------------- child layers
def _read_only_paths() -> tuple[list[str], list[str]]:
    """What a rendering child may read: Python, site-packages, shared
    libraries, fonts (whole font folders, so fonts can be found by name) and
    time-zone data. Notably absent: the rest of /etc, /home, /root, /tmp, the
    rest of /proc, the repo."""
    import matplotlib
    from matplotlib import font_manager

    paths = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths.add(matplotlib.get_data_path())
    paths.update(os.path.dirname(f.fname) for f in font_manager.fontManager.ttflist + font_manager.fontManager.afmlist)
    paths.update(("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib"))
    paths.update(("/usr/share/fonts", "/usr/local/share/fonts", "/usr/share/zoneinfo"))
    dirs = sorted(p for p in paths if os.path.isdir(p))
    files = [p for p in ("/etc/ld.so.cache", "/dev/null", "/dev/urandom", "/dev/random", "/dev/zero") if os.path.exists(p)]
    return dirs, files


# Landlock access rights (include/uapi/linux/landlock.h)
LL_EXECUTE, LL_WRITE_FILE, LL_READ_FILE, LL_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
LL_MAKE_CHAR, LL_MAKE_SOCK, LL_MAKE_BLOCK = 1 << 6, 1 << 9, 1 << 11
LL_REFER, LL_TRUNCATE, LL_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
LL_FILE_RIGHTS = LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV


def _landlock_ruleset(scratch: str, read_dirs: list[str], read_files: list[str]) -> int:
    """Build (not yet enforce) a ruleset: read-only Python/fonts/libs, full
    access to the scratch folder only, no TCP, and (ABI >= 6) no signals or
    abstract sockets towards processes outside this child."""
    abi = _c_check(_syscall(SYS_LANDLOCK_CREATE_RULESET, None, 0, 1), "landlock_create_ruleset(version)")
    fs = (1 << 13) - 1
    fs |= (LL_REFER if abi >= 2 else 0) | (LL_TRUNCATE if abi >= 3 else 0) | (LL_IOCTL_DEV if abi >= 5 else 0)
    net = 0b11 if abi >= 4 else 0  # BIND_TCP | CONNECT_TCP
    scoped = 0b11 if abi >= 6 else 0  # ABSTRACT_UNIX_SOCKET | SIGNAL
    attr = struct.pack("=QQQ", fs, net, scoped)[: 8 if abi < 4 else 16 if abi < 6 else 24]
    ruleset = _c_check(_syscall(SYS_LANDLOCK_CREATE_RULESET, attr, len(attr), 0), "landlock_create_ruleset")
    rules = [(p, LL_READ_FILE | LL_READ_DIR) for p in read_dirs]
    rules += [(p, LL_READ_FILE) for p in read_files]
    # the generated passwd/group (getpass, pwd) and the local time zone, where the minimal root has them
    rules += [(p, LL_READ_FILE) for p in ("/etc/passwd", "/etc/group", "/etc/localtime") if os.path.exists(p)]
    # the job's own /proc/<pid> (threadpoolctl, psutil-style self-inspection); not other processes'
    rules += [(f"/proc/{os.getpid()}", LL_READ_FILE | LL_READ_DIR)]
    rules += [("/dev/null", LL_READ_FILE | LL_WRITE_FILE)]
    rules += [(scratch, fs & ~(LL_EXECUTE | LL_MAKE_CHAR | LL_MAKE_BLOCK | LL_MAKE_SOCK))]
    for path, access in rules:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        try:
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                access &= LL_FILE_RIGHTS
            rule = struct.pack("=Qi", access & fs, fd)  # landlock_path_beneath_attr (packed)
            _c_check(_syscall(SYS_LANDLOCK_ADD_RULE, ruleset, 1, rule, 0), f"landlock_add_rule {path}")
        finally:
            os.close(fd)
    return ruleset


# x86_64 syscall numbers. Other architectures report the seccomp layer as
# unavailable rather than guess at an untested table.
AUDIT_ARCH_X86_64 = 0xC000003E
NR = dict(
    clone=56, clone3=435, kill=62, tgkill=234, prlimit64=302, prctl=157,
    deny=[
        41, 42, 43, 49, 50, 53, 288,  # socket connect accept bind listen socketpair accept4
        57, 58, 59, 322,  # fork vfork execve execveat
        101, 310, 311, 312, 438,  # ptrace process_vm_readv/writev kcmp pidfd_getfd
        200, 129, 297, 424, 434,  # tkill rt_sigqueueinfo rt_tgsigqueueinfo pidfd_send_signal pidfd_open
        141, 142, 144, 203, 251, 314, 256, 279,  # setpriority sched_* ioprio_set migrate/move_pages
        155, 161, 165, 166, 272, 308, 442,  # pivot_root chroot mount umount2 unshare setns mount_setattr
        428, 429, 430, 431, 432, 433,  # open_tree move_mount fsopen fsconfig fsmount fspick
        160, 167, 168, 169, 175, 176, 246, 313, 320,  # setrlimit swap reboot modules kexec
        248, 249, 250, 298, 321, 323,  # add_key request_key keyctl perf_event_open bpf userfaultfd
        303, 304, 425, 426, 427,  # name_to_handle_at open_by_handle_at io_uring_*
        # memory no rlimit counts: memfd, System V shared memory and queues, xattrs on tmpfs
        319, 447, 29, 68, 188, 189, 190, 463,  # memfd_create memfd_secret shmget msgget setxattr lsetxattr fsetxattr setxattrat
        # watching the host: inotify and fanotify
        253, 254, 294, 300, 301,  # inotify_init inotify_add_watch inotify_init1 fanotify_init fanotify_mark
    ],
    fcntl=72, F_SETPIPE_SZ=1031,
)


def _seccomp_program(pid: int) -> bytes:
    """Classic-BPF deny-list. Denied calls fail with EPERM (a readable Python
    PermissionError) instead of killing the child. `pid` pins the calls that
    take a target process to the child itself."""
    LD, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06
    ALLOW, KILL = 0x7FFF0000, 0x80000000
    EPERM, ENOSYS = 0x00050000 | errno.EPERM, 0x00050000 | errno.ENOSYS
    ARG0 = 16  # offsetof(seccomp_data, args[0]); its low 32 bits on little-endian
    prog = [(LD, 0, 0, 4), (JEQ, 1, 0, AUDIT_ARCH_X86_64), (RET, 0, 0, KILL), (LD, 0, 0, 0)]
    prog += [(JGE, 0, 1, 0x40000000), (RET, 0, 0, ENOSYS)]  # x32 ABI aliases would dodge the list
    for nr in NR["deny"]:
        prog += [(JEQ, 0, 1, nr), (RET, 0, 0, EPERM)]
    # glibc falls back from clone3 (whose flags BPF cannot inspect) to clone on ENOSYS
    prog += [(JEQ, 0, 1, NR["clone3"]), (RET, 0, 0, ENOSYS)]
    # threads are fine, new processes are not
    prog += [(JEQ, 0, 4, NR["clone"]), (LD, 0, 0, ARG0), (JSET, 1, 0, CLONE_THREAD), (RET, 0, 0, EPERM), (RET, 0, 0, ALLOW)]

    def allow_if(nr: int, offset: int, values: list[int]) -> list[tuple]:
        n = len(values)
        block = [(JEQ, 0, n + 3, nr), (LD, 0, 0, offset)]
        block += [(JEQ, n - i, 0, v & 0xFFFFFFFF) for i, v in enumerate(values)]
        return block + [(RET, 0, 0, EPERM), (RET, 0, 0, ALLOW)]

    prog += allow_if(NR["kill"], ARG0, [0, pid, -pid])  # own process group only
    prog += allow_if(NR["tgkill"], ARG0, [pid])
    prog += allow_if(NR["prlimit64"], ARG0, [0, pid])  # no poking at sibling jobs
    # pipe buffers are kernel memory too: keep each at its default 64 KB
    ARG1 = ARG0 + 8
    prog += [(JEQ, 0, 4, NR["fcntl"]), (LD, 0, 0, ARG1), (JEQ, 0, 1, NR["F_SETPIPE_SZ"]), (RET, 0, 0, EPERM), (RET, 0, 0, ALLOW)]
    # keep the parent-death signal armed, so the child cannot outlive its worker
    prog += [(JEQ, 0, 4, NR["prctl"]), (LD, 0, 0, ARG0), (JEQ, 0, 1, PR_SET_PDEATHSIG), (RET, 0, 0, EPERM), (RET, 0, 0, ALLOW)]
    prog.append((RET, 0, 0, ALLOW))
    return b"".join(struct.pack("=HBBI", *ins) for ins in prog)


def _install_seccomp(pid: int) -> None:
    if os.uname().machine != "x86_64":
        raise OSError(errno.ENOSYS, f"no syscall table for {os.uname().machine}")
    code = _seccomp_program(pid)
    buf = ctypes.create_string_buffer(code)

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(code) // 8, ctypes.addressof(buf))
    _c_check(_libc.prctl(PR_SET_SECCOMP, 2, ctypes.byref(fprog), 0, 0), "prctl(PR_SET_SECCOMP)")


class Lockdown:
    """Applies the per-child layers. In probe mode every layer is attempted
    and failures are recorded; in job mode the first failure aborts the job,
    so a script never runs with less protection than was advertised."""

    def __init__(self, cfg: dict, worker_root: bool, read_dirs: list[str], read_files: list[str], job_uid: int):
        self.cfg = cfg
        self.worker_root = worker_root  # real root (setuid) vs user-namespace root
        self.job_uid = job_uid  # one per worker: process limits are per uid
        self.read_dirs, self.read_files = read_dirs, read_files

    def apply(self, scratch: str, layers: tuple[str, ...], probe: bool) -> dict[str, str]:
        failures: dict[str, str] = {}

        def attempt(layer: str, step) -> object:
            try:
                return step()
            except (OSError, ValueError) as exc:
                if not probe:
                    raise RuntimeError(f"sandbox layer {layer!r} failed: {exc}") from exc
                failures[layer] = str(exc)
                return None

        # Landlock rules are opened while we can still traverse every path.
        ruleset = attempt("landlock", lambda: _landlock_ruleset(scratch, self.read_dirs, self.read_files)) if "landlock" in layers else None
        steps = {
            "netns": lambda: _c_check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)"),
            "ipcns": lambda: _c_check(_libc.unshare(CLONE_NEWIPC), "unshare(CLONE_NEWIPC)"),
            "rlimits": self._rlimits,
            "privdrop": self._drop_privileges,
            "landlock": lambda: ruleset is not None and _c_check(_syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self"),
            "seccomp": lambda: _install_seccomp(os.getpid()),
        }
        for layer in layers:
            if layer not in failures:
                attempt(layer, steps[layer])
        return failures

    def _rlimits(self) -> None:
        c = self.cfg
        limits = {
            resource.RLIMIT_CPU: (c["cpu_s"], c["cpu_s"] + 1),  # SIGXCPU first, SIGKILL a second later
            resource.RLIMIT_AS: (c["memory_mb"] * _MB,) * 2,
            resource.RLIMIT_FSIZE: (c["max_output_mb"] * _MB,) * 2,
            resource.RLIMIT_NPROC: (32, 32),  # caps threads; only enforced for non-root uids
            resource.RLIMIT_NOFILE: (128, 128),
            resource.RLIMIT_CORE: (0, 0),
        }
        for res, lim in limits.items():
            resource.setrlimit(res, lim)

    def _drop_privileges(self) -> None:
        if self.worker_root:
            os.setgroups([])
            os.setgid(self.job_uid)
            os.setuid(self.job_uid)
            _arm_parent_death_signal()  # credential changes clear it
            unreachable = [d for d in self.read_dirs if not os.access(d, os.R_OK | os.X_OK)]
            if unreachable:  # later imports would fail; report instead of half-working
                raise PermissionError(errno.EACCES, f"uid {self.job_uid} cannot read {unreachable} (needs the mountns layer)")
        else:
            # A nested user namespace leaves us with no capabilities over the
            # namespaces (and mounts) the worker owns.
            _c_check(_libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")


# ------------------------------------------------------------ in-child render
_TEXT_STATE: dict | None = None


def _instrument_matplotlib() -> dict:
    """Record which Text artists each figure draw actually renders (and where),
    and refuse absurd canvases before Agg tries to allocate them.

    Installed once, in the worker before its warm-up, and inherited by every
    job: patching classes in each child would invalidate the type caches and
    specialised bytecode that the warm-up built for Figure, Text, Tick and
    RendererAgg. Each job starts from a reset state (see _run_script)."""
    global _TEXT_STATE
    if _TEXT_STATE is not None:
        return _TEXT_STATE
    from matplotlib import axis, figure, text
    from matplotlib.backends import backend_agg

    state: dict = {"texts": [], "in_tick": False, "capture": None, "layout": None}
    orig_fig_draw, orig_text_draw, orig_tick_draw = figure.Figure.draw, text.Text.draw, axis.Tick.draw
    orig_get_layout = text.Text._get_layout
    orig_renderer_init = backend_agg.RendererAgg.__init__

    @functools.wraps(orig_fig_draw)
    def fig_draw(self, renderer):
        state["texts"] = []  # the last draw of the last drawn figure wins
        return orig_fig_draw(self, renderer)

    @functools.wraps(orig_tick_draw)
    def tick_draw(self, renderer):
        state["in_tick"] = True
        try:
            return orig_tick_draw(self, renderer)
        finally:
            state["in_tick"] = False

    @functools.wraps(orig_get_layout)
    def get_layout(self, renderer):
        layout = orig_get_layout(self, renderer)
        if state["capture"] is self:
            state["layout"] = (renderer, layout)
        return layout

    @functools.wraps(orig_text_draw)
    def text_draw(self, renderer):
        outer = state["capture"], state["layout"]
        state["capture"], state["layout"] = self, None
        try:
            orig_text_draw(self, renderer)
            captured = state["layout"]
        finally:
            state["capture"], state["layout"] = outer
        if self.get_visible() and self.get_text().strip():
            if captured is not None and captured[0] is renderer:
                # What Text.get_window_extent(renderer) computes, reusing the
                # layout the draw just made (Annotation's override would add
                # the arrow); it also spares get_window_extent's dpi round
                # trip, which invalidates every transform of the figure.
                x, y = self.get_transform().transform(self.get_unitless_position())
                ext = captured[1][0].translated(x, y)
            else:
                ext = text.Text.get_window_extent(self, renderer)
            state["texts"].append((self.get_text(), ext.bounds, state["in_tick"]))

    def renderer_init(self, width, height, dpi):
        if width * height > MAX_PIXELS:
            raise OversizedFigure(f"canvas {int(width)}x{int(height)} px exceeds {MAX_PIXELS // 1_000_000} MP")
        orig_renderer_init(self, width, height, dpi)

    figure.Figure.draw, axis.Tick.draw, text.Text.draw = fig_draw, tick_draw, text_draw
    text.Text._get_layout = get_layout
    backend_agg.RendererAgg.__init__ = renderer_init
    _TEXT_STATE = state
    return state


def _join_script_threads() -> None:
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()


def _text_metrics(texts: list) -> tuple[list[str], int]:
    """Non-tick strings, plus pairs of drawn texts (ticks included, since
    crowded tick labels hurt readability too) whose extents intersect."""
    import numpy as np

    labels = [s[:200] for s, _, is_tick in texts if not is_tick][:_LABEL_CAP]
    boxes = np.array([b for _, b, _ in texts[:2000]], dtype=float).reshape(-1, 4)  # x0, y0, w, h
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 0] + boxes[:, 2], boxes[:, 1] + boxes[:, 3]
    ix = np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :])
    iy = np.minimum(y1[:, None], y1[None, :]) - np.maximum(y0[:, None], y0[None, :])
    return labels, int(np.triu((ix > 0) & (iy > 0), 1).sum())


def _raised_in_multiprocessing(exc: BaseException) -> bool:
    """Whether the exception came from multiprocessing (or a process pool on
    top of it), whose failures here would otherwise read as a missing
    /dev/shm or a denied fork."""
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename.replace("\\", "/")
        if "/multiprocessing/" in name or name.endswith("/concurrent/futures/process.py"):
            return True
        tb = tb.tb_next
    return False


def _adopt_single_png() -> None:
    """A script that saved exactly one PNG under another name: that is the figure."""
    try:
        pngs = [e.name for e in os.scandir(".") if e.name.lower().endswith(".png") and e.is_file(follow_symlinks=False)]
    except OSError:
        return
    if len(pngs) == 1:
        os.rename(pngs[0], FIGURE)


def _describe(exc: BaseException, cfg: dict) -> str:
    """'line N: Type: message-tail', N being the innermost script frame."""
    lineno = exc.lineno if isinstance(exc, SyntaxError) and exc.filename == SCRIPT else None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SCRIPT:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    try:
        detail = str(exc)
    except Exception:  # a hostile __str__ must not break the report
        detail = ""
    msg = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    if _raised_in_multiprocessing(exc):
        msg = ("multiprocessing is not available in the sandbox (a job cannot start processes or use shared "
               f"semaphores); do the work in the script's own process [{msg}]")
    elif isinstance(exc, MemoryError):
        msg += f" (memory limit {cfg['memory_mb']} MB)"
    elif isinstance(exc, PermissionError):
        msg += " (denied by sandbox)"
    elif isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        msg += f" (file size limit {cfg['max_output_mb']} MB)"
    msg = msg if len(msg) <= 400 else "..." + msg[-400:]
    return f"line {lineno}: {msg}" if lineno else msg


def _run_script(code: str, cfg: dict) -> dict:
    import matplotlib.pyplot as plt

    state = _instrument_matplotlib()
    state.update(texts=[], in_tick=False, capture=None, layout=None)  # nothing from the warm-up
    linecache.cache[SCRIPT] = (len(code), None, code.splitlines(True), SCRIPT)  # source lines in tracebacks
    status, error = "ok", ""
    try:
        try:
            exec(compile(code, SCRIPT, "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        except SystemExit as exc:
            if exc.code not in (None, 0):
                raise
        _join_script_threads()  # like interpreter shutdown, before judging the result
        if not os.path.lexists(FIGURE):
            _adopt_single_png()
        if not os.path.lexists(FIGURE):
            if not plt.get_fignums():
                return {"status": "error", "error": f"script saved no {FIGURE} and left no figure open"}
            plt.gcf().savefig(FIGURE, dpi=100, bbox_inches="tight")
    except BaseException as exc:  # noqa: BLE001 - anything the script raises is a result
        try:
            traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next or exc.__traceback__)  # skip our exec frame
        except Exception:  # noqa: BLE001 - the script may have closed stderr; the report still goes out
            pass
        oversized = isinstance(exc, OversizedFigure) or (isinstance(exc, OSError) and exc.errno == errno.EFBIG)
        status, error = ("oversized" if oversized else "error"), _describe(exc, cfg)
    labels, overlaps = _text_metrics(state["texts"]) if status == "ok" else ([], 0)
    return {"status": status, "error": error, "text_labels": labels, "overlapping_text_pairs": overlaps}


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, _MB):
        chunks.append(chunk)
    return b"".join(chunks)


def _child_main(spec: dict, fds: list[int], lockdown: Lockdown, devnull: int) -> None:
    """Runs in a child of the zygote; never returns. `fds` are the job's log
    and report pipes (write ends) and the pipe its code arrives on: the code
    reaches this process only after the fork, so no job ever shares memory
    with another job's code, output or drawn text."""
    exit_code = 0
    try:
        log_w, report_w, code_r = fds
        os.dup2(devnull, 0)
        os.dup2(log_w, 1)
        os.dup2(log_w, 2)
        os.close(log_w)
        os.setsid()  # own process group: the worker can kill everything at once
        _arm_parent_death_signal()  # a dying zygote (and so a dying worker) takes its running job with it
        _c_check(_libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl(PR_SET_DUMPABLE)")  # no ptrace, root-owned /proc entries
        # Needed by landlock/seccomp without CAP_SYS_ADMIN; setuid() still works after it.
        _c_check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
        scratch = spec["scratch"]
        os.chdir(scratch)
        os.environ.clear()
        tempfile.tempdir = scratch
        sys.argv = ["script.py"]
        sys.stdout.reconfigure(line_buffering=True)
        code = _read_all(code_r).decode("utf-8", "surrogatepass")
        os.close(code_r)
        try:
            failures = lockdown.apply(scratch, tuple(spec["layers"]), spec["probe"])
            if os.getppid() != spec["parent"]:
                raise RuntimeError("zygote exited during setup")
        except RuntimeError as exc:
            report = {"status": "killed", "error": f"{exc}; refusing to run unprotected"}
        else:
            report = _run_script(code, lockdown.cfg)
            report["failures"] = failures
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - the script may have closed or replaced it
                pass
        data = (json.dumps(report) + "\n").encode()
        while data:
            data = data[os.write(report_w, data):]
    except BaseException:  # noqa: BLE001 - last resort, the worker reports a missing report
        exit_code = 70
    os._exit(exit_code)


# --------------------------------------------------------------- the zygote
class Zygote:
    """A process forked from the warm worker before it handled any job, and
    the parent of every job. It never sees a job's code or results: it gets
    only the scratch path, the layers and the job's pipe ends (over a unix
    socket, SCM_RIGHTS), forks, hands back the child's pid and pidfd, then
    reports its wait status. The worker keeps all job data to itself."""

    def __init__(self, worker: "Worker"):
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        worker_pid = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                self.sock.close()
                for fd in (worker.proto_in, worker.proto_out):
                    os.close(fd)
                os.dup2(worker.devnull, 0)  # fd 0 was the protocol's stdin
                _arm_parent_death_signal()
                if os.getppid() != worker_pid:
                    os._exit(0)
                _zygote_loop(theirs, worker.lockdown, worker.devnull)
            finally:
                os._exit(1)
        theirs.close()
        self.pid = pid

    def spawn(self, scratch: str, layers: tuple[str, ...], probe: bool, fds: list[int]) -> tuple[int, int]:
        """Start a job child; returns its pid and a pidfd for it."""
        spec = {"scratch": scratch, "layers": list(layers), "probe": probe}
        socket.send_fds(self.sock, [json.dumps(spec).encode()], fds)
        msg, got, _, _ = socket.recv_fds(self.sock, 4096, 1)
        if not msg or len(got) != 1:
            for fd in got:
                os.close(fd)
            raise ZygoteLost(f"sandbox zygote failed to start the job ({msg[:200]!r})")
        return json.loads(msg)["pid"], got[0]

    def wait_status(self, pid: int, timeout_s: float) -> int | None:
        """The wait status of job `pid`, once it has ended (reports of
        earlier jobs that were given up on are skipped)."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                msg = self.sock.recv(4096)
            except TimeoutError:
                return None
            finally:
                self.sock.settimeout(None)
            if not msg:
                raise ZygoteLost("sandbox zygote exited")
            rep = json.loads(msg)
            if rep["pid"] == pid:
                return int(rep["status"])
        return None

    def stop(self) -> None:
        self.sock.close()  # EOF: the zygote exits
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def _zygote_loop(sock: socket.socket, lockdown: Lockdown, devnull: int) -> None:
    me = os.getpid()
    while True:
        msg, fds, _, _ = socket.recv_fds(sock, 65536, 3)
        if not msg:
            os._exit(0)
        spec = json.loads(msg) | {"parent": me}
        pid = os.fork()
        if pid == 0:
            sock.close()
            _child_main(spec, fds, lockdown, devnull)
        pidfd = os.pidfd_open(pid)  # before the child can be reaped: it names this very process
        for fd in fds:
            os.close(fd)
        socket.send_fds(sock, [json.dumps({"pid": pid}).encode()], [pidfd])
        os.close(pidfd)
        status = os.waitpid(pid, 0)[1]
        _kill_group(pid)  # anything left in its process group (the group outlives its reaped leader only while used)
        sock.send(json.dumps({"pid": pid, "status": status}).encode())


# ------------------------------------------------------------------- the job
class Job:
    """One fork: scratch folder, pipes, supervision and result inspection."""

    counter = 0

    def __init__(self, worker: "Worker"):
        Job.counter += 1
        self.worker = worker
        self.scratch = os.path.join(worker.base, f"job{Job.counter}")
        os.mkdir(self.scratch, 0o700)
        if worker.mounted:
            size_kb = 4 * worker.cfg["max_output_mb"] * 1024  # bounds total disk use, not just one file
            owner = worker.job_uid if worker.root else 0
            _mount("tmpfs", self.scratch, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   f"size={size_kb}k,nr_inodes=2048,mode=0700,uid={owner},gid={owner}")
        elif worker.root:
            os.chown(self.scratch, worker.job_uid, worker.job_uid)
        self.log_r, self.log_w = os.pipe2(os.O_CLOEXEC)
        self.report_r, self.report_w = os.pipe2(os.O_CLOEXEC)
        self.code_r, self.code_w = os.pipe2(os.O_CLOEXEC)

    def run(self, code: str, layers: tuple[str, ...], probe: bool = False) -> dict:
        cfg = self.worker.cfg
        started = time.monotonic()
        try:
            pid, pidfd = self.worker.zygote.spawn(self.scratch, layers, probe, [self.log_w, self.report_w, self.code_r])
        except BaseException:
            for fd in (self.code_w, self.log_r, self.report_r):
                os.close(fd)
            raise
        finally:
            for fd in (self.log_w, self.report_w, self.code_r):
                os.close(fd)
        try:
            try:
                write_frame_raw(self.code_w, code.encode("utf-8", "surrogatepass"))
            except BrokenPipeError:
                pass  # the child died before reading it; its status says how
            finally:
                os.close(self.code_w)
            log, report, timed_out, wait_status = self._supervise(pid, pidfd, started + cfg["timeout_s"])
        finally:
            os.close(pidfd)
            os.close(self.log_r)
            os.close(self.report_r)
        result = self._classify(report, timed_out, wait_status)
        result["log"] = log
        result["seconds"] = time.monotonic() - started
        return result

    def _supervise(self, pid: int, pidfd: int, deadline: float) -> tuple[str, bytes, bool, int | None]:
        cap = self.worker.cfg["max_stdout_kb"] * 1024
        log, dropped, report = bytearray(), 0, bytearray()
        poller = select.poll()
        for fd in (self.log_r, self.report_r, pidfd):
            poller.register(fd, select.POLLIN)
        open_pipes, timed_out, wait_status, drain_deadline = {self.log_r, self.report_r}, False, None, 0.0
        try:
            while wait_status is None or open_pipes:
                if wait_status is None:
                    wait_ms = max(0.0, deadline - time.monotonic()) * 1000
                else:
                    # child is gone; pipes held open by a straggler must not hang us
                    wait_ms = max(0.0, drain_deadline - time.monotonic()) * 1000
                events = poller.poll(wait_ms)
                if not events:
                    if wait_status is not None:
                        break
                    if timed_out:
                        raise ZygoteLost("job did not end within 10 s of SIGKILL")
                    timed_out = True
                    _kill_group(pid)
                    deadline = time.monotonic() + 10  # now just waiting to reap it
                for fd, _ in events:
                    if fd == pidfd:
                        poller.unregister(pidfd)
                        wait_status = self.worker.zygote.wait_status(pid, 10.0)  # it reaps, then kills the group
                        if wait_status is None:
                            raise ZygoteLost("sandbox zygote did not report the job's end")
                        drain_deadline = time.monotonic() + 1.0
                        continue
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        poller.unregister(fd)
                        open_pipes.discard(fd)
                    elif fd == self.log_r:
                        log += chunk
                        if len(log) > cap:
                            dropped += len(log) - cap
                            del log[: len(log) - cap]
                    elif len(report) < _REPORT_CAP:
                        report += chunk
        except BaseException:
            _kill_group(pid)
            raise
        text = log.decode("utf-8", "replace")
        if dropped:
            text = f"[sandbox: {dropped} earlier bytes of output dropped]\n" + text
        return text, bytes(report), timed_out, wait_status

    def _classify(self, raw_report: bytes, timed_out: bool, wait_status: int) -> dict:
        cfg = self.worker.cfg
        result = {"status": "error", "error": "", "text_labels": [], "overlapping_text_pairs": 0, "png": b"", "width": 0, "height": 0}
        if timed_out:
            return result | {"status": "timeout", "error": f"wall-clock timeout after {cfg['timeout_s']:g}s; process group killed"}
        if wait_status is None:  # not reaped in time (cannot happen with SIGKILL, but stay total)
            return result | {"status": "killed", "error": "job did not end after SIGKILL"}
        if os.WIFSIGNALED(wait_status):
            num = os.WTERMSIG(wait_status)
            why = {signal.SIGXCPU: f" (CPU limit {cfg['cpu_s']}s)", signal.SIGXFSZ: f" (file size limit {cfg['max_output_mb']} MB)"}
            return result | {"status": "killed", "error": f"killed by {signal_name(num)}{why.get(num, '')}"}
        report = _parse_report(raw_report)
        if report is None:
            code = os.WEXITSTATUS(wait_status)
            return result | {"error": f"script ended the interpreter early (exit code {code}) or corrupted the sandbox report"}
        result.update(report)
        if result["status"] == "ok":
            result.update(_inspect_png(os.path.join(self.scratch, FIGURE), cfg["max_output_mb"] * _MB))
        if result["status"] != "ok":  # whatever the job claimed to have drawn, nothing was accepted
            result.update(text_labels=[], overlapping_text_pairs=0)
        return result

    def cleanup(self) -> None:
        if self.worker.mounted:
            _c_check(_libc.umount2(self.scratch.encode(), MNT_DETACH), "umount scratch")
            os.rmdir(self.scratch)
        else:
            import shutil

            shutil.rmtree(self.scratch, ignore_errors=True)  # fd-based: safe against symlink games


def _arm_parent_death_signal() -> None:
    _c_check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):  # killpg misses a child killed before its setsid()
        try:
            kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def signal_name(num: int) -> str:
    """A name for any signal number, known to this Python or not."""
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def _parse_report(raw: bytes) -> dict | None:
    """The report comes from the child after untrusted code ran in it: accept
    only the expected shape, with bounded sizes. Total: whatever the bytes
    are (deep nesting, huge numbers, odd types), the answer is a report or
    None, never an exception."""
    try:
        return _parse_report_unchecked(raw)
    except Exception:  # noqa: BLE001 - RecursionError, MemoryError-free ValueErrors, TypeErrors...
        return None


def _parse_report_unchecked(raw: bytes) -> dict | None:
    lines = raw.strip().splitlines()
    try:
        rep = json.loads(lines[-1]) if lines else None
    except ValueError:
        return None
    if not isinstance(rep, dict) or rep.get("status") not in ("ok", "error", "oversized", "killed"):
        return None
    labels = rep.get("text_labels", [])
    overlaps = rep.get("overlapping_text_pairs", 0)
    failures = rep.get("failures", {})
    return {
        "status": rep["status"],
        "error": str(rep.get("error", ""))[:2000],
        "text_labels": [s[:200] for s in labels[:_LABEL_CAP] if isinstance(s, str)] if isinstance(labels, list) else [],
        "overlapping_text_pairs": min(max(0, overlaps), 10**6) if type(overlaps) is int else 0,
        "failures": {str(k): str(v)[:500] for k, v in failures.items()} if isinstance(failures, dict) else {},
    }


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _inspect_png(path: str, max_bytes: int, pixel_budget: int = PIXEL_BUDGET) -> dict:
    """Validate the child's output without trusting it: no symlinks/FIFOs,
    size checked before reading, pixel count checked (IHDR, then Pillow's
    decompression limit) before decoding, so a tiny file cannot make the
    trusted side allocate more than about 4 bytes x ``pixel_budget``."""
    from PIL import Image

    try:
        # O_NONBLOCK: a FIFO named figure.png must not block the worker
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return {"status": "error", "error": f"no {FIGURE} was written"}
    except OSError as exc:
        return {"status": "error", "error": f"{FIGURE} is not a regular file ({exc.strerror})"}
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return {"status": "error", "error": f"{FIGURE} is not a regular file"}
    with os.fdopen(fd, "rb") as fh:
        if st.st_size > max_bytes:
            return {"status": "oversized", "error": f"{FIGURE} is {st.st_size / _MB:.1f} MB (limit {max_bytes // _MB} MB)"}
        data = fh.read(max_bytes + 1)
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR" or len(data) < 33:
        return {"status": "error", "error": f"{FIGURE} is not a PNG file"}
    width, height = struct.unpack(">II", data[16:24])
    if width * height > pixel_budget:
        return {"status": "oversized",
                "error": f"{FIGURE} is {width}x{height} px = {width * height / 1e6:.1f} MP, above the inspection budget of "
                         f"{pixel_budget / 1e6:g} MP (save with a smaller figsize or dpi)"}
    Image.MAX_IMAGE_PIXELS = pixel_budget  # also refuses what IHDR does not tell (e.g. an APNG frame)
    try:
        img = Image.open(io.BytesIO(data), formats=["PNG"])
        if img.width * img.height > pixel_budget:
            raise Image.DecompressionBombError("frame above the pixel budget")
        img.load()
        rgba = img if img.mode == "RGBA" else img.convert("RGBA")
    except Image.DecompressionBombError as exc:
        return {"status": "oversized", "error": f"{FIGURE} is above the inspection budget of {pixel_budget / 1e6:g} MP ({exc})"}
    except Exception as exc:  # noqa: BLE001 - any decoder complaint means a bad file
        return {"status": "error", "error": f"{FIGURE} could not be decoded: {exc}"}
    out = {"png": data, "width": width, "height": height}
    blank = _blank_reason(rgba)
    return out | {"status": "blank", "error": blank} if blank else out


# A figure is blank when almost nothing differs from its background colour:
# fewer than _BLANK_MIN_PIXELS and fewer than this share of the pixels. A
# single small marker is more than that, so sparse figures pass.
_BLANK_SHARE = 0.00002
_BLANK_MIN_PIXELS = 16


def _blank_reason(rgba) -> str:
    """Why the image counts as blank ('' if it does not): judged on how many
    pixels differ from the background, not on how uniform it looks."""
    import numpy as np

    pixels = np.asarray(rgba).view(np.uint32).reshape(-1)
    n = pixels.size
    if n == 0:
        return "image has no pixels"
    # the background covers more than half of any blank image, so it is the
    # median pixel value: found in linear time, without counting every colour
    median = np.partition(pixels, n // 2)[n // 2]
    drawn = n - int(np.count_nonzero(pixels == median))
    if drawn >= max(_BLANK_MIN_PIXELS, _BLANK_SHARE * n):
        return ""
    return f"image is near-uniform (only {drawn} of {n} pixels, {100 * drawn / n:.3f}%, differ from the background)"


# ----------------------------------------------------------------- the worker
_PROBE_CODE = """
import threading, matplotlib.pyplot as plt
t = threading.Thread(target=lambda: None); t.start(); t.join()
fig, ax = plt.subplots(figsize=(2, 2)); ax.plot([0, 1], [1, 0]); ax.set_title(r"$\\alpha$ probe")
fig.savefig("figure.png", dpi=50)
"""


class Worker:
    def __init__(self, proto_in: int, proto_out: int, cfg: dict):
        self.proto_in, self.proto_out, self.cfg = proto_in, proto_out, cfg
        self.base = cfg["base_dir"]
        self.devnull = os.open(os.devnull, os.O_RDWR)
        self.root = os.geteuid() == 0
        self.job_uid = JOB_UID_BASE + os.getpid()
        self.reasons: dict[str, str] = {}
        self.broken = ""
        read_dirs, read_files = _read_only_paths()
        self.cgroup_v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")  # before /sys leaves our view
        if not self.root:
            try:
                _enter_user_namespace()
            except OSError as exc:
                self.reasons["userns"] = str(exc)
        self.mounted = False
        try:
            _enter_mount_namespace(self.base, read_dirs, read_files, self.job_uid)
            self.mounted = True
        except OSError as exc:
            self.reasons["mountns"] = str(exc)
        self.lockdown = Lockdown(cfg, self.root, read_dirs, read_files, self.job_uid)
        gc.collect()
        gc.freeze()  # keep the zygote's children from dirtying inherited pages through GC bookkeeping
        self.zygote = Zygote(self)  # before any job: it must never hold one's data
        self.layers = self._probe()

    def _probe(self) -> tuple[str, ...]:
        """Try every child layer once in a throwaway child (with a real
        render), so jobs apply exactly the set that is known to work here."""
        job = Job(self)
        try:
            res = job.run(_PROBE_CODE, CHILD_LAYERS, probe=True)
        finally:
            job.cleanup()
        if res["status"] != "ok":
            raise RuntimeError(f"probe render failed under the sandbox: {res['status']}: {res['error']}\n{res['log']}")
        self.reasons.update(res["failures"])
        return tuple(layer for layer in CHILD_LAYERS if layer not in res["failures"])

    def run_one(self, code: str) -> dict:
        """One job, whatever it does: any failure of the trusted side while
        handling it becomes that job's error result, never the worker's end.
        If the zygote is gone, the worker says so and exits after answering
        (a new zygote cannot be made from a worker that has held job data)."""
        job = None
        try:
            job = Job(self)
            return job.run(code, self.layers)
        except Exception as exc:  # noqa: BLE001 - the worker must outlive any job
            traceback.print_exc()
            why = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, (ZygoteLost, OSError)) or self.zygote_gone():
                self.broken = why = f"sandbox zygote lost ({why}); worker replaced"
            return {"status": "error", "error": f"sandbox could not run the job: {why}"[:2000],
                    "text_labels": [], "overlapping_text_pairs": 0, "png": b"", "width": 0, "height": 0, "log": "", "seconds": 0.0}
        finally:
            if job is not None:
                try:
                    job.cleanup()
                except Exception:  # noqa: BLE001
                    traceback.print_exc()

    def zygote_gone(self) -> bool:
        try:
            return os.waitpid(self.zygote.pid, os.WNOHANG)[0] != 0
        except ChildProcessError:
            return True

    def memory_bounds(self) -> dict[str, str]:
        """What bounds a job's memory here, for the ready message: a cgroup is
        not used (see the note), so these are all there is."""
        seccomp = "seccomp" in self.layers
        bounds = {
            "address_space": f"RLIMIT_AS {self.cfg['memory_mb']} MB" if "rlimits" in self.layers else "none",
            "scratch": f"tmpfs size={4 * self.cfg['max_output_mb']} MB, nr_inodes=2048" if self.mounted else "host folder, no cap",
            "uncounted_memory": "denied by seccomp: memfd_create, memfd_secret, shmget, msgget, setxattr*, F_SETPIPE_SZ"
                                if seccomp else "NOT denied (no seccomp layer)",
            "processes": f"RLIMIT_NPROC 32 for uid {self.job_uid}, this worker's own" if "privdrop" in self.layers else "shared",
        }
        if not self.cgroup_v2:
            bounds["cgroup"] = "not used: the host has no cgroup v2 hierarchy (v1 or hybrid) to delegate"
        else:
            bounds["cgroup"] = "not used: the bounds above are applied instead"
        return bounds

    def ready_message(self) -> dict:
        layers = {name: self.mounted if name == "mountns" else name in self.layers for name in LAYERS}
        return {"layers": layers, "reasons": self.reasons, "error": "", "zygote_pid": self.zygote.pid, "job_uid": self.job_uid,
                "memory": self.memory_bounds()}

    def serve(self) -> None:
        while (frame := read_frame(self.proto_in)) is not None:
            res = self.run_one(json.loads(frame)["code"])
            png = res.pop("png", b"")
            res.pop("failures", None)
            res["worker_exiting"] = bool(self.broken)
            write_frame(self.proto_out, json.dumps(res).encode())
            write_frame(self.proto_out, png)
            if self.broken:
                return
        self.zygote.stop()


def _warm_up(instrument: bool = True) -> None:
    """Import and exercise what typical scripts use, so forked children
    inherit loaded modules, opened fonts, built parsers and specialised
    bytecode instead of redoing that per job. It must not change global state
    (rcParams, RNG, figure numbering), to keep output byte-identical to a
    fresh interpreter."""
    import matplotlib

    matplotlib.use("Agg")
    if instrument:  # first, so the warm-up specialises the patched classes
        _instrument_matplotlib()
    import matplotlib.pyplot as plt
    import mpl_toolkits.mplot3d  # noqa: F401 - solid-geometry scripts
    import numpy as np
    from matplotlib import patches, patheffects
    from PIL import Image, PngImagePlugin  # noqa: F401

    grid = np.linspace(-1, 1, 8)
    fig, axes = plt.subplots(2, 3, figsize=(6, 6))
    ax = axes[0, 0]
    ax.plot(grid, grid**2, "o-", label="data")
    ax.errorbar(grid, grid, yerr=0.1, fmt="s", capsize=2)
    ax.fill_between(grid, grid, alpha=0.3, hatch="//")
    ax.axhline(0, ls="--")
    ax.annotate("peak", (0, 0), (0.2, 0.8), arrowprops=dict(arrowstyle="->", connectionstyle="arc3,rad=0.3"))
    ax.set_title(r"$\alpha^2+\int_0^1 f(x)\,dx$ $\frac{1}{2}\sqrt{x}$ $\mathrm{H_2O}$", fontweight="bold")
    ax.set_xlabel("x (m)", style="italic")
    ax.legend()
    ax.grid(alpha=0.3)
    ax = axes[0, 1]
    for patch in (patches.Circle((0.5, 0.5), 0.2, fill=False), patches.Ellipse((0.3, 0.3), 0.2, 0.1),
                  patches.Arc((0.5, 0.5), 0.4, 0.4, theta1=0, theta2=60), patches.Polygon([[0, 0], [1, 0], [0.5, 1]], alpha=0.2),
                  patches.Rectangle((0.1, 0.1), 0.2, 0.2), patches.FancyBboxPatch((0.6, 0.1), 0.2, 0.1, boxstyle="round,pad=0.02"),
                  patches.FancyArrowPatch((0, 0), (1, 1), arrowstyle="-|>", mutation_scale=12)):
        ax.add_patch(patch)
    ax.text(0.1, 0.8, "mono", family="monospace", bbox=dict(boxstyle="round", fc="w"))
    ax.text(0.1, 0.6, "serif", family="serif", path_effects=[patheffects.withStroke(linewidth=2, foreground="w")])
    ax.set_aspect("equal")
    ax.axis("off")
    axes[0, 2].axis("off")
    axes[0, 2].table(cellText=[["1", "2"], ["3", "4"]], colLabels=["a", "b"], loc="center")
    ax = axes[1, 0]
    img = ax.imshow(np.outer(grid, grid), cmap="viridis")
    ax.contour(np.outer(grid, grid), levels=3)
    fig.colorbar(img, ax=ax)
    ax = axes[1, 1]
    ax.bar(["a", "b"], [1, 2], yerr=[0.1, 0.2], capsize=3)
    ax.hist(np.sin(np.arange(50.0)), bins=5)
    ax.set_yscale("log")
    X, Y = np.meshgrid(grid, grid)
    axes[1, 2].streamplot(X, Y, -Y, X, density=0.3)
    axes[1, 2].quiver([0, 1], [0, 1], [1, 0], [0, 1])
    fig.suptitle("warm-up")
    fig.savefig(io.BytesIO(), format="png", dpi=100, bbox_inches="tight")
    fig3d = plt.figure(figsize=(3, 3))
    ax3 = fig3d.add_subplot(projection="3d")
    ax3.plot_surface(X, Y, X * Y, alpha=0.5)
    ax3.scatter([0, 1], [0, 1], [0, 1])
    ax3.plot([0, 1], [0, 1], [0, 1])
    ax3.text(0, 0, 1, "3d")
    fig3d.savefig(io.BytesIO(), format="png", dpi=100, bbox_inches="tight")
    plt.close("all")


def main() -> None:
    # Keep the protocol pipes away from fds 0-2, which children redirect.
    proto_in, proto_out = os.dup(0), os.dup(1)
    os.dup2(2, 1)  # stray prints go to our stderr, never into the protocol
    cfg = json.loads(read_frame(proto_in))
    try:
        _warm_up()
        worker = Worker(proto_in, proto_out, cfg)
    except Exception as exc:  # noqa: BLE001 - reported to the client, which raises
        write_frame(proto_out, json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
        return
    write_frame(proto_out, json.dumps(worker.ready_message()).encode())
    worker.serve()


if __name__ == "__main__":
    main()
