"""Throughput and rate-limit discipline of LLMClient against the OpenAI-compatible stub,
served from its own process (``python -m scigen_dagster.devtools.openai_stub``) so the
server's threads do not share the client's interpreter.

1. Throughput: a stub that answers every request after ``--latency`` L seconds; N items
   at concurrency C. The ceiling is C/L requests per second, so
   ``efficiency = achieved_rps / (C / L)`` (goal >= 0.9).
2. Rate limits: a stub enforcing ``--rpm`` R (sliding 60 s window, 429 + Retry-After) and
   a client told rpm=R run M items; ``rate_limited_fraction`` = the stub's 429s / the
   requests it received, from the JSON line it prints when interrupted (goal <= 0.01).
   With M <= R the run fits inside one window, so the client's pacing is only really
   tested with M well above R (e.g. ``--rpm 120 --m 300``, about 2.5 minutes).

The last stdout line is JSON with latency_s, concurrency, n, achieved_rps, efficiency,
rpm_limit and rate_limited_fraction.

    .venv/bin/python benchmarks/bench_llm_throughput.py [--latency 1.0] [--concurrency 16] [--n 256] [--rpm 120] [--m 60]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is imported: no network

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scigen_dagster.llm.client import LLMClient, Request, RoleSettings  # noqa: E402


class Stub:
    def __init__(self, proc: subprocess.Popen, url: str):
        self.proc, self.url = proc, url
        self.final: dict = {}


@contextmanager
def stub_process(*args: str) -> Iterator[Stub]:
    """The stub in its own process; on exit it is interrupted and its final counts read."""
    proc = subprocess.Popen([sys.executable, "-m", "scigen_dagster.devtools.openai_stub", *args], cwd=REPO,
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
                            # A shell starts background jobs with SIGINT ignored, which the stub would
                            # inherit and never print its counts; give it the default back.
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        url = proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"stub did not print its URL (got {url!r}, rc={proc.poll()})")
        stub = Stub(proc, url)
        yield stub
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    lines = [line for line in out.splitlines() if line.startswith("{")]
    stub.final = json.loads(lines[-1]) if lines else {}


def requests(n: int, tag: str) -> list[Request]:
    return [Request(f"{tag}-{i}", [{"role": "user", "content": f"{tag} item {i}"}], f"bench-{tag}") for i in range(n)]


def settings(url: str, concurrency: int, latency: float, rpm: float | None = None) -> RoleSettings:
    return RoleSettings(model="openai/bench-model", api_base=url, api_key="sk-bench", concurrency=concurrency,
                        timeout_s=max(30.0, 10 * latency), max_retries=6, backoff_s=0.2, rpm=rpm)


def throughput(latency: float, concurrency: int, n: int) -> dict:
    with stub_process("--latency", str(latency)) as stub:
        client = LLMClient({"bench": settings(stub.url, concurrency, latency)})
        client.batch("bench", requests(concurrency, "warmup"))  # imports, connection pool, price lookups
        t0 = time.perf_counter()
        results = client.batch("bench", requests(n, "timed"))
        elapsed = time.perf_counter() - t0
    failed = [r for r in results if r.status != "ok"]
    if failed:
        raise SystemExit(f"{len(failed)} throughput items failed, e.g. {failed[0].reason}")
    achieved = n / elapsed
    ideal = concurrency / latency
    print(f"throughput: {n} items in {elapsed:.2f}s at concurrency {concurrency}, latency {latency}s: "
          f"{achieved:.2f} req/s of an ideal {ideal:.2f} (stub: {stub.final})", flush=True)
    return {"achieved_rps": round(achieved, 3), "efficiency": round(achieved / ideal, 4)}


def rate_limits(latency: float, concurrency: int, rpm: float, m: int) -> dict:
    with stub_process("--latency", str(latency), "--rpm", str(rpm), "--retry-after", "1") as stub:
        client = LLMClient({"bench": settings(stub.url, concurrency, latency, rpm=rpm)})
        t0 = time.perf_counter()
        results = client.batch("bench", requests(m, "paced"))
        elapsed = time.perf_counter() - t0
    attempts = sum(r.attempts for r in results)
    ok = sum(r.status == "ok" for r in results)
    sent, limited = stub.final.get("requests"), stub.final.get("rate_limited")
    if not sent:  # the stub's final line is missing: fall back to the client's count of retries
        sent, limited = attempts, attempts - ok
    print(f"rate limits: {m} items at rpm={rpm:g} in {elapsed:.1f}s ({m / elapsed * 60:.1f}/min), {ok} ok, "
          f"{limited} of {sent} requests rate limited (stub: {stub.final})", flush=True)
    return {"rate_limited_fraction": round(limited / sent, 4) if sent else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", "-L", type=float, default=1.0, help="stub latency per request, seconds")
    parser.add_argument("--concurrency", "-C", type=int, default=16)
    parser.add_argument("--n", "-N", type=int, default=256, help="items for the throughput run")
    parser.add_argument("--rpm", "-R", type=float, default=120, help="requests per minute the stub enforces")
    parser.add_argument("--m", "-M", type=int, default=60, help="items for the rate-limit run")
    args = parser.parse_args()

    line = {"latency_s": args.latency, "concurrency": args.concurrency, "n": args.n}
    line.update(throughput(args.latency, args.concurrency, args.n))
    line["rpm_limit"] = args.rpm
    line.update(rate_limits(args.latency, args.concurrency, args.rpm, args.m))
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
