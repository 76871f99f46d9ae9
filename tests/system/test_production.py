"""The production profile: a real PostgreSQL server and a Dask cluster.

The server is started from the Debian binaries on loopback with its data in a temporary
folder, and stopped at the end. A run of three partitions is executed by the Dagster CLI
(as a run worker would) against the instance of deploy/production/dagster.yaml, with its
steps submitted to a Dask cluster started by the test, so the test can ask each worker for
its process id and compare it with the process ids recorded in the step events.

Without PostgreSQL the tests skip, unless SCIGEN_REQUIRE_SERVICES is set (CI sets it):
then a missing server is a failure.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from scigen_dagster import taxonomy

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "deploy" / "production" / "dagster.yaml"
PARTITIONS = list(taxonomy.PARTITION_KEYS[:3])

pytestmark = pytest.mark.slow


def _service_missing(message: str) -> None:
    if os.environ.get("SCIGEN_REQUIRE_SERVICES"):
        pytest.fail(f"{message} (SCIGEN_REQUIRE_SERVICES is set, so this is a failure)")
    pytest.skip(message)


def _pg_bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A throwaway PostgreSQL cluster on 127.0.0.1, run by the `postgres` user when we are root."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="scigen-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user, self.db = "scigen", "scigen"
        self.password = secrets.token_urlsafe(18)
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *args], input=stdin, capture_output=True, text=True, timeout=60,
                              cwd=self.root, check=True)

    def start(self) -> None:
        b = self.bindir
        # Local (socket) connections by the cluster owner only; TCP needs a password.
        self._run(str(b / "initdb"), "-D", str(self.data), "-E", "UTF8", "--locale=C",
                  "--auth-local=peer", "--auth-host=scram-sha-256")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        self._run(str(b / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"),
                  "-w", "-t", "60", "start")
        # The password travels on stdin, never on a command line.
        sql = (f"CREATE ROLE {self.user} LOGIN PASSWORD '{self.password}';\n"
               f"CREATE DATABASE {self.db} OWNER {self.user};\n")
        self._run(str(b / "psql"), "-v", "ON_ERROR_STOP=1", "-q", "-h", str(self.root), "-p", str(self.port),
                  "-d", "postgres", stdin=sql)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                            "stop"], capture_output=True, timeout=60, cwd=self.root)
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def env(self) -> dict[str, str]:
        return {"SCIGEN_PG_HOST": "127.0.0.1", "SCIGEN_PG_PORT": str(self.port), "SCIGEN_PG_USER": self.user,
                "SCIGEN_PG_PASSWORD": self.password, "SCIGEN_PG_DB": self.db}

    def connect(self):
        import psycopg2

        return psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user, password=self.password,
                                dbname=self.db)


@pytest.fixture(scope="module")
def postgres():
    bindir = _pg_bindir()
    if bindir is None:
        _service_missing("PostgreSQL server binaries not found (Debian package `postgresql`)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _service_missing("running as root needs `runuser` to start PostgreSQL as the postgres user")
    server = Postgres(bindir)
    try:
        server.start()
    except subprocess.CalledProcessError as e:
        server.stop()
        pytest.fail(f"PostgreSQL did not start: {e.stderr}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def production(postgres, tmp_path_factory):
    """DAGSTER_HOME with the production dagster.yaml, a store and the environment of a worker."""
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(PROFILE, home / "dagster.yaml")
    store = tmp_path_factory.mktemp("store")
    env = {**postgres.env, "DAGSTER_HOME": str(home), "SCIGEN_STORE": str(store), "SCIGEN_EXECUTOR": "dask"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield {"home": home, "store": store, "env": env}
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_production_instance_stores_everything_in_postgres(production):
    import dagster as dg
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    with dg.DagsterInstance.from_config(str(production["home"])) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert not instance.telemetry_enabled
    text = PROFILE.read_text()
    assert "SCIGEN_PG_PASSWORD" in text and production["env"]["SCIGEN_PG_PASSWORD"] not in text


def test_partitions_run_on_dask_workers_with_records_in_postgres(production, postgres):
    import dagster as dg
    from dask.distributed import Client, LocalCluster

    env = production["env"]
    # The workers inherit this process's environment (DAGSTER_HOME, SCIGEN_*), as the
    # workers of a real cluster get theirs from their deployment.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        worker_pids = set(client.run(os.getpid).values())
        assert len(worker_pids) == 2 and os.getpid() not in worker_pids
        tags = {"dagster/asset_partition_range_start": PARTITIONS[0],
                "dagster/asset_partition_range_end": PARTITIONS[-1], "scigen/trigger": "test-production"}
        started = time.monotonic()
        cli = subprocess.run(
            [str(Path(sys.executable).parent / "dagster"), "job", "execute", "-m", "scigen_dagster.definitions",
             "-j", "scigen_all", "--tags", json.dumps(tags)],
            env={**os.environ, **env, "SCIGEN_DASK_SCHEDULER": cluster.scheduler_address},
            capture_output=True, text=True, timeout=300, cwd=REPO,
        )
        elapsed = time.monotonic() - started
        output = cli.stdout + cli.stderr
        assert cli.returncode == 0, output[-4000:]
    assert env["SCIGEN_PG_PASSWORD"] not in output, "the password must never reach the logs"

    with dg.DagsterInstance.from_config(str(production["home"])) as instance:
        runs = instance.get_runs(dg.RunsFilter(tags={"scigen/trigger": "test-production"}))
        assert len(runs) == 1
        run = runs[0]
        assert run.status == dg.DagsterRunStatus.SUCCESS, output[-4000:]
        records = instance.all_logs(run.run_id)
    events = [r.dagster_event for r in records if r.dagster_event is not None]
    orchestrator = {e.pid for e in events if e.event_type_value == "RUN_START"}
    step_pids = {e.step_key: e.pid for e in events if e.event_type_value == "STEP_START"}
    succeeded = {e.step_key for e in events if e.event_type_value == "STEP_SUCCESS"}
    assert "imgcoder_rules_images" in step_pids and "leaderboard" in step_pids
    assert succeeded == set(step_pids), "every started step succeeded"
    # The steps ran in the Dask worker processes: neither in the run's own process nor here.
    assert set(step_pids.values()) <= worker_pids, (step_pids, worker_pids)
    assert not orchestrator & set(step_pids.values()) and os.getpid() not in step_pids.values()

    # The same records, read straight from PostgreSQL.
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT status FROM runs WHERE run_id = %s", (run.run_id,))
        assert cur.fetchone() == ("SUCCESS",)
        cur.execute("SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'STEP_SUCCESS'",
                    (run.run_id,))
        assert cur.fetchone()[0] == len(succeeded)
        cur.execute("SELECT DISTINCT partition FROM event_logs WHERE run_id = %s AND asset_key = %s "
                    "AND dagster_event_type = 'ASSET_MATERIALIZATION'", (run.run_id, '["benchmark_items"]'))
        assert sorted(r[0] for r in cur.fetchall()) == sorted(PARTITIONS)
        cur.execute("SELECT count(*) FROM event_logs WHERE event LIKE %s", (f"%{env['SCIGEN_PG_PASSWORD']}%",))
        assert cur.fetchone()[0] == 0
    conn.close()
    # The outputs landed in the store the workers were given.
    for key in PARTITIONS:
        assert list((production["store"] / "tables" / "benchmark_items").glob(f"{key}*")), key
    print(f"dask run of {len(PARTITIONS)} partitions: {elapsed:.1f} s, {len(step_pids)} steps "
          f"on {len(set(step_pids.values()))} worker(s)")


def test_executor_is_chosen_by_the_environment(monkeypatch):
    from scigen_dagster import definitions
    from scigen_dagster.executors import dask_executor

    monkeypatch.delenv("SCIGEN_EXECUTOR", raising=False)
    assert definitions.executor_from_env().name == "in_process", "unset: steps run in the run's process"
    monkeypatch.setenv("SCIGEN_EXECUTOR", "in_process")
    assert definitions.executor_from_env().name == "in_process"
    monkeypatch.setenv("SCIGEN_EXECUTOR", "multiprocess")
    monkeypatch.setenv("SCIGEN_WORKERS", "3")
    assert definitions.executor_from_env().name == "multiprocess"
    monkeypatch.setenv("SCIGEN_EXECUTOR", "dask")
    monkeypatch.delenv("SCIGEN_DASK_SCHEDULER", raising=False)
    local = definitions.executor_from_env()
    assert local.name == dask_executor.name
    monkeypatch.setenv("SCIGEN_DASK_SCHEDULER", "tcp://scheduler:8786")
    existing = definitions.executor_from_env()
    assert existing.name == dask_executor.name and existing is not local
    monkeypatch.setenv("SCIGEN_EXECUTOR", "celery")
    with pytest.raises(ValueError, match="SCIGEN_EXECUTOR"):
        definitions.executor_from_env()
    monkeypatch.setenv("SCIGEN_EXECUTOR", "multiprocess")
    monkeypatch.setenv("SCIGEN_WORKERS", "two")
    with pytest.raises(ValueError, match="SCIGEN_WORKERS='two'.*positive whole number"):
        definitions.executor_from_env()
