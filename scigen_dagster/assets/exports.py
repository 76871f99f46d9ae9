"""The fine-tuning exports: per model and hybrid VeRL / HF parquet sets, with scaling
subsets and a dataset card. The steps are in :mod:`scigen_dagster.exports`."""

import dagster as dg
import pandas as pd

from scigen_dagster import prompts, taxonomy
from scigen_dagster.assets import keys
from scigen_dagster.assets.steps import run_step
from scigen_dagster.exports import selection, writer
from scigen_dagster.registry import ModelSpec


class FinetuneConfig(dg.Config):
    """Which verified figures go into the training sets, and how they are cut."""

    require_faithful: bool = True  # every inverse-validation quiz answered right
    min_judge_mean: float = 1.0  # over the judge dimensions that were measured
    data_source: str = "scigen_dagster"
    # A figure that only offline proxies checked (no rubric judge, the OCR lookup for
    # inverse validation) is not verified training data; True exports it, labelled so.
    export_offline_verified: bool = False
    hybrid: bool = True  # also export the best model per image type (by R_inv) as one set
    subset_count: int = 5  # log-spaced nested subsets for data-scaling studies
    subset_min: int = 8
    subset_seed: int = 0


def finetune_asset(specs: list[ModelSpec]) -> dg.AssetsDefinition:
    deps = [keys.LEADERBOARD, keys.ITEMS] + [keys.model_key(f, s.name) for s in specs for f in keys.PER_ITEM]
    exported = [s for s in specs if s.model_kind.exported]

    @dg.asset(
        deps=deps,
        group_name="export",
        kinds={"parquet"},
        owners=keys.OWNERS,
        required_resource_keys={"storage"},
    )
    def finetune_datasets(context: dg.AssetExecutionContext, config: FinetuneConfig) -> dg.MaterializeResult:
        """Verified figures filtered by judge and inverse-validation thresholds (each row and the
        manifest say what verified it; rows only offline proxies checked are left out unless
        ``export_offline_verified``), per model and
        as a hybrid set (best model per image type by R_inv), exported as VeRL parquet
        (data_source, prompt as chat messages, images, ability, reward_model, extra_info) and
        HF-datasets-compatible parquet, with nested log-spaced subsets for data-scaling
        studies and a dataset card (README.md + manifest.json)."""
        storage = context.resources.storage
        items = storage.read_partitions(keys.ITEMS, taxonomy.PARTITION_KEYS).drop(columns="partition")
        selections, candidates, tables = {}, {}, []
        for spec in exported:
            model_tables = {f: storage.read_partitions(keys.model_table(f, spec.name), taxonomy.PARTITION_KEYS)
                            for f in keys.PER_ITEM}
            tables.append(model_tables)
            step = run_step(
                context, storage, f"finetune_selection/{spec.name}", [None], selection.select_for_training,
                inputs=lambda _, spec=spec: [(keys.model_table(f, spec.name), k)
                                             for f in keys.PER_ITEM for k in taxonomy.PARTITION_KEYS],
                arguments=lambda _, t=model_tables: {"items": items, "tables": t,
                                                     "require_faithful": config.require_faithful,
                                                     "min_judge_mean": config.min_judge_mean,
                                                     "export_offline_verified": config.export_offline_verified},
                config=config.model_dump(),
            )
            selections[spec.name] = step.frame
            candidates[spec.name] = len(model_tables[keys.IMAGES])
        exports, choice = writer.write_exports(
            storage, exported, selections, candidates, tables, storage.read_table(keys.LEADERBOARD),
            config.model_dump(), {p: prompts.load(p).sha256 for p in prompts.names()})
        table = pd.DataFrame([{"export": n, "rows": e["rows"],
                               "subsets": ", ".join(str(s["rows"]) for s in e["subsets"]) or "-",
                               "verl": e["files"].get("verl", {}).get("path", "none (nothing verified)"),
                               "hf": e["files"].get("hf", {}).get("path", "none (nothing verified)")}
                              for n, e in exports.items()])
        return dg.MaterializeResult(metadata={
            "dagster/row_count": int(table["rows"].sum()) if len(table) else 0,
            "exports": dg.MetadataValue.md(table.to_markdown(index=False) if len(table) else "_none_"),
            "hybrid_choice": dg.MetadataValue.md(choice.to_markdown(index=False) if len(choice) else "_not built_"),
            "thresholds": dg.MetadataValue.json(config.model_dump()),
            "verified_by": dg.MetadataValue.json(writer.previous_exports(storage).get("verified_by", [])),
            "dataset_card": dg.MetadataValue.path(storage.path(writer.CARD)),
        })

    return finetune_datasets
