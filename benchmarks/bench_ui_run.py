"""How long a UI-launched run of one unchanged partition takes, and where the time goes.

    .venv/bin/python benchmarks/bench_ui_run.py [--runs 2] [--partition physics.circuit] [--home DIR --store DIR]

Materializes the partition once in process (the demo's way; skipped when --home/--store
already hold it), starts `dagster dev` on the project's workspace, launches the job
`scigen_all` for the partition through GraphQL `launchRun` exactly as the UI's button does
(the instance's queued run coordinator, the daemon, the default run launcher: one new
process per run), waits for it, and reads the run's own event log for the phases:

- planning: launchRun until the run is enqueued (the webserver writes one "planned" event per
  asset and check);
- queued: enqueued until the daemon starts it (dequeue_interval_seconds in dagster.yaml);
- process_spawn: until the run's own process is up (the code server spawns it);
- code_load: until that process has loaded the code location and starts the run;
- resources: until the first step starts (the run's resources);
- steps: first step start to last step end, split into asset steps and asset-check steps
  (each check is a step of its own), with the slowest steps by name;
- finish: last step end to RUN_SUCCESS;
- wall: launchRun until GraphQL reports SUCCESS (what tests/system/test_ui_browser.py times).

The LAST stdout line is JSON: {"partition", "load_avg_1m", "cpus", "goal_s", "best_wall_s",
"goal_met", "runs": [{"wall_s", "phases_s", "slowest_steps"}...]}. Other work on the machine
shows in every phase: "load_avg_1m" says how busy it was.
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
GOAL_S = 30  # issue 16: a UI run of one unchanged partition finishes in under 30 s

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
# Step keys of the asset checks (scigen_dagster/assets/checks.py): each check is a step of its own.
CHECK_SUFFIXES = ("schema", "execution_success_rate", "judge_failure_rate", "quarantine_explained", "exports_are_clean")


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


def phases(home: Path, run_id: str, launched_at: float) -> tuple[dict, list]:
    """The run's phases from its own event log (read from the instance after the run)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = [r for r in instance.all_logs(run_id) if r.dagster_event is not None]
    first = lambda kind: next(r.timestamp for r in records if r.dagster_event.event_type_value == kind)  # noqa: E731
    enqueued, starting, started, done = (first(k) for k in ("PIPELINE_ENQUEUED", "PIPELINE_STARTING",
                                                             "PIPELINE_START", "PIPELINE_SUCCESS"))
    # The run worker's first engine event ("Started process for run") marks its process as up.
    spawned = next(r.timestamp for r in records if r.dagster_event.event_type_value == "ENGINE_EVENT"
                   and starting <= r.timestamp <= started)
    step_start, durations = {}, []
    for r in records:
        kind, key = r.dagster_event.event_type_value, r.dagster_event.step_key
        if kind == "STEP_START":
            step_start[key] = r.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED") and key in step_start:
            durations.append((key, round(r.timestamp - step_start[key], 2)))
    first_step, last_step = min(step_start.values()), max(r.timestamp for r in records
                                                           if r.dagster_event.event_type_value == "STEP_SUCCESS")
    checks = {k for k, _ in durations if any(k.endswith(f"_{c}") for c in CHECK_SUFFIXES)}
    durations.sort(key=lambda kv: -kv[1])
    return {"planning": round(enqueued - launched_at, 2), "queued": round(starting - enqueued, 2),
            "process_spawn": round(spawned - starting, 2), "code_load": round(started - spawned, 2),
            "resources": round(first_step - started, 2), "steps": round(last_step - first_step, 2),
            "asset_steps_sum": round(sum(d for k, d in durations if k not in checks), 2),
            "check_steps_sum": round(sum(d for k, d in durations if k in checks), 2),
            "finish": round(done - last_step, 2), "n_steps": len(durations), "n_check_steps": len(checks)}, durations[:8]


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
            phase, slowest = phases(home, run_id, launched_at)
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
    walls = [r["wall_s"] for r in results]
    print(json.dumps({"partition": args.partition, "load_avg_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
                      "goal_s": GOAL_S, "best_wall_s": min(walls), "goal_met": min(walls) < GOAL_S, "runs": results}))


if __name__ == "__main__":
    main()
