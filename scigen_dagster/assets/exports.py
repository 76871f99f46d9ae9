"""The fine-tuning exports: per model and hybrid VeRL / HF parquet sets, with scaling
subsets and a dataset card. The steps are in :mod:`scigen_dagster.exports`."""

import dagster as dg
import pandas as pd

from scigen_dagster import prompts, taxonomy
from scigen_dagster.assets import keys
from scigen_dagster.assets.steps import run_step
from scigen_dagster.exports import hub, selection, writer
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
    # A dataset repository ("namespace/name") to push the exports to after writing them;
    # empty: no push. The token comes from the environment variable hub_token_env only;
    # HF_ENDPOINT points the push at another server that speaks the Hub's API.
    push_to_hub: str = ""
    hub_token_env: str = hub.DEFAULT_TOKEN_ENV
    hub_private: bool = True

    def export_settings(self) -> dict:
        """What shapes the exported files (where they are pushed to does not)."""
        return self.model_dump(exclude={"push_to_hub", "hub_token_env", "hub_private"})


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
        studies and a dataset card (README.md + manifest.json); with ``push_to_hub``, all of
        it committed to that dataset repository on the Hub."""
        storage = context.resources.storage
        settings = config.export_settings()
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
                config=settings,
            )
            selections[spec.name] = step.frame
            candidates[spec.name] = len(model_tables[keys.IMAGES])
        exports, choice, manifest = writer.write_exports(
            storage, exported, selections, candidates, tables, storage.read_table(keys.LEADERBOARD),
            settings, {p: prompts.load(p).sha256 for p in prompts.names()})
        table = pd.DataFrame([{"export": n, "rows": e["rows"],
                               "subsets": ", ".join(str(s["rows"]) for s in e["subsets"]) or "-",
                               "verl": e["files"].get("verl", {}).get("path", "none (nothing verified)"),
                               "hf": e["files"].get("hf", {}).get("path", "none (nothing verified)")}
                              for n, e in exports.items()])
        return dg.MaterializeResult(metadata={
            "dagster/row_count": int(table["rows"].sum()) if len(table) else 0,
            "exports": dg.MetadataValue.md(table.to_markdown(index=False) if len(table) else "_none_"),
            "hybrid_choice": dg.MetadataValue.md(choice.to_markdown(index=False) if len(choice) else "_not built_"),
            "thresholds": dg.MetadataValue.json(settings),
            "verified_by": dg.MetadataValue.json(manifest.get("verified_by", [])),
            "dataset_card": dg.MetadataValue.path(storage.path(writer.CARD)),
            **hub_metadata(context, storage, manifest, config),
        })

    return finetune_datasets


def hub_metadata(context: dg.AssetExecutionContext, storage, manifest: dict, config: FinetuneConfig) -> dict:
    """Push the exports when ``push_to_hub`` names a repository; the commit it made, or why
    there was none. The token never reaches the log or the metadata."""
    if not config.push_to_hub:
        return {"hub": dg.MetadataValue.text("not pushed (set push_to_hub to a dataset repository id to push)")}
    pushed = hub.push_exports(storage, manifest, config.push_to_hub, token_env=config.hub_token_env,
                              private=config.hub_private)
    context.log.info(f"pushed {len(pushed['files'])} files to {pushed['url']} (commit {pushed['commit']}"
                     + (f", {len(pushed['deleted'])} stale files deleted)" if pushed["deleted"] else ")"))
    return {"hub": dg.MetadataValue.url(pushed["url"]), "hub_commit": dg.MetadataValue.url(pushed["commit_url"]),
            "hub_files": dg.MetadataValue.json({"pushed": pushed["files"], "deleted": pushed["deleted"]})}
