"""The nightly re-evaluation: judge and inverse validation for every partition and model.

One run per partition, tagged with its subject and image type, so a failure names its
slice and the runs view filters by subject. An unchanged night costs nothing: every
table's fingerprint matches and is reused, and a model call that was paid for is served
from the response cache.
"""

from __future__ import annotations

import dagster as dg

from scigen_dagster import taxonomy
from scigen_dagster.assets import keys
from scigen_dagster.assets.partitions import image_type_partitions
from scigen_dagster.registry import ModelSpec

NIGHTLY_CRON = "0 2 * * *"


def evaluation_job(models: list[ModelSpec]) -> dg.UnresolvedAssetJobDefinition:
    selection = dg.AssetSelection.assets(
        *[keys.model_key(family, m.name) for m in models for family in keys.EVALUATIONS]
    )
    return dg.define_asset_job(
        "nightly_evaluation", selection=selection, partitions_def=image_type_partitions,
        description="Judge scores and inverse validation of every model, one run per image type.",
    )


def nightly_schedule(job: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    @dg.schedule(cron_schedule=NIGHTLY_CRON, job=job, execution_timezone="UTC",
                 default_status=dg.DefaultScheduleStatus.STOPPED,
                 description=("Every night at 02:00 UTC: one run per (subject, image type) partition of the "
                              "judge scores and inverse validation of every model, tagged with the subject and "
                              "image type it evaluates. Unchanged tables are reused and paid replies come from "
                              "the cache, so an unchanged night costs nothing. Off until turned on."))
    def nightly_evaluation_schedule(context: dg.ScheduleEvaluationContext):
        """Re-evaluate every (subject, image type) partition of every model each night."""
        night = context.scheduled_execution_time.strftime("%Y-%m-%d")
        for image_type in taxonomy.IMAGE_TYPES:
            yield dg.RunRequest(
                run_key=f"{night}:{image_type.key}",
                partition_key=image_type.key,
                tags={"scigen/subject": image_type.subject, "scigen/image_type": image_type.label,
                      "scigen/partition": image_type.key, "scigen/trigger": "nightly"},
            )

    return nightly_evaluation_schedule
