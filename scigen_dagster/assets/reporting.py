"""The leaderboard over every model and the fine-tuning exports."""



import dagster as dg
import pandas as pd

from .. import evaluation, reporting, taxonomy
from ..registry import ModelSpec
from ..resources.storage import StorageResource, fingerprint
from .common import OWNERS, build_or_reuse, code_hash


def _model_tables(storage: StorageResource, spec: ModelSpec, family: str) -> pd.DataFrame:
    return storage.read_partitions(f"{family}/{spec.name}", taxonomy.PARTITION_KEYS)


def _eval_shas(storage: StorageResource, specs: list[ModelSpec]) -> list:
    return [
        storage.table_sha(f"{family}/{s.name}", k)
        for s in specs for family in ("images", "judge_scores", "iv_results") for k in taxonomy.PARTITION_KEYS
    ] + [storage.table_sha(f"reference_summary/{s.name}") for s in specs if s.kind != "reference"]


def leaderboard_asset(specs: list[ModelSpec]) -> dg.AssetsDefinition:
    deps = [[family, s.name] for s in specs for family in ("judge_scores", "iv_results", "reference_metrics")
            if not (family == "reference_metrics" and s.kind == "reference")]

    @dg.asset(
        deps=deps,
        group_name="reporting",
        kinds={"parquet", "python"},
        owners=OWNERS,
        required_resource_keys={"storage"},
    )
    def leaderboard(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        """Model x metric table (R_inv, question accuracy, the five judge means, PSNR,
        SSIM, FID), overall, per subject and per image type, with a bar plot."""
        storage: StorageResource = context.resources.storage
        fp = fingerprint(_eval_shas(storage, specs), [s.name for s in specs], code_hash(reporting, evaluation))

        def compute() -> pd.DataFrame:
            tables = {
                s.name: {f: _model_tables(storage, s, f) for f in ("images", "judge_scores", "iv_results")}
                | ({"reference_summary": storage.read_table(f"reference_summary/{s.name}")}
                   if s.kind != "reference" else {})
                for s in specs
            }
            return reporting.leaderboard_frame(tables, {s.name: s.label for s in specs})

        out = build_or_reuse(storage, "leaderboard", None, fp, compute)
        board = out.frame
        overall = board[board["scope"] == "overall"].drop(columns=["scope", "group"])
        png = reporting.bar_plot(overall)
        storage.write_bytes("reports/leaderboard.png", png)
        md = reporting.markdown(board)
        storage.write_bytes("reports/leaderboard.md", md.encode())
        return dg.MaterializeResult(
            data_version=dg.DataVersion(out.data_version),
            metadata={
                "dagster/row_count": len(board),
                "overall": dg.MetadataValue.md(reporting.format_overall(overall).to_markdown(index=False, disable_numparse=True)),
                "by_subject": dg.MetadataValue.md(reporting.pivot(board, "subject").to_markdown()),
                "plot": dg.MetadataValue.md(
                    f"![R_inv by model](data:image/png;base64,{reporting.b64(png)})"),
                "report": dg.MetadataValue.path(storage.path("reports/leaderboard.md")),
                "reused": out.reused,
            },
        )

    return leaderboard


class FinetuneConfig(dg.Config):
    """Which verified figures go into the training sets."""

    require_faithful: bool = True  # every inverse-validation quiz answered right
    min_judge_mean: float = 1.0  # over the judge dimensions that were measured
    data_source: str = "scigen_dagster"


def finetune_asset(specs: list[ModelSpec]) -> dg.AssetsDefinition:
    deps = ["leaderboard", "benchmark_items"] + [[f, s.name] for s in specs for f in ("images", "judge_scores", "iv_results")]

    @dg.asset(
        deps=deps,
        group_name="export",
        kinds={"parquet"},
        owners=OWNERS,
        required_resource_keys={"storage"},
    )
    def finetune_datasets(context: dg.AssetExecutionContext, config: FinetuneConfig) -> dg.MaterializeResult:
        """Verified figures filtered by judge and inverse-validation thresholds, exported
        per model as VeRL parquet (data_source, prompt as chat messages, images, ability,
        reward_model, extra_info) and as HF-datasets-compatible parquet."""
        storage: StorageResource = context.resources.storage
        items = storage.read_partitions("benchmark_items", taxonomy.PARTITION_KEYS).drop(columns="partition")
        summary = []
        for spec in [s for s in specs if s.kind != "reference"]:  # real figures are never training data
            fp = fingerprint(_eval_shas(storage, [spec]), config.model_dump(), code_hash(reporting))
            tables = {f: _model_tables(storage, spec, f) for f in ("images", "judge_scores", "iv_results")}

            def compute(spec=spec, tables=tables) -> pd.DataFrame:
                return reporting.select_for_training(items, tables, config.require_faithful, config.min_judge_mean)

            chosen = build_or_reuse(storage, f"finetune_selection/{spec.name}", None, fp, compute).frame
            verl = reporting.verl_rows(chosen, storage, spec.name, config.data_source)
            hf = reporting.hf_rows(chosen, storage, spec.name)
            verl_path, _ = storage.write_table(f"exports/{spec.name}/verl", verl)
            hf_path, _ = storage.write_table(f"exports/{spec.name}/hf", hf)
            summary.append({"model": spec.name, "candidates": len(tables["images"]), "exported": len(chosen),
                            "verl": verl_path, "hf": hf_path})
        table = pd.DataFrame(summary)
        return dg.MaterializeResult(metadata={
            "dagster/row_count": int(table["exported"].sum()) if len(table) else 0,
            "exports": dg.MetadataValue.md(table.to_markdown(index=False)),
            "thresholds": dg.MetadataValue.json(config.model_dump()),
        })

    return finetune_datasets
