"""The code sandbox as a Dagster resource: its limits as configuration, the warm pool of
:mod:`scigen_dagster.sandbox.pool` started with the run and closed after it."""

from __future__ import annotations

import os
import threading

import dagster as dg
from pydantic import Field, PrivateAttr

from scigen_dagster.sandbox.pool import (
    LAYERS,
    SELF_REPORTED,
    STATUSES,
    LazyPool,
    RenderResult,
    SandboxPool,
    SandboxUnavailableError,
)

__all__ = ["LAYERS", "SELF_REPORTED", "STATUSES", "RenderResult", "SandboxResource", "SandboxUnavailableError"]


class SandboxPoolHandle:
    """Per-process home of the pool, kept out of the pydantic fields. Deep
    copies start empty, and a forked process drops its parent's pool (the
    pipes and locks belong to the parent), starting its own on demand."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pool: SandboxPool | None = None
        self.pid = os.getpid()

    def __reduce__(self):
        return (SandboxPoolHandle, ())

    def claim(self) -> None:
        if self.pid != os.getpid():
            self.lock, self.pool, self.pid = threading.Lock(), None, os.getpid()


class SandboxResource(dg.ConfigurableResource):
    """Renders untrusted matplotlib scripts in a locked-down warm process pool.

    Scripts run with cwd set to a fresh scratch folder and the Agg backend
    loaded; they should save ``figure.png`` there, otherwise the current figure
    is saved (dpi=100, bbox_inches="tight"). Usable inside Dagster (the pool
    lives between setup_for_execution and teardown_after_execution) and
    standalone (lazy start on first use, ``close()`` or ``with``).
    """

    timeout_s: float = Field(default=20.0, description="Wall-clock limit per script.")
    memory_mb: int = Field(default=2048, description="Address-space limit per script (RLIMIT_AS).")
    cpu_s: int = Field(default=30, description="CPU-time limit per script (RLIMIT_CPU).")
    max_output_mb: int = Field(default=20, description="Largest file a script may write, figure.png included.")
    workers: int = Field(default=2, description="Warm worker processes, i.e. scripts rendered concurrently.")
    require_layers: list[str] = Field(
        default_factory=list,
        description=f"Protection layers that must be active, else the pool refuses to start. Known: {list(LAYERS)}.",
    )
    max_stdout_kb: int = Field(default=64, description="Tail of stdout/stderr kept per script.")

    _handle: SandboxPoolHandle = PrivateAttr(default_factory=SandboxPoolHandle)

    def pool(self) -> SandboxPool:
        """The warm pool of this process (started on first use)."""
        handle = self._handle
        handle.claim()
        with handle.lock:
            if handle.pool is None:
                cfg = {"timeout_s": self.timeout_s, "memory_mb": self.memory_mb, "cpu_s": self.cpu_s,
                       "max_output_mb": self.max_output_mb, "max_stdout_kb": self.max_stdout_kb}
                handle.pool = SandboxPool(cfg, max(1, self.workers), self.require_layers)
            return handle.pool

    def renderer(self) -> LazyPool:
        """What a step renders with: this process's pool, started on the first script."""
        return LazyPool(self.pool)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.close()

    def render(self, code: str) -> RenderResult:
        return self.pool().render(code)

    def render_many(self, codes: list[str]) -> list[RenderResult]:
        """Renders concurrently on up to `workers` workers; results keep input order."""
        return self.pool().render_many(codes)

    def active_layers(self) -> dict[str, bool]:
        return dict(self.pool().layers)

    def close(self) -> None:
        handle = self._handle
        handle.claim()
        with handle.lock:
            pool, handle.pool = handle.pool, None
        if pool is not None:
            pool.close()

    def __reduce__(self):
        # Dagster resources do not unpickle by themselves; the config fields
        # fully define this one, and the copy starts its own pool when used.
        return (_rebuild, (type(self), {name: getattr(self, name) for name in type(self).model_fields}))

    def __enter__(self) -> SandboxResource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _rebuild(cls: type[SandboxResource], config: dict) -> SandboxResource:
    return cls(**config)
