"""Sensors: changed corpus files (when a file of a configured source appears or changes,
one run rebuilds the graph over every partition; fingerprints make that run recompute
only what the new rows touch), and finished provider batches (batch mode)."""

from __future__ import annotations

import dagster as dg

from scigen_dagster import taxonomy
from scigen_dagster.assets.partitions import FULL_RANGE_TAGS
from scigen_dagster.fingerprints import fingerprint
from scigen_dagster.generation.imgcoder import OFFLINE_PLANNER
from scigen_dagster.generation.planner import planner_role
from scigen_dagster.llm.batch import poll_now
from scigen_dagster.problems.sources import source_files
from scigen_dagster.registry import ModelSpec
from scigen_dagster.resources.corpus import CorpusResource
from scigen_dagster.resources.llm import LLMResource


def partition_range_tags(partitions: list) -> dict[str, str]:
    """The tags of one run over the partition range that covers ``partitions`` (the
    partitions in between are reused by fingerprint)."""
    order = sorted(taxonomy.PARTITION_KEYS.index(p) for p in partitions)
    return {"dagster/asset_partition_range_start": taxonomy.PARTITION_KEYS[order[0]],
            "dagster/asset_partition_range_end": taxonomy.PARTITION_KEYS[order[-1]]}


def corpus_files_sensor(job: dg.UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
               description=("Watches the files of the configured corpus sources (SCIGEN_SOURCES) and requests "
                            "one run over every partition when one is added or changed; fingerprints make that "
                            "run recompute only what the new rows touch. Off until turned on."))
    def corpus_files_changed(context: dg.SensorEvaluationContext, corpus_sources: CorpusResource):
        """Rebuild when a corpus file of a configured source is added or changed."""
        files = source_files(corpus_sources.config())
        signature = fingerprint([(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files])
        if context.cursor == signature:
            return dg.SkipReason(f"none of {len(files)} corpus files changed")
        context.update_cursor(signature)
        if not files:
            return dg.SkipReason("the configured sources read no files (embedded sample only)")
        return dg.RunRequest(run_key=signature, tags=FULL_RANGE_TAGS | {"scigen/trigger": "corpus-files"})

    return corpus_files_changed


def llm_batches_sensor(job: dg.UnresolvedAssetJobDefinition, models: list[ModelSpec]) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
               description=("Batch mode: polls the provider batches that steps submitted (the store's batch "
                            "tables); when one finishes, its replies go into the response cache at the batch "
                            "price and the step waiting for them is requested over its partitions, which then "
                            "runs from the cache. Failed or expired requests go into the next batch. Nothing "
                            "to do, and no call made, while no batch is in flight."))
    def llm_batches(context: dg.SensorEvaluationContext, llm: LLMResource):
        """Ingest finished batches and request the steps that wait for them."""
        client = llm.client()
        if client.batches is None or not (live := client.batches.store.live_batches()):
            return dg.SkipReason("no batch in flight")
        for spec in models:  # a planner's batches are polled with its own endpoint and key
            if spec.batch and spec.planner != OFFLINE_PLANNER:
                llm.client_with(planner_role(spec), spec.planner_settings())
        finished = poll_now(client)
        if not finished:
            return dg.SkipReason(f"{len(live)} batches in flight, none finished")
        requests = []
        for batch in finished:
            context.log.info(f"batch {batch['batch_id']} ({batch['role']}, {batch['model']}): {batch['state']}, "
                             f"{batch['counts']}; requesting {batch['asset']} over {len(batch['partitions'])} partitions")
            requests.append(dg.RunRequest(
                run_key=f"llm-batch:{batch['batch_id']}", asset_selection=[dg.AssetKey.from_user_string(batch["asset"])],
                tags=partition_range_tags(batch["partitions"]) | {"scigen/trigger": f"llm-batch:{batch['batch_id']}"}))
        return requests

    return llm_batches
