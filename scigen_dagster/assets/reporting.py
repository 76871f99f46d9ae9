"""The leaderboard over every model and the fine-tuning exports."""



import datetime

import dagster as dg
import numpy as np
import pandas as pd

from .. import evaluation, provenance, report, reporting, taxonomy
from ..registry import ModelSpec
from ..resources.storage import StorageResource, fingerprint
from .common import OWNERS, build_or_reuse, code_hash
from .models import inception_weights


def _model_tables(storage: StorageResource, spec: ModelSpec, family: str) -> pd.DataFrame:
    return storage.read_partitions(f"{family}/{spec.name}", taxonomy.PARTITION_KEYS)


def _eval_shas(storage: StorageResource, specs: list[ModelSpec]) -> list:
    return [
        storage.table_sha(f"{family}/{s.name}", k)
        for s in specs for family in ("images", "judge_scores", "iv_results") for k in taxonomy.PARTITION_KEYS
    ] + [storage.table_sha(f"reference_summary/{s.name}") for s in specs if s.kind != "reference"]


REPORT_HTML = "reports/leaderboard.html"
THUMBS_PER_MODEL = 3


def _spectral_curves(storage: StorageResource, specs: list[ModelSpec]) -> dict:
    """Mean radial spectrum of each model's figures and of the real figures they were
    compared with (from the reference summaries)."""
    curves, real = {}, None
    for spec in specs:
        name = f"reference_summary/{spec.name}"
        if spec.kind == "reference" or not storage.exists(storage.table_rel(name)):
            continue
        row = storage.read_table(name).iloc[0]
        freq = np.asarray(row["spectrum_freq"], dtype=float)
        if len(row["spectrum_generated"]):
            curves[spec.label] = (freq, np.asarray(row["spectrum_generated"], dtype=float))
        if real is None and len(row["spectrum_real"]):
            real = (freq, np.asarray(row["spectrum_real"], dtype=float))
    return curves | ({"real figures": real} if real else {})


def _thumbnails(storage: StorageResource, specs: list[ModelSpec]) -> dict[str, bytes]:
    """Per partition: the first figures of every model side by side (a failed one is a
    labelled tile)."""
    grids = {}
    for key in taxonomy.PARTITION_KEYS:
        tiles = []
        for spec in specs:
            name = f"images/{spec.name}"
            if not storage.exists(storage.table_rel(name, key)):
                continue
            for row in storage.read_table(name, key).head(THUMBS_PER_MODEL).itertuples(index=False):
                png = storage.read_bytes(row.image_path) if row.status == "ok" else None
                tiles.append((f"{spec.label}: {row.problem_id}", png))
        if tiles:
            grids[key] = report.thumbnail_grid(tiles, cols=THUMBS_PER_MODEL, thumb=150)
    return grids


def _manifest(storage: StorageResource, specs: list[ModelSpec]) -> dict:
    def used(family: str, column: str) -> str:
        values = set()
        for spec in specs:
            frame = storage.read_partitions(f"{family}/{spec.name}", taxonomy.PARTITION_KEYS)
            if column in frame:
                values |= set(frame[column].dropna().astype(str))
        return ", ".join(sorted(values)) or "none"

    weights, why = inception_weights()
    return {
        **provenance.code_version(),
        "models": ", ".join(f"{s.name} ({s.kind}: {s.planner if s.kind == 'imgcoder' else s.model})"
                            if s.kind != "reference" else f"{s.name} (reference figures)" for s in specs),
        "judge": used("judge_scores", "judge"),
        "answerer": used("iv_results", "answerer"),
        "inception_weights": f"{weights} (sha256 {why[:12]})" if weights else why,
        "generated_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _write_report(context, storage: StorageResource, specs: list[ModelSpec], board: pd.DataFrame,
                  version: str) -> dict[str, bytes]:
    """PNGs of every plot, a thumbnail grid per partition and one self-contained HTML
    page, rewritten only when the leaderboard's inputs changed."""
    stamp = "reports/.leaderboard_version"
    plot_names = ["r_inv_bars", "r_inv_heatmap", "judge_radar", "spectra"]
    if (storage.exists(stamp) and storage.read_bytes(stamp).decode() == version and storage.exists(REPORT_HTML)):
        return {n: storage.read_bytes(f"reports/{n}.png") for n in plot_names if storage.exists(f"reports/{n}.png")}
    plots = report.standard_plots(board, _spectral_curves(storage, specs))
    for name, png in plots.items():
        storage.write_bytes(f"reports/{name}.png", png)
    thumbs = _thumbnails(storage, specs)
    for key, png in thumbs.items():
        storage.write_bytes(f"reports/thumbnails/{key}.png", png)
    html = report.html_report(board, plots, thumbs, _manifest(storage, specs))
    storage.write_bytes(REPORT_HTML, html.encode())
    storage.write_bytes(stamp, version.encode())
    context.log.info(f"report: {len(plots)} plots, {len(thumbs)} thumbnail grids, {len(html) // 1024} KiB of HTML "
                     f"at {storage.path(REPORT_HTML)}")
    return plots


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
        SSIM, MS-SSIM, FID, KID), overall, per subject and per image type, with bootstrap
        intervals; plots (bars with intervals, model x type heatmap, judge radar, spectra),
        thumbnail grids per partition and one self-contained HTML report."""
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
        md = reporting.markdown(board)
        storage.write_bytes("reports/leaderboard.md", md.encode())
        plots = _write_report(context, storage, specs, board, out.data_version)
        return dg.MaterializeResult(
            data_version=dg.DataVersion(out.data_version),
            metadata={
                "dagster/row_count": len(board),
                "overall": dg.MetadataValue.md(reporting.format_overall(overall).to_markdown(index=False, disable_numparse=True)),
                "by_subject": dg.MetadataValue.md(reporting.pivot(board, "subject").to_markdown()),
                **{f"plot_{name}": dg.MetadataValue.md(
                    f"![{report.PLOT_CAPTIONS.get(name, name)}](data:image/png;base64,{reporting.b64(png)})")
                   for name, png in plots.items() if name != "r_inv_heatmap"},
                "html_report": dg.MetadataValue.path(storage.path(REPORT_HTML)),
                "plots_and_thumbnails": dg.MetadataValue.path(storage.path("reports/")),
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
