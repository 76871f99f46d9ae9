"""The 25 (subject, image type) partitions of the per-item assets, as Dagster sees them."""

from __future__ import annotations

import dagster as dg

from scigen_dagster import taxonomy

image_type_partitions = dg.StaticPartitionsDefinition(list(taxonomy.PARTITION_KEYS))

# Tags that make one run cover every partition: partitioned assets declare a single-run
# backfill policy, so each step sees the whole range and loads its model once.
FULL_RANGE_TAGS = {
    "dagster/asset_partition_range_start": taxonomy.PARTITION_KEYS[0],
    "dagster/asset_partition_range_end": taxonomy.PARTITION_KEYS[-1],
}


def partition_keys(context: dg.AssetExecutionContext) -> list[str]:
    # A single-run backfill hands one run a range of partitions; a normal run, one.
    return list(context.partition_keys)
