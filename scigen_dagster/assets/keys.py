"""Every asset key of the graph, defined once; a table is stored under its key's path."""

from __future__ import annotations

import dagster as dg

CORPUS = "corpus"
QUARANTINE = "corpus_quarantine"
VISUALIZABLE = "visualizable_problems"
LABELS = "taxonomy_labels"
ITEMS = "benchmark_items"
LEADERBOARD = "leaderboard"
FINETUNE = "finetune_datasets"

# Per-model families: one asset per registry model, e.g. images/imgcoder_rules.
IMAGES = "images"
JUDGE = "judge_scores"
IV = "iv_results"
REFERENCE = "reference_metrics"
REFERENCE_SUMMARY = "reference_summary"  # a table of reference_metrics, not an asset of its own
EVALUATIONS = (JUDGE, IV)
PER_ITEM = (IMAGES, JUDGE, IV)  # the per-partition tables of every model


def model_table(family: str, model: str) -> str:
    """The stored table (and asset path) of one model's family, e.g. ``images/tiny_sd``."""
    return f"{family}/{model}"


def model_key(family: str, model: str) -> dg.AssetKey:
    return dg.AssetKey([family, model])

OWNERS = ["team:scigen"]  # every asset's owner in the UI
