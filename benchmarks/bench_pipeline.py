"""How busy the whole graph keeps a provider: every asset over all 25 partitions in one
run, the planner, judge and answerer roles on a local OpenAI-compatible server.

The server is the devtools stub (real HTTP, litellm's whole request path) in its own
process, answering each request after a lognormal delay (median ``--median`` s, sigma
``--sigma``; drawn from the request's content, so two runs of the same workload meet the
same latencies) as a capable model would: four-part plans with a script (``--fail-first``
of the first scripts raise, so their items go through a repair), rubric JSON, option
letters. Every role may have ``--concurrency`` calls in flight. The corpus is the
SciGenBench development split (scigen.json: 327 items over all 25 image types).

The server times every request it answers, so the figures are the server's view:

- a role's efficiency = calls / active time / (in-flight limit / mean latency), i.e. the
  share of its slots that were busy between its first request and its last reply;
- the run's efficiency = the calls' ideal time / the run's wall time, where the ideal
  time is, role after role, calls x mean latency / limit (each role alone at its full
  limit; the steps of one model run one after the other in-process);
- the run's efficiency against its critical path: the same with the ideal time of the
  plans followed by the longer of the judge's and the answerer's (the judge and inverse
  validation of a model run as one step, their two streams at the same time), the
  stricter figure, since overlapping roles can beat the role-after-role ideal;
- the cost of the run's calls as the ledger billed them (interactive prices of litellm's
  price map for the models named: gpt-4.1 plans, gpt-4o-mini judges and answers), and
  the same tokens at the map's batch prices for what batch mode may send (judge,
  answerer, first plans; repairs need their answer now).

The last stdout line is JSON. Goals: every role >= 0.9, the run >= 0.8.

    .venv/bin/python benchmarks/bench_pipeline.py [--median 1.0] [--sigma 0.6] [--concurrency 8]
        [--fail-first 0.2] [--data ../shared/data/scigenbench-dev] [--store DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm is imported: no network
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PLANNER, JUDGE, ANSWERER = "openai/gpt-4.1", "openai/gpt-4o-mini", "openai/gpt-4o-mini"
ROLES = ("planner", "judge", "answerer")
DEFAULT_DATA = Path(os.environ.get("SCIGEN_DEV_DATA", REPO.parent / "shared" / "data" / "scigenbench-dev"))


# ---------------------------------------------------------------- the server's side


def tag(messages: list[dict]) -> str:
    """Which role a request is from, by its system prompt; a repair is a planner call too."""
    system = str(messages[0].get("content", "")) if messages else ""
    if "draw figures for science textbooks" in system:
        return "planner-repair" if "previous script failed" in json.dumps(messages[-1]) else "planner"
    if "review scientific figures" in system:
        return "judge"
    if "answer questions about a scientific figure" in system:
        return "answerer"
    return "other"


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def responder(fail_first: float):
    """A capable model in each role; ``fail_first`` of the first scripts raise."""
    def respond(messages: list[dict]) -> str:
        kind, user = tag(messages), json.dumps(messages[-1].get("content"))
        if kind.startswith("planner"):
            problem = messages[-1]["content"] if isinstance(messages[-1]["content"], str) else user
            broken = kind == "planner" and _stable(problem) % 1000 < fail_first * 1000
            words = problem.split("<problem>")[-1].split()[:6]
            label = "".join(c for c in " ".join(words) if c.isalnum() or c in " =.,:()")
            return ("## Image Content\nThe setting of the problem.\n## Layout\nCentred.\n"
                    f"## Labels\n{label}\n## Drawing Considerations\nNo answer shown.\n"
                    "```python\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(4, 4))\n"
                    f"ax.plot([0, 1], [0, 1], color='black')\nax.text(0.1, 0.8, {label!r})\n"
                    + ("undefined_helper()\n" if broken else "")
                    + "ax.set_aspect('equal')\nax.axis('off')\nfig.savefig('figure.png', dpi=60)\n```")
        if kind == "judge":
            return json.dumps({"Correctness_Fidelity": 2, "Layout_Precision": 1, "Readability_Occlusion": 2,
                               "Scientific_Plausibility": 2, "Expressiveness_Richness": 1})
        if kind == "answerer":
            return "ABCD"[_stable(user) % 4]
        return "{}"
    return respond


def serve(args: argparse.Namespace) -> None:
    from scigen_dagster.devtools.openai_stub import OpenAIStub, StubConfig, lognormal_latency

    stub = OpenAIStub(StubConfig(responder=responder(args.fail_first), tag=tag,
                                 latency=lognormal_latency(args.median, args.sigma)))
    print(stub.url, flush=True)
    try:
        stub.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        Path(args.timings).write_text(json.dumps({"timings": stub.stats.timings, "requests": stub.stats.requests,
                                                  "answered": stub.stats.answered}))


# ---------------------------------------------------------------- the pipeline's side


def start_server(args: argparse.Namespace, timings: Path) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, __file__, "--serve", "--timings", str(timings), "--median", str(args.median),
           "--sigma", str(args.sigma), "--fail-first", str(args.fail_first)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        raise SystemExit(f"the server did not start (rc={proc.poll()})")
    return proc, url


def stop_server(proc: subprocess.Popen, timings: Path) -> dict:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    return json.loads(timings.read_text())


def run_graph(url: str, store: Path, data: Path, concurrency: int, work: Path) -> tuple[float, dict]:
    import dagster as dg

    from scigen_dagster.assets.partitions import FULL_RANGE_TAGS
    from scigen_dagster.definitions import build_definitions
    from scigen_dagster.registry import ModelSpec
    from scigen_dagster.resources.llm import LLMResource, RoleConfig

    corpus = work / "corpus"
    corpus.mkdir(exist_ok=True)
    (corpus / "scigen.json").write_text((data / "scigen.json").read_text())
    sources = work / "sources.yaml"
    sources.write_text(f"sources:\n  - name: scigenbench\n    kind: scigenbench\n    path: {corpus}\n")
    os.environ["SCIGEN_SOURCES"] = str(sources)
    spec = ModelSpec(name="bench_coder", kind="imgcoder", planner=PLANNER, api_base=url, concurrency=concurrency,
                     max_attempts=2)
    llm = LLMResource(judge=RoleConfig(model=JUDGE, api_base=url, temperature=0.1, concurrency=concurrency),
                      answerer=RoleConfig(model=ANSWERER, api_base=url, concurrency=concurrency))
    defs = build_definitions(models=[spec], store_root=str(store), llm=llm)
    job = defs.resolve_job_def("scigen_all")
    start = time.perf_counter()
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), tags=FULL_RANGE_TAGS)
    wall = time.perf_counter() - start
    if not result.success:
        raise SystemExit("the run failed")
    steps = {}
    for event in result.all_events:
        if event.event_type_value == "STEP_SUCCESS":
            steps[event.step_key] = round(event.event_specific_data.duration_ms / 1000, 2)
    return wall, {"steps_s": steps, "ledger": ledger_of(result)}


def ledger_of(result) -> dict:
    """Every step's llm_usage summed per role: what the run was billed."""
    roles: dict = {}
    for event in result.get_asset_materialization_events():
        usage = event.materialization.metadata.get("llm_usage")
        for role, row in ((usage.value if usage else {}).get("by_role") or {}).items():
            acc = roles.setdefault(role, {"model": row["model"], "calls": 0, "prompt_tokens": 0,
                                          "completion_tokens": 0, "cost_usd": 0.0})
            for k in ("calls", "prompt_tokens", "completion_tokens", "cost_usd"):
                acc[k] = round(acc[k] + row[k], 6)
    return roles


def batch_prices(model: str) -> tuple[float, float]:
    """(input, output) dollars per token of ``model``'s batches in litellm's price map."""
    import litellm

    info = litellm.model_cost[model.split("/", 1)[1]]
    return info["input_cost_per_token_batches"], info["output_cost_per_token_batches"]


def figures(server: dict, wall: float, concurrency: int, ledger: dict) -> dict:
    by_role: dict = {}
    for kind, arrived, answered in server["timings"]:
        role = "planner" if kind.startswith("planner") else kind
        by_role.setdefault(role, []).append((arrived, answered, kind))
    out, ideal, alone = {}, 0.0, {}
    for role in ROLES:
        calls = by_role.get(role, [])
        if not calls:
            raise SystemExit(f"the server saw no {role} call")
        mean = sum(b - a for a, b, _ in calls) / len(calls)
        active = max(b for _, b, _ in calls) - min(a for a, _, _ in calls)
        out[role] = {"calls": len(calls), "mean_latency_s": round(mean, 4), "active_s": round(active, 2),
                     "efficiency": round(len(calls) / active / (concurrency / mean), 4)}
        alone[role] = len(calls) * mean / concurrency
        ideal += alone[role]
    # The judge and inverse validation of a model are one step whose two streams run at the
    # same time, so the shortest possible run is the plans, then the longer of the two.
    critical = alone["planner"] + max(alone["judge"], alone["answerer"])
    planner_calls = by_role["planner"]
    first_share = sum(k == "planner" for _, _, k in planner_calls) / len(planner_calls)
    roles_ledger = {("planner" if r.startswith("planner:") else r): v for r, v in ledger.items()}
    interactive = sum(v["cost_usd"] for v in roles_ledger.values())
    batch = 0.0
    for role, row in roles_ledger.items():
        price_in, price_out = batch_prices(row["model"])
        at_batch = row["prompt_tokens"] * price_in + row["completion_tokens"] * price_out
        share = first_share if role == "planner" else 1.0  # repairs stay interactive
        batch += share * at_batch + (1 - share) * row["cost_usd"]
    return {"roles": out, "ideal_s": round(ideal, 2), "wall_s": round(wall, 2),
            "run_efficiency": round(ideal / wall, 4),
            "critical_path_ideal_s": round(critical, 2),
            "run_efficiency_critical_path": round(critical / wall, 4),
            "cost_usd": {"interactive": round(interactive, 6), "batch_mode": round(batch, 6),
                         "by_role_interactive": {r: v["cost_usd"] for r, v in roles_ledger.items()},
                         "note": "batch_mode: the same tokens at litellm's batch prices for judge, answerer "
                                 "and first plans (repairs interactive)"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--median", type=float, default=1.0, help="median latency of a call, seconds")
    parser.add_argument("--sigma", type=float, default=0.6, help="sigma of the lognormal latency")
    parser.add_argument("--concurrency", type=int, default=8, help="calls in flight per role")
    parser.add_argument("--fail-first", type=float, default=0.2, help="share of first scripts that raise")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the SciGenBench dev split folder")
    parser.add_argument("--store", type=Path, default=None, help="keep the store here (default: a temp folder)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--timings", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args)
    if not (args.data / "scigen.json").exists():
        raise SystemExit(f"no scigen.json under {args.data}; pass --data (the SciGenBench dev split)")
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or Path(tmp) / "store"
        store.mkdir(parents=True, exist_ok=True)
        timings = Path(tmp) / "timings.json"
        proc, url = start_server(args, timings)
        try:
            wall, run = run_graph(url, store, args.data, args.concurrency, Path(tmp))
        finally:
            server = stop_server(proc, timings)
    line = {"median_s": args.median, "sigma": args.sigma, "concurrency": args.concurrency,
            "fail_first": args.fail_first, **figures(server, wall, args.concurrency, run["ledger"]),
            "steps_s": run["steps_s"]}
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
