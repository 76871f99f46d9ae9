"""`make demo`: materialize every asset, every partition and every registry model in one
run on the embedded default, then print the leaderboard and where the outputs are.

It uses the DAGSTER_HOME of the project (set by the Makefile), so what the demo
materialized is what `make ui` shows, with lineage and metadata; the run carries the tag
by which the UI lists a job's runs, so it appears under `scigen_all` in its code location.
The terminal shows what a person reads: one progress line per long step, each step's
summary, warnings once, the leaderboard and the paths; Dagster's DEBUG events stay in the
run's event log.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings

import dagster as dg

from scigen_dagster.assets.partitions import FULL_RANGE_TAGS
from scigen_dagster.definitions import defs
from scigen_dagster.reporting.report import REPORT_HTML, REPORT_MD

CODE_LOCATION = "scigen_dagster"  # workspace.yaml's location_name
# The hidden tag the UI filters a job's runs by ("<repository>@<code location>"); a run
# launched from the UI gets it from its origin, an in-process run must be given it.
REPOSITORY_TAG = {".dagster/repository": f"__repository__@{CODE_LOCATION}"}
CONSOLE_INFO = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def quiet_libraries() -> None:
    """Third-party chatter (progress bars, load reports, deprecation notes) is not news."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    for name in ("transformers", "diffusers", "accelerate", "sentence_transformers", "RapidOCR", "httpx", "LiteLLM"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:  # its own verbosity switch, read when the library loads
        import transformers

        transformers.logging.set_verbosity_error()
    except ImportError:
        pass
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("once")


def main() -> int:
    quiet_libraries()
    start = time.perf_counter()
    instance = dg.DagsterInstance.get()
    job = defs.resolve_job_def("scigen_all")
    result = job.execute_in_process(
        instance=instance, run_config=CONSOLE_INFO,
        tags=FULL_RANGE_TAGS | REPOSITORY_TAG | {"scigen/trigger": "make-demo"})
    elapsed = time.perf_counter() - start
    if not result.success:
        print("demo run failed; see the run's logs with `make ui`", file=sys.stderr)
        return 1
    storage = defs.resources["storage"]
    print(storage.read_bytes(REPORT_MD).decode())
    events = result.get_asset_materialization_events()
    print(f"materialized {len(events)} asset partitions in {elapsed:.1f} s (run {result.run_id})")
    print(f"leaderboard report (HTML):  {storage.path(REPORT_HTML)}")
    print(f"fine-tuning exports:        {storage.path('tables/exports/')}")
    print(f"tables, images and exports: {storage.path('')}")
    print(f"Dagster instance:           {instance.root_directory}  (browse it with `make ui`)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
