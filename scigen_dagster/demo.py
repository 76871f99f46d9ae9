"""`make demo`: materialize every asset, every partition and every registry model in one
run on the embedded default, then print the leaderboard and where the outputs are.

It uses the DAGSTER_HOME of the project (set by the Makefile), so what the demo
materialized is what `make ui` shows, with lineage and metadata.
"""

from __future__ import annotations

import sys
import time

import dagster as dg

from scigen_dagster.assets.partitions import FULL_RANGE_TAGS
from scigen_dagster.definitions import defs
from scigen_dagster.reporting.report import REPORT_MD


def main() -> int:
    start = time.perf_counter()
    instance = dg.DagsterInstance.get()
    job = defs.resolve_job_def("scigen_all")
    result = job.execute_in_process(instance=instance, tags=FULL_RANGE_TAGS | {"scigen/trigger": "make-demo"})
    elapsed = time.perf_counter() - start
    if not result.success:
        print("demo run failed; see the run's logs with `make ui`", file=sys.stderr)
        return 1
    storage = defs.resources["storage"]
    print(storage.read_bytes(REPORT_MD).decode())
    events = result.get_asset_materialization_events()
    print(f"materialized {len(events)} asset partitions in {elapsed:.1f} s (run {result.run_id})")
    print(f"tables, images and exports: {storage.path('')}")
    print(f"leaderboard report:         {storage.path(REPORT_MD)}")
    print(f"fine-tuning exports:        {storage.path('tables/exports/')}")
    print(f"Dagster instance:           {instance.root_directory}  (browse it with `make ui`)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
