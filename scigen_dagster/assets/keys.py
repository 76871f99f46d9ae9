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

# Per-model families: one asset per registry model and family, e.g. imgcoder_rules_images.
IMAGES = "images"
JUDGE = "judge_scores"
IV = "iv_results"
REFERENCE = "reference_metrics"
REFERENCE_SUMMARY = "reference_summary"  # a table of reference_metrics, not an asset of its own
EVALUATIONS = (JUDGE, IV)
PER_ITEM = (IMAGES, JUDGE, IV)  # the per-partition tables of every model


def model_table(family: str, model: str) -> str:
    """The stored table of one model's family, e.g. ``images/tiny_sd`` (under ``tables/``)."""
    return f"{family}/{model}"


def model_key(family: str, model: str) -> dg.AssetKey:
    """One name that reads on its own in the lineage graph (which shows a key's last part):
    ``imgcoder_rules_images``, ``tiny_sd_judge_scores``."""
    return dg.AssetKey(f"{model}_{family}")


def model_group(model: str) -> str:
    """Each model's chain (images, judge scores, inverse validation, reference metrics) in
    one group, so the graph shows the models side by side."""
    return f"model_{model}"

OWNERS = ["team:scigen"]  # every asset's owner in the UI
