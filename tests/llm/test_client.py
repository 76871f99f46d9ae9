"""LLMClient against a real OpenAI-compatible HTTP server (the devtools stub): results,
the response cache, faults and retries, Retry-After, schema re-asks, the budget, a
SIGKILL mid-batch, and the API key never leaking.

Every call goes over real HTTP through litellm; nothing in the client is mocked (the
rate-limit tests only run the stub's 60 s window, and in one the client's limiters, on a
faster clock). The server counts what it received and what it answered (what a real API would bill), so the
tests can prove what was paid for.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is imported anywhere

import pytest

from scigen_dagster.devtools import openai_stub
from scigen_dagster.devtools.openai_stub import OpenAIStub, StubConfig
from scigen_dagster.llm import limits
from scigen_dagster.llm.cache import ResponseCache
from scigen_dagster.llm.client import LLMClient, Request, RoleSettings, token_prices

REPO = Path(__file__).resolve().parents[2]
SECRET = "sk-test-SECRET-123456"
ROLE = "gen"


# ---------------------------------------------------------------------------- helpers


def item_key(content: Any) -> str:
    """How the stub names an item in ``stats.by_item``: its last user message."""
    return json.dumps(content, sort_keys=True)[:200]


def requests_for(n: int, tag: str = "item", prompt_hash: str = "ph-v1") -> list[Request]:
    return [Request(f"{tag}-{i:03d}", [{"role": "user", "content": f"{tag}-{i:03d}"}], prompt_hash) for i in range(n)]


def role(url: str, **overrides: Any) -> RoleSettings:
    kw: dict[str, Any] = dict(model="openai/stub-model", api_base=url, api_key="sk-test-dummy",
                              timeout_s=10.0, concurrency=8, max_retries=3, backoff_s=0.05)
    kw.update(overrides)
    return RoleSettings(**kw)


def answer_for(messages: list[dict[str, Any]]) -> str:
    return f"answer to {messages[-1]['content']}"


def expected_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return len(json.dumps(messages)) // 4 + 1  # the stub's count


class RecordingStub(OpenAIStub):
    """The stub, also recording every request as it arrives (before any fault, latency
    or rate limit): arrival time, the item (last user message) and whether the
    conversation already holds an assistant turn (a schema re-ask)."""

    def __init__(self, config: StubConfig | None = None, port: int = 0):
        super().__init__(config, port)
        self.arrivals: list[tuple[float, str, bool]] = []
        self._arrival_lock = threading.Lock()

    def arrived(self) -> Counter:
        with self._arrival_lock:
            return Counter(key for _, key, _ in self.arrivals)

    def _handle(self, handler: Any, body: dict[str, Any]) -> None:
        messages = body.get("messages", [])
        last_user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
        with self._arrival_lock:
            self.arrivals.append((time.monotonic(), item_key(last_user.get("content")),
                                  any(m.get("role") == "assistant" for m in messages)))
        super()._handle(handler, body)


def assert_none_lost(results: list, requests: list[Request]) -> None:
    assert len(results) == len(requests), f"{len(requests)} requests gave {len(results)} results"
    assert [r.item_id for r in results] == [q.item_id for q in requests], "results are not the requests' items, in order"


# ---------------------------------------------------------------------------- 1. happy path


def test_happy_path_every_item_ok_and_ledger_counts_tokens():
    n = 24
    with OpenAIStub(StubConfig(latency_s=0.02, responder=answer_for)) as stub:
        client = LLMClient({ROLE: role(stub.url)})
        reqs = requests_for(n)
        results = client.batch(ROLE, reqs)

    assert_none_lost(results, reqs)
    bad = [(r.item_id, r.status, r.reason) for r in results if r.status != "ok"]
    assert not bad, f"items not ok on a healthy server: {bad}"
    for req, r in zip(reqs, results):
        want = f"answer to {req.messages[-1]['content']}"
        assert r.content == want and r.value == want, f"{r.item_id}: content {r.content!r} / value {r.value!r}, want {want!r}"
        assert not r.cached and r.attempts == 1, f"{r.item_id}: cached={r.cached} attempts={r.attempts} on a first, healthy run"
        assert r.prompt_tokens == expected_prompt_tokens(req.messages), f"{r.item_id}: prompt_tokens {r.prompt_tokens}"
        assert r.completion_tokens == len(want) // 4 + 1, f"{r.item_id}: completion_tokens {r.completion_tokens}"
    s = client.ledger.summary()
    assert s["paid_calls"] == n == stub.stats.answered, f"paid_calls {s['paid_calls']}, server answered {stub.stats.answered}, items {n}"
    assert s["cache_hits"] == 0 and s["cache_misses"] == n, f"no cache configured, yet {s}"
    assert s["prompt_tokens"] == sum(r.prompt_tokens for r in results) > 0, f"ledger prompt tokens {s['prompt_tokens']}"
    assert s["completion_tokens"] == sum(r.completion_tokens for r in results) > 0, f"ledger completion tokens {s['completion_tokens']}"
    assert s["by_role"][ROLE]["calls"] == n, f"by_role {s['by_role']}"
    assert s["by_role"][ROLE]["tokens"] == s["prompt_tokens"] + s["completion_tokens"], f"by_role {s['by_role']}"


# ---------------------------------------------------------------------------- 2. cache


def test_cache_second_run_makes_no_requests_and_key_covers_prompt_hash_and_temperature(tmp_path):
    n = 16
    cache_path = tmp_path / "llm_cache.sqlite"
    reqs = requests_for(n)
    with OpenAIStub(StubConfig(responder=answer_for)) as stub:
        first = LLMClient({ROLE: role(stub.url)}, cache=ResponseCache(cache_path)).batch(ROLE, reqs)
        assert all(r.status == "ok" for r in first), f"first run: {[(r.item_id, r.reason) for r in first if r.status != 'ok']}"
        assert stub.stats.requests == n, f"first run sent {stub.stats.requests} requests for {n} items"

        # A new client and a freshly opened cache: what counts is the file, not memory.
        client = LLMClient({ROLE: role(stub.url)}, cache=ResponseCache(cache_path))
        second = client.batch(ROLE, reqs)
        assert stub.stats.requests == n, f"a fully cached batch reached the server: {stub.stats.requests - n} new requests"
        assert_none_lost(second, reqs)
        assert all(r.status == "ok" and r.cached for r in second), \
            f"not served from cache: {[(r.item_id, r.status, r.cached) for r in second if not (r.cached and r.status == 'ok')]}"
        assert [r.content for r in second] == [r.content for r in first], "cached content differs from what was paid for"
        s = client.ledger.summary()
        assert (s["cache_hits"], s["cache_misses"], s["paid_calls"]) == (n, 0, 0), f"ledger after a cached run: {s}"

        # A new prompt version is a different question: every item misses.
        client = LLMClient({ROLE: role(stub.url)}, cache=ResponseCache(cache_path))
        third = client.batch(ROLE, requests_for(n, prompt_hash="ph-v2"))
        assert not any(r.cached for r in third), "a different prompt_hash was served from the cache"
        assert stub.stats.requests == 2 * n, f"prompt_hash change: {stub.stats.requests - n} requests, want {n}"
        assert client.ledger.cache_misses == n and client.ledger.paid_calls == n, f"{client.ledger.summary()}"

        # So is a different sampling temperature.
        client = LLMClient({ROLE: role(stub.url, temperature=0.7)}, cache=ResponseCache(cache_path))
        fourth = client.batch(ROLE, reqs)
        assert not any(r.cached for r in fourth), "a different temperature was served from the cache"
        assert stub.stats.requests == 3 * n, f"temperature change: {stub.stats.requests - 2 * n} requests, want {n}"


# ---------------------------------------------------------------------------- 3. faults


def test_injected_faults_every_item_accounted_for_and_paid_at_most_once(tmp_path):
    n = 40
    cfg = StubConfig(fault_rate=0.3, faults=("429", "500", "hang", "malformed", "truncated"), hang_s=2.0,
                     retry_after_s=0.2, seed=13, responder=answer_for)  # seed 13: all five kinds, 3 hangs, in the first 40 requests
    cache_path = tmp_path / "faults.sqlite"
    reqs = requests_for(n)
    with OpenAIStub(cfg) as stub:
        settings = role(stub.url, timeout_s=0.75, max_retries=6, backoff_s=0.05, concurrency=10)
        client = LLMClient({ROLE: settings}, cache=ResponseCache(cache_path))
        t0 = time.monotonic()
        results = client.batch(ROLE, reqs)
        elapsed = time.monotonic() - t0

        assert_none_lost(results, reqs)
        assert set(stub.stats.faults) == set(cfg.faults), f"not every kind of fault was injected: {stub.stats.faults}"
        assert elapsed >= settings.timeout_s, f"{elapsed:.2f}s: a hang should have cost at least the {settings.timeout_s}s timeout"
        statuses = Counter(r.status for r in results)
        assert set(statuses) <= {"ok", "failed"}, f"statuses {statuses}"
        for r in results:
            if r.status == "failed":
                assert r.reason.strip(), f"{r.item_id} failed without a reason"
            else:
                assert r.content == f"answer to {r.item_id}", f"{r.item_id}: content {r.content!r}"
        ok = {r.item_id for r in results if r.status == "ok"}
        assert len(ok) >= n - 2, f"only {len(ok)}/{n} ok with 6 retries at 30% faults: {[(r.item_id, r.reason) for r in results if r.status != 'ok']}"
        # Billing: every well-formed reply the server produced was recorded once, for an ok item.
        assert stub.stats.answered == client.ledger.paid_calls, \
            f"server answered {stub.stats.answered} replies, ledger paid for {client.ledger.paid_calls}"
        twice = {k: c for k, c in stub.stats.by_item.items() if c > 1}
        assert not twice, f"items answered more than once: {twice}"
        assert set(stub.stats.by_item) == {item_key(i) for i in ok}, "answered items differ from the ok items"
        assert elapsed < 30, f"batch took {elapsed:.1f}s"

        # Second run with the cache: nothing that succeeded is paid for again.
        answered_before = stub.stats.answered
        again = LLMClient({ROLE: settings}, cache=ResponseCache(cache_path))
        results2 = again.batch(ROLE, reqs)
        assert_none_lost(results2, reqs)
        for r in results2:
            if r.item_id in ok:
                assert r.cached and r.status == "ok", f"{r.item_id} succeeded before but was not served from the cache"
        assert again.ledger.paid_calls == stub.stats.answered - answered_before == len({r.item_id for r in results2 if r.status == "ok"} - ok), \
            f"second run paid {again.ledger.paid_calls} calls, server answered {stub.stats.answered - answered_before}"
        twice = {k: c for k, c in stub.stats.by_item.items() if c > 1}
        assert not twice, f"items answered more than once across both runs: {twice}"


# ---------------------------------------------------------------------------- 4. Retry-After


class WarpedClock:
    """Time ``speed`` times faster, for the stub's 60 s rate window and for the client's
    limiters (token buckets and the Retry-After pause), so minutes of rate limiting play
    out in seconds with every ratio intact. Only those two modules see it."""

    def __init__(self, speed: float):
        self.speed = speed

    def monotonic(self) -> float:
        return time.monotonic() * self.speed

    def install(self, monkeypatch: pytest.MonkeyPatch, client_side: bool) -> None:
        monkeypatch.setattr(openai_stub, "time", ModuleProxy(time, monotonic=self.monotonic))
        if client_side:
            speed = self.speed
            monkeypatch.setattr(limits, "time", ModuleProxy(time, monotonic=self.monotonic))
            monkeypatch.setattr(limits, "asyncio", ModuleProxy(asyncio, sleep=lambda d, *a, **k: asyncio.sleep(d / speed, *a, **k)))


class ModuleProxy:
    """A module with a few attributes replaced; everything else is the module's own."""

    def __init__(self, module: Any, **overrides: Any):
        self._module = module
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def test_client_rpm_matching_server_limit_avoids_429s(monkeypatch):
    """Two (virtual) minutes at the server's limit: a sliding 60 s window of 120 requests."""
    import litellm  # noqa: F401 - its first import takes seconds, which the warped clock would count 20 times

    rpm, n, speed = 120, 240, 20.0
    WarpedClock(speed).install(monkeypatch, client_side=True)
    cfg = StubConfig(rate_limit_rpm=rpm, retry_after_s=1.0, responder=answer_for)
    with OpenAIStub(cfg) as stub:
        client = LLMClient({ROLE: role(stub.url, rpm=rpm, concurrency=16, max_retries=8)})
        reqs = requests_for(n)
        t0 = time.monotonic()
        results = client.batch(ROLE, reqs)
        virtual_s = (time.monotonic() - t0) * speed

    assert_none_lost(results, reqs)
    assert all(r.status == "ok" for r in results), f"not ok: {[(r.item_id, r.reason) for r in results if r.status != 'ok']}"
    fraction = stub.stats.rate_limited / stub.stats.requests
    assert fraction <= 0.01, (f"client paced at rpm={rpm} got {stub.stats.rate_limited} 429s in {stub.stats.requests} requests "
                              f"({fraction:.1%}) from a server enforcing {rpm}/min")
    # And it did not get there by crawling: the pace is the limit's.
    assert virtual_s < 1.5 * n / rpm * 60, f"{n} items took {virtual_s:.0f} virtual s at rpm={rpm}"


def test_burst_without_rpm_is_rate_limited_then_waits_retry_after_and_finishes(monkeypatch):
    """No client-side rpm: the burst overruns the server's window and gets 429s; the
    client must wait the Retry-After it was told (real seconds here) and still finish."""
    retry_after, rpm, n, speed = 0.5, 10, 24, 30.0  # the server's 60 s window lasts 2 s
    WarpedClock(speed).install(monkeypatch, client_side=False)
    cfg = StubConfig(rate_limit_rpm=rpm, retry_after_s=retry_after, responder=answer_for)
    with RecordingStub(cfg) as stub:
        client = LLMClient({ROLE: role(stub.url, concurrency=n, max_retries=20, backoff_s=0.01)})
        reqs = requests_for(n)
        t0 = time.monotonic()
        results = client.batch(ROLE, reqs)
        elapsed = time.monotonic() - t0

    assert_none_lost(results, reqs)
    assert stub.stats.rate_limited > 0, "the burst was never rate limited; the test proves nothing"
    assert all(r.status == "ok" for r in results), f"not ok after 429s: {[(r.item_id, r.reason) for r in results if r.status != 'ok']}"
    assert elapsed >= retry_after, f"finished in {elapsed:.2f}s, less than the Retry-After of {retry_after}s"
    # Every retry of an item came at least Retry-After after its previous try.
    times: dict[str, list[float]] = defaultdict(list)
    for t, key, _ in stub.arrivals:
        times[key].append(t)
    gaps = [(key, b - a) for key, ts in times.items() for a, b in zip(ts, ts[1:])]
    early = [(k, round(g, 3)) for k, g in gaps if g < retry_after * 0.95]
    assert gaps and not early, f"retries sooner than Retry-After={retry_after}s: {early[:10]}"
    # Honouring it keeps 429s to about one per item per Retry-After while the window is full.
    bound = n * (elapsed / retry_after + 1)
    assert stub.stats.rate_limited <= bound, f"{stub.stats.rate_limited} 429s in {elapsed:.1f}s for {n} items (bound {bound:.0f})"


def test_rpm_client_can_run_a_second_batch():
    with OpenAIStub(StubConfig(responder=answer_for)) as stub:
        # All four start at once against a burst of 2: the 3rd sleeps holding the bucket's
        # lock while the 4th queues on it, in each batch, however fast the server is.
        client = LLMClient({ROLE: role(stub.url, rpm=120, concurrency=4)})
        for k in range(2):
            results = client.batch(ROLE, requests_for(4, tag=f"batch{k}"))
            bad = [(r.item_id, r.reason) for r in results if r.status != "ok"]
            assert not bad, f"batch {k + 1} on the same client: {bad[:3]}"


# ---------------------------------------------------------------------------- 5. schema re-ask


def parse_answer(content: str) -> int:
    data = json.loads(content)
    if not isinstance(data, dict) or not isinstance(data.get("answer"), int):
        raise ValueError(f"expected an object with an integer 'answer', got {content[:60]!r}")
    return data["answer"]


def test_schema_reask_succeeds_on_second_call():
    def responder(messages):
        if any(m["role"] == "assistant" for m in messages):
            return json.dumps({"answer": 42})
        return "Sure! The answer is 42."

    n = 6
    with RecordingStub(StubConfig(responder=responder)) as stub:
        client = LLMClient({ROLE: role(stub.url, schema_retries=2)})
        reqs = requests_for(n)
        results = client.batch(ROLE, reqs, parse=parse_answer)

    assert_none_lost(results, reqs)
    for r in results:
        assert r.status == "ok" and r.value == 42, f"{r.item_id}: {r.status} value={r.value!r} reason={r.reason!r}"
        assert r.attempts == 2, f"{r.item_id}: {r.attempts} calls, want 2 (one invalid, one re-ask)"
    assert stub.stats.answered == 2 * n == client.ledger.paid_calls, f"answered {stub.stats.answered}, paid {client.ledger.paid_calls}"
    reasks = [key for _, key, reask in stub.arrivals if reask]
    assert len(reasks) == n, f"{len(reasks)} re-asks reached the server, want {n}"
    assert all("could not be used" in json.loads(k) for k in reasks), f"re-ask did not carry the validation error: {reasks[:2]}"


def test_schema_never_valid_fails_with_invalid_reply_after_all_rounds():
    n, schema_retries = 4, 2
    with OpenAIStub(StubConfig(responder=lambda m: "no JSON here")) as stub:
        client = LLMClient({ROLE: role(stub.url, schema_retries=schema_retries)})
        reqs = requests_for(n)
        results = client.batch(ROLE, reqs, parse=parse_answer)

    assert_none_lost(results, reqs)
    for r in results:
        assert r.status == "failed", f"{r.item_id}: {r.status}, want failed"
        assert r.reason.startswith("invalid reply"), f"{r.item_id}: reason {r.reason!r}"
        assert r.attempts == schema_retries + 1, f"{r.item_id}: {r.attempts} calls, want {schema_retries + 1}"
    assert stub.stats.requests == n * (schema_retries + 1), f"server saw {stub.stats.requests} requests"


# ---------------------------------------------------------------------------- 6. budget

PRICED = "openai/gpt-4o-mini"  # in litellm's price map; api_base points it at the stub


def test_budget_skips_items_and_never_overspends():
    price_in, price_out = token_prices(PRICED)
    assert price_in > 0 and price_out > 0, f"{PRICED} has no price in litellm's map: {price_in}, {price_out}"
    n, budget = 30, 1e-4
    with OpenAIStub(StubConfig(responder=answer_for)) as stub:
        # One at a time, so how many fit is deterministic.
        client = LLMClient({ROLE: role(stub.url, model=PRICED, max_tokens=50, concurrency=1)}, budget_usd=budget)
        reqs = requests_for(n)
        results = client.batch(ROLE, reqs)

    assert_none_lost(results, reqs)
    statuses = Counter(r.status for r in results)
    assert set(statuses) <= {"ok", "skipped"}, f"statuses {statuses}"
    assert statuses["skipped"] > 0 and statuses["ok"] > 0, f"budget {budget} should stop part way: {statuses}"
    for r in results:
        if r.status == "skipped":
            assert r.reason == "skipped: budget" and r.attempts == 0, f"{r.item_id}: {r.reason!r}, {r.attempts} attempts"
        else:
            want = r.prompt_tokens * price_in + r.completion_tokens * price_out
            assert r.cost_usd == pytest.approx(want) and r.cost_usd > 0, f"{r.item_id}: cost {r.cost_usd}, want {want}"
    ledger = client.ledger
    assert ledger.spent_usd <= budget, f"spent {ledger.spent_usd} over a budget of {budget}"
    assert ledger.spent_usd == pytest.approx(sum(r.cost_usd for r in results)), "ledger spend != sum of item costs"
    assert abs(ledger.reserved_usd) < 1e-12, f"reservations leaked: {ledger.reserved_usd}"
    assert stub.stats.answered == ledger.paid_calls == statuses["ok"], f"answered {stub.stats.answered}, paid {ledger.paid_calls}"
    skipped = {item_key(r.item_id) for r in results if r.status == "skipped"}
    assert not skipped & set(stub.stats.by_item), "a skipped item still reached the server"
    # Items run in order, so once one is skipped, the rest are too (none would fit).
    first_skip = [r.status for r in results].index("skipped")
    assert all(r.status == "skipped" for r in results[first_skip:]), "an item ran after the budget said stop"
    assert ledger.summary()["cost_usd"] <= budget


def test_budget_concurrent_never_overspends_and_loses_nothing():
    n, budget = 40, 1.5e-4
    with OpenAIStub(StubConfig(latency_s=0.05, responder=answer_for)) as stub:
        client = LLMClient({ROLE: role(stub.url, model=PRICED, max_tokens=50, concurrency=8)}, budget_usd=budget)
        reqs = requests_for(n)
        results = client.batch(ROLE, reqs)
    assert_none_lost(results, reqs)
    statuses = Counter(r.status for r in results)
    assert set(statuses) <= {"ok", "skipped"} and statuses["skipped"] > 0, f"statuses {statuses}"
    assert client.ledger.spent_usd <= budget, f"spent {client.ledger.spent_usd} over a budget of {budget}"
    assert abs(client.ledger.reserved_usd) < 1e-12, f"reservations leaked: {client.ledger.reserved_usd}"
    assert stub.stats.answered == client.ledger.paid_calls == statuses["ok"]


def test_budget_concurrency_does_not_skip_items_that_would_fit():
    """In-flight calls reserve their upper bound and settle far below it; an item must
    wait for them rather than be skipped while most of the budget is still there."""
    n, budget = 30, 1e-4
    with OpenAIStub(StubConfig(latency_s=0.05, responder=answer_for)) as stub:
        sequential = LLMClient({ROLE: role(stub.url, model=PRICED, max_tokens=50, concurrency=1)}, budget_usd=budget)
        ok_sequential = sum(r.status == "ok" for r in sequential.batch(ROLE, requests_for(n)))
        concurrent = LLMClient({ROLE: role(stub.url, model=PRICED, max_tokens=50, concurrency=8)}, budget_usd=budget)
        ok_concurrent = sum(r.status == "ok" for r in concurrent.batch(ROLE, requests_for(n)))
    assert concurrent.ledger.spent_usd <= budget, f"spent {concurrent.ledger.spent_usd} over a budget of {budget}"
    assert ok_concurrent >= ok_sequential - 8, (
        f"concurrency=8 completed {ok_concurrent} items (spent {concurrent.ledger.spent_usd:.2e} of {budget}), "
        f"concurrency=1 completed {ok_sequential}")


def test_budget_never_overspends_on_non_ascii_prompts():
    budget = 9e-5
    with OpenAIStub(StubConfig(responder=lambda m: "好")) as stub:
        client = LLMClient({ROLE: role(stub.url, model=PRICED, max_tokens=4, concurrency=1)}, budget_usd=budget)
        reqs = [Request(f"cjk-{i}", [{"role": "user", "content": "请画出物体的受力分析图" * 20 + str(i)}], "ph") for i in range(10)]
        results = client.batch(ROLE, reqs)
    assert_none_lost(results, reqs)
    assert client.ledger.spent_usd <= budget, (f"spent {client.ledger.spent_usd:.3e} of a {budget:.1e} budget; "
                                               f"each call cost {results[0].cost_usd:.2e} for {results[0].prompt_tokens} prompt tokens")


# ---------------------------------------------------------------------------- 7. SIGKILL and resume

RESUME_SCRIPT = """
import json, os, sys
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
from scigen_dagster.llm.cache import ResponseCache
from scigen_dagster.llm.client import LLMClient, Request, RoleSettings

url, cache_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = LLMClient({"gen": RoleSettings(model="openai/stub-model", api_base=url, api_key="sk-test-dummy",
                                        concurrency=4, max_retries=2, backoff_s=0.05, timeout_s=10)},
                   cache=ResponseCache(cache_path))
requests = [Request(f"item-{i:03d}", [{"role": "user", "content": f"item-{i:03d}"}], "ph-v1") for i in range(n)]
print("ready", flush=True)
results = client.batch("gen", requests)
print(json.dumps({"status": {r.item_id: r.status for r in results}, "cached": sorted(r.item_id for r in results if r.cached),
                  "ledger": client.ledger.summary()}), flush=True)
"""


def cached_items(cache_path: Path) -> set[str]:
    """Items whose reply is in the cache file (the stub's answer names the item)."""
    import sqlite3

    conn = sqlite3.connect(cache_path)
    try:
        return {row[0].removeprefix("answer to ") for row in conn.execute("SELECT content FROM responses")}
    finally:
        conn.close()


def test_sigkill_mid_batch_then_resume_pays_for_no_completed_item_again(tmp_path):
    n, concurrency, latency = 40, 4, 0.2
    script = tmp_path / "run_batch.py"
    script.write_text(RESUME_SCRIPT)
    cache_path = tmp_path / "resume.sqlite"
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    with RecordingStub(StubConfig(latency_s=latency, responder=answer_for)) as stub:
        cmd = [sys.executable, str(script), stub.url, str(cache_path), str(n)]
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 30
            while not stub.arrivals and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert stub.arrivals, f"the first run never reached the server: rc={proc.poll()} {proc.stderr.read() if proc.poll() is not None else ''}"
            time.sleep(1.0)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == -signal.SIGKILL, f"first run was not killed mid-batch (rc={proc.returncode})"
        time.sleep(latency + 0.3)  # let the server finish what was in flight when the client died
        arrived_1 = stub.arrived()
        answered_1 = Counter(stub.stats.by_item)
        completed = cached_items(cache_path)
        assert 0 < len(completed) < n, f"kill after ~1 s should leave the batch part done; {len(completed)}/{n} cached"
        assert {item_key(i) for i in completed} <= set(answered_1), "cache holds replies the server never gave"
        in_flight = {k for k in arrived_1 if k not in {item_key(i) for i in completed}}
        assert len(in_flight) <= concurrency, f"{len(in_flight)} requests in flight at the kill, concurrency {concurrency}"

        run2 = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
        assert run2.returncode == 0, f"resume run failed: {run2.stderr[-2000:]}"
        out = json.loads(run2.stdout.strip().splitlines()[-1])

    assert len(out["status"]) == n and all(s == "ok" for s in out["status"].values()), f"resume statuses {out['status']}"
    assert set(out["cached"]) == completed, "the resume run did not reuse exactly what the first run completed"
    arrived_2 = stub.arrived() - arrived_1
    requested_again = sorted(i for i in completed if arrived_2[item_key(i)])
    assert not requested_again, f"items completed before the kill were requested again: {requested_again}"
    assert out["ledger"]["paid_calls"] == n - len(completed), f"resume paid {out['ledger']['paid_calls']} calls, want {n - len(completed)}"
    answered = stub.stats.by_item
    missing = [f"item-{i:03d}" for i in range(n) if answered[item_key(f'item-{i:03d}')] == 0]
    assert not missing, f"never answered: {missing}"
    over = {k: c for k, c in answered.items() if c != 1 and k not in in_flight}
    assert not over, f"items answered more than once across both runs (other than those in flight at the kill): {over}"
    # A reply the server finished after the client died is billed but lost; only the
    # requests in flight at the kill (at most `concurrency`) can be paid twice.
    twice = {k for k, c in answered.items() if c > 1}
    assert twice <= in_flight, f"paid twice but not in flight at the kill: {twice - in_flight}"


# ---------------------------------------------------------------------------- 8. secrets


class EchoKeyStub(OpenAIStub):
    """A hostile server: every error message echoes the Authorization header it got.
    Items whose content contains 'auth' get 401, 'boom' get 500, the rest are answered."""

    def _handle(self, handler: Any, body: dict[str, Any]) -> None:
        content = str(body.get("messages", [{}])[-1].get("content"))
        auth = handler.headers.get("Authorization", "")
        self.seen_auth = auth
        if "auth" in content or "boom" in content:
            with self._lock:
                self.stats.requests += 1
            status = 401 if "auth" in content else 500
            payload = json.dumps({"error": {"message": f"Incorrect API key provided: {auth}", "type": "invalid_request_error",
                                            "code": "invalid_api_key", "param": auth}}).encode()
            return self._send(handler, status, payload)
        super()._handle(handler, body)


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a log that cannot format cannot leak either
            self.lines.append(str(record.msg))


@pytest.fixture
def all_logs():
    """Every log record at DEBUG and above, litellm's included (this project runs
    pytest with -p no:logging, so there is no caplog)."""
    handler = ListHandler()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    names = ["", "LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "httpx", "httpcore", "openai"]
    saved = [(logging.getLogger(n), logging.getLogger(n).level) for n in names]
    for logger, _ in saved:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler
    for logger, level in saved:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_api_key_never_leaks(tmp_path, capfd, all_logs):
    cache_path = tmp_path / "secret.sqlite"
    with EchoKeyStub(StubConfig(responder=answer_for)) as stub:
        client = LLMClient({ROLE: role(stub.url, api_key=SECRET, max_retries=1)}, cache=ResponseCache(cache_path))
        reqs = [Request("auth-1", [{"role": "user", "content": "auth-1"}], "ph"),
                Request("boom-1", [{"role": "user", "content": "boom-1"}], "ph")] + requests_for(4)
        results = client.batch(ROLE, reqs)
        again = LLMClient({ROLE: role(stub.url, api_key=SECRET, max_retries=1)}, cache=ResponseCache(cache_path)).batch(ROLE, reqs)

    assert SECRET in getattr(stub, "seen_auth", ""), "the key never reached the server, so nothing could leak"
    by_id = {r.item_id: r for r in results}
    assert by_id["auth-1"].status == "failed" and "Authentication" in by_id["auth-1"].reason, f"401: {by_id['auth-1']}"
    assert by_id["auth-1"].attempts == 1, f"a 401 was retried {by_id['auth-1'].attempts - 1} times"
    assert by_id["boom-1"].status == "failed" and by_id["boom-1"].attempts == 2, f"500: {by_id['boom-1']}"
    assert sum(r.status == "ok" for r in results) == 4, f"{[(r.item_id, r.status) for r in results]}"
    assert stub.stats.requests == 1 + 2 + 4 + 1 + 2, f"server saw {stub.stats.requests} requests"  # 2nd run: only the failures

    places = {f"reason of {r.item_id}": r.reason for r in results + again}
    places.update({f"repr of {r.item_id}": repr(r) for r in results})
    places["ledger summary"] = json.dumps(client.ledger.summary())
    for path in sorted(tmp_path.glob("secret.sqlite*")):  # the database, its WAL and shared memory
        places[f"file {path.name}"] = path.read_bytes().decode("latin-1")
    places["logs"] = "\n".join(all_logs.lines)
    out, err = capfd.readouterr()
    places["stdout"], places["stderr"] = out, err
    leaks = [where for where, text in places.items() if SECRET in text]
    assert not leaks, f"the API key leaked into: {leaks}"
    assert any(p.startswith("file ") for p in places) and places["logs"], "nothing was checked: no cache file or no logs"
