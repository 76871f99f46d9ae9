"""How long a UI-launched run of one unchanged partition takes, and where the time goes.

    .venv/bin/python benchmarks/bench_ui_run.py [--runs 2] [--partition physics.circuit] [--home DIR --store DIR]

Materializes the partition once in process (the demo's way; skipped when --home/--store
already hold it), starts `dagster dev` on the project's workspace, launches the job
`scigen_all` for the partition through GraphQL `launchRun` exactly as the UI's button does
(the instance's queued run coordinator, the daemon, the default run launcher: one new
process per run), waits for it, and reads the run's own event log for the phases:

- queued: launchRun until the daemon dequeues the run;
- process_start: the run's process started and loaded the code location (RUN_STARTING to RUN_START);
- resources: RUN_START until the first step starts (the run's resources: the sandbox pool, engines);
- steps: first STEP_START to last step end, with the slowest steps by name;
- finish: last step end to RUN_SUCCESS;
- wall: launchRun until GraphQL reports SUCCESS (what tests/system/test_ui_browser.py times).

The LAST stdout line is JSON: {"partition", "runs": [{"wall_s", "phases_s", "slowest_steps"}...]}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

MATERIALIZE = (
    "import dagster as dg\n"
    "from scigen_dagster.definitions import defs\n"
    "from scigen_dagster.demo import CONSOLE_INFO, REPOSITORY_TAG\n"
    "result = defs.resolve_job_def('scigen_all').execute_in_process(\n"
    "    instance=dg.DagsterInstance.get(), partition_key={partition!r}, run_config=CONSOLE_INFO,\n"
    "    tags=REPOSITORY_TAG)\n"
    "assert result.success\n"
)
LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
STATUS = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""
EVENTS = """query($id: ID!, $after: String) { logsForRun(runId: $id, afterCursor: $after) {
  ... on EventConnection { cursor hasMore events { __typename ... on MessageEvent { timestamp message stepKey } } } } }"""


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    body = {"query": query} | ({"variables": variables} if variables else {})
    request = urllib.request.Request(f"{url}/graphql", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def own_session() -> None:
    # Its own process group for the whole tree, and SIGINT (which stops dagster dev) restored:
    # a background job of a non-interactive shell starts with it ignored.
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_events(url: str, run_id: str) -> list[dict]:
    events, cursor = [], None
    while True:
        page = graphql(url, EVENTS, {"id": run_id, "after": cursor})["data"]["logsForRun"]
        events += page["events"]
        cursor = page["cursor"]
        if not page["hasMore"]:
            return events


def phases(events: list[dict], launched_at: float) -> tuple[dict, list]:
    at = lambda kind: [float(e["timestamp"]) / 1000 for e in events if e["__typename"] == kind]  # noqa: E731
    dequeued = (at("RunDequeuedEvent") or at("RunStartingEvent"))[0]
    starting, started, done = at("RunStartingEvent")[0], at("RunStartEvent")[0], at("RunSuccessEvent")[0]
    step_start = {e["stepKey"]: float(e["timestamp"]) / 1000 for e in events if e["__typename"] == "ExecutionStepStartEvent"}
    step_end = {e["stepKey"]: float(e["timestamp"]) / 1000 for e in events
                if e["__typename"] in ("ExecutionStepSuccessEvent", "ExecutionStepFailureEvent", "ExecutionStepSkippedEvent")}
    first, last = min(step_start.values()), max(step_end.values())
    durations = sorted(((k, round(step_end[k] - t, 2)) for k, t in step_start.items() if k in step_end),
                       key=lambda kv: -kv[1])
    return {"queued": round(dequeued - launched_at, 2), "dequeued_to_starting": round(starting - dequeued, 2),
            "process_start": round(started - starting, 2), "resources": round(first - started, 2),
            "steps": round(last - first, 2), "steps_sum": round(sum(d for _, d in durations), 2),
            "finish": round(done - last, 2), "n_steps": len(durations)}, durations[:8]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--partition", default="physics.circuit")
    ap.add_argument("--home", type=Path, help="a DAGSTER_HOME that already holds the partition's run")
    ap.add_argument("--store", type=Path, help="the store that run wrote")
    args = ap.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    print(f"scratch folder (home, store, dagster dev log): {scratch}", flush=True)
    home, store = args.home or scratch / "home", args.store or scratch / "store"
    env = {**os.environ, "DAGSTER_HOME": str(home), "SCIGEN_STORE": str(store), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True", "MPLBACKEND": "Agg"}
    for name in ("SCIGEN_EXECUTOR", "SCIGEN_DASK_SCHEDULER", "SCIGEN_MODELS"):
        env.pop(name, None)
    if args.home is None:
        home.mkdir(parents=True)
        shutil.copy(REPO / "deploy" / "local" / "dagster.yaml", home / "dagster.yaml")
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-c", MATERIALIZE.format(partition=args.partition)], cwd=REPO, env=env,
                       check=True, timeout=1800, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"first materialization of {args.partition}: {time.monotonic() - t0:.1f} s", flush=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(scratch / "dagster-dev.log", "w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "dagster"), "dev", "-w", "workspace.yaml", "-h",
                             "127.0.0.1", "-p", str(port)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=own_session)
    results = []
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if graphql(url, "{ version }").get("data", {}).get("version"):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"dagster dev did not answer: {(scratch / 'dagster-dev.log').read_text()[-2000:]}")
            time.sleep(0.5)
        params = {"selector": {"repositoryLocationName": "scigen_dagster", "repositoryName": "__repository__",
                               "jobName": "scigen_all"}, "runConfigData": {}, "mode": "default",
                  "executionMetadata": {"tags": [{"key": "dagster/partition", "value": args.partition}]}}
        for _ in range(args.runs):
            launched_at, start = time.time(), time.monotonic()
            launched = graphql(url, LAUNCH, {"params": params})["data"]["launchRun"]
            assert launched["__typename"] == "LaunchRunSuccess", launched
            run_id, status = launched["run"]["runId"], None
            while time.monotonic() - start < 600:
                status = graphql(url, STATUS, {"id": run_id})["data"]["runOrError"].get("status")
                if status in ("SUCCESS", "FAILURE", "CANCELED"):
                    break
                time.sleep(0.25)
            wall = round(time.monotonic() - start, 2)
            assert status == "SUCCESS", f"run {run_id}: {status}"
            phase, slowest = phases(run_events(url, run_id), launched_at)
            print(f"run {run_id}: {wall} s; {phase}", flush=True)
            results.append({"run_id": run_id, "wall_s": wall, "phases_s": phase, "slowest_steps": slowest})
            time.sleep(5)  # the previous run's process closes its sandbox pool
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    print(json.dumps({"partition": args.partition, "load_avg_1m": round(os.getloadavg()[0], 2), "runs": results}))


if __name__ == "__main__":
    main()
