"""What the model calls of a run cost: tokens and dollars per role, the budget, and the
share of each partition.

A step that streams the items of many partitions through one set of calls cannot read a
partition's cost as the difference of two ledger readings (the partitions' calls
interleave). Each item's calls therefore run inside ``metered(partition_ledger)``: every
count lands in the run's ledger and in the ledger of the item's partition.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

# The ledgers that count the calls made here besides the run's: the step's, and the
# partition's whose item is being worked on (none outside a step).
_SCOPE: ContextVar[tuple[Ledger, ...]] = ContextVar("scigen_usage_scope", default=())


@contextlib.contextmanager
def metered(ledger: Ledger) -> Iterator[Ledger]:
    """Count every call made inside (in this task and the tasks it starts) in ``ledger``
    as well as in the run's and in the ledgers of the scopes around it."""
    token = _SCOPE.set((*_SCOPE.get(), ledger))
    try:
        yield ledger
    finally:
        _SCOPE.reset(token)


@dataclass
class Ledger:
    """Tokens and dollars per role; a budget that stops dispatching before it is crossed."""

    budget_usd: float | None = None
    spent_usd: float = 0.0
    reserved_usd: float = 0.0
    paid_calls: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    by_role: dict[str, dict[str, Any]] = field(default_factory=dict)
    truncated: int = 0
    deferred: int = 0  # calls left to a batch (no reply yet)
    batch_calls: int = 0  # replies that came from a batch, billed at its price
    batch_refused: dict[str, str] = field(default_factory=dict)  # role -> why it ran interactively
    cost_unknown_models: set = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _ledgers(self) -> list[Ledger]:
        return [self, *(ledger for ledger in _SCOPE.get() if ledger is not self)]

    def reserve(self, estimate: float) -> bool:
        with self._lock:
            if self.budget_usd is not None and self.spent_usd + self.reserved_usd + estimate > self.budget_usd:
                return False
            self.reserved_usd += estimate
            return True

    def release(self, estimate: float) -> None:
        with self._lock:
            self.reserved_usd -= estimate

    def hit(self) -> None:
        for ledger in self._ledgers():
            with ledger._lock:
                ledger.cache_hits += 1

    def miss(self) -> None:
        for ledger in self._ledgers():
            with ledger._lock:
                ledger.cache_misses += 1

    def defer(self) -> None:
        """A call left to a batch: its partition waits."""
        for ledger in self._ledgers():
            with ledger._lock:
                ledger.deferred += 1

    def refuse_batch(self, role: str, why: str) -> None:
        for ledger in self._ledgers():
            with ledger._lock:
                ledger.batch_refused.setdefault(role, why)

    def settle_batch(self, role: str, cost: float | None, prompt_tokens: int, completion_tokens: int,
                     model: str = "") -> None:
        """A batch's reply, read for the first time: billed here, at the batch price."""
        for ledger in self._ledgers():
            ledger._record(role, cost, prompt_tokens, completion_tokens, model, batch=True)

    def cut(self) -> None:
        """A reply cut by the output budget."""
        for ledger in self._ledgers():
            with ledger._lock:
                ledger.truncated += 1

    def settle(self, estimate: float, role: str, cost: float | None, prompt_tokens: int, completion_tokens: int,
               model: str = "") -> None:
        with self._lock:
            self.reserved_usd -= estimate
        for ledger in self._ledgers():
            ledger._record(role, cost, prompt_tokens, completion_tokens, model)

    def _record(self, role: str, cost: float | None, prompt_tokens: int, completion_tokens: int, model: str,
                batch: bool = False) -> None:
        with self._lock:
            if batch:
                self.batch_calls += 1
            else:
                self.paid_calls += 1
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens
            r = self.by_role.setdefault(role, {"model": model, "calls": 0, "batch_calls": 0, "prompt_tokens": 0,
                                               "completion_tokens": 0, "tokens": 0, "cost_usd": 0.0})
            r["batch_calls" if batch else "calls"] += 1
            r["tokens"] += prompt_tokens + completion_tokens
            r["prompt_tokens"] += prompt_tokens
            r["completion_tokens"] += completion_tokens
            if cost is None:
                self.cost_unknown_models.add(model)
                r["cost_usd"] = "cost unknown"
            else:
                self.spent_usd += cost
                if r["cost_usd"] != "cost unknown":
                    r["cost_usd"] = round(r["cost_usd"] + cost, 6)

    def summary(self) -> dict[str, Any]:
        out = {"paid_calls": self.paid_calls, "cache_hits": self.cache_hits, "cache_misses": self.cache_misses,
               "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
               "cost_usd": round(self.spent_usd, 6), "budget_usd": self.budget_usd, "truncated": self.truncated,
               "by_role": {k: dict(v) for k, v in self.by_role.items()}}
        if self.batch_calls or self.deferred or self.batch_refused:
            out.update(batch_calls=self.batch_calls, deferred=self.deferred)
        if self.batch_refused:
            out["batch_refused"] = dict(self.batch_refused)
        if self.cost_unknown_models:
            unknown = sorted(self.cost_unknown_models)
            out["cost_unknown_models"] = unknown
            out["warning"] = (f"cost unknown for {', '.join(unknown)} (not in litellm's price map): cost_usd counts "
                              "only the priced models; add input_usd_per_mtok / output_usd_per_mtok for them")
        return out
