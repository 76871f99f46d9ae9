"""The leaderboard over every model and the fine-tuning exports."""



import datetime
import json

import dagster as dg
import numpy as np
import pandas as pd

from .. import evaluation, prompts, provenance, report, reporting, taxonomy
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
    """Mean radial spectrum of each model's figures and of the real figures it was compared
    with, at that model's resolution (the spectrum in cycles per pixel depends on it): one
    "real figures" curve when every model shares it, else one per model."""
    curves, reals = {}, {}
    for spec in specs:
        name = f"reference_summary/{spec.name}"
        if spec.kind == "reference" or not storage.exists(storage.table_rel(name)):
            continue
        row = storage.read_table(name).iloc[0]
        freq = np.asarray(row["spectrum_freq"], dtype=float)
        if len(row["spectrum_generated"]):
            curves[spec.label] = (freq, np.asarray(row["spectrum_generated"], dtype=float))
            reals[spec.label] = (freq, np.asarray(row["spectrum_real"], dtype=float))
    distinct = {tuple(np.round(c, 4)) for _, c in reals.values()}
    if len(distinct) == 1:
        return curves | {"real figures": next(iter(reals.values()))}
    return curves | {f"real figures at {label}'s size": curve for label, curve in reals.items()}


def _thumbnails(storage: StorageResource, specs: list[ModelSpec]) -> dict[str, bytes]:
    """Per partition: one row per model with its first figures (a failed one is a
    labelled tile, a missing one an empty tile), so each row of the grid is one model."""
    grids = {}
    for key in taxonomy.PARTITION_KEYS:
        tiles = []
        for spec in specs:
            name = f"images/{spec.name}"
            if not storage.exists(storage.table_rel(name, key)) or not storage.table_rows(name, key):
                continue
            rows = list(storage.read_table(name, key).head(THUMBS_PER_MODEL).itertuples(index=False))
            tiles += [(f"{spec.label}: {r.problem_id}", storage.read_bytes(r.image_path) if r.status == "ok" else None)
                      for r in rows]
            tiles += [(f"{spec.label}: -", report.EMPTY_TILE)] * (THUMBS_PER_MODEL - len(rows))
        if tiles:
            grids[key] = report.thumbnail_grid(tiles, cols=THUMBS_PER_MODEL, thumb=150)
    return grids


def _used(frames: list[pd.DataFrame], columns: list[str]) -> list[str]:
    """The distinct evaluator settings (e.g. judge id, temperature, prompt hash) found in
    a family's tables."""
    values = set()
    for frame in frames:
        if len(frame) and all(c in frame for c in columns):
            for row in frame[columns].drop_duplicates().itertuples(index=False):
                parts = [f"{c} {v}" if i else str(v) for i, (c, v) in enumerate(zip(columns, row))
                         if v is not None and not (isinstance(v, float) and np.isnan(v)) and str(v) != ""]
                values.add(", ".join(parts))
    return sorted(values)


JUDGE_SETTINGS = ["judge", "judge_temperature", "prompt"]


def _manifest(storage: StorageResource, specs: list[ModelSpec]) -> dict:
    weights, why = inception_weights()
    return {
        **provenance.code_version(),
        "models": "; ".join(f"{s.name}: {_model_description(s)}" for s in specs),
        "judge": "; ".join(_used([_model_tables(storage, s, "judge_scores") for s in specs], JUDGE_SETTINGS)) or "none",
        "answerer": "; ".join(_used([_model_tables(storage, s, "iv_results") for s in specs], ["answerer"])) or "none",
        "inception_weights": f"{weights} (sha256 {why[:12]})" if weights else why,
        "generated_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _write_report(context, storage: StorageResource, specs: list[ModelSpec], board: pd.DataFrame,
                  version: str) -> dict[str, bytes]:
    """PNGs of every plot, a thumbnail grid per partition and one self-contained HTML
    page, rewritten only when the leaderboard's inputs or the report code changed."""
    stamp = "reports/.leaderboard_version.json"
    version = fingerprint(version, code_hash(report))
    if storage.exists(stamp) and storage.exists(REPORT_HTML):
        previous = storage.read_json(stamp)
        if previous.get("version") == version:
            return {n: storage.read_bytes(f"reports/{n}.png") for n in previous["plots"]}
    plots = report.standard_plots(board, _spectral_curves(storage, specs))
    storage.remove("reports/")  # plots or grids of an earlier board must not linger
    for name, png in plots.items():
        storage.write_bytes(f"reports/{name}.png", png)
    thumbs = _thumbnails(storage, specs)
    for key, png in thumbs.items():
        storage.write_bytes(f"reports/thumbnails/{key}.png", png)
    html = report.html_report(board, plots, thumbs, _manifest(storage, specs))
    storage.write_bytes(REPORT_HTML, html.encode())
    storage.write_json(stamp, {"version": version, "plots": sorted(plots)})
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
        fp = fingerprint(_eval_shas(storage, specs), [storage.table_sha("benchmark_items", k) for k in taxonomy.PARTITION_KEYS],
                         [s.name for s in specs], code_hash(reporting, evaluation))

        def compute() -> pd.DataFrame:
            tables = {
                s.name: {f: _model_tables(storage, s, f) for f in ("images", "judge_scores", "iv_results")}
                | ({"reference_summary": storage.read_table(f"reference_summary/{s.name}")}
                   if s.kind != "reference" else {})
                for s in specs
            }
            items = storage.read_partitions("benchmark_items", taxonomy.PARTITION_KEYS)
            reference_ids = set(items.loc[items["reference_image"] != "", "problem_id"]) if len(items) else set()
            return reporting.leaderboard_frame(tables, {s.name: s.label for s in specs}, reference_ids)

        out = build_or_reuse(storage, "leaderboard", None, fp, compute)
        board = out.frame
        overall = board[board["scope"] == "overall"].drop(columns=["scope", "group"])
        plots = _write_report(context, storage, specs, board, fp)
        storage.write_bytes("reports/leaderboard.md", reporting.markdown(board).encode())
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
    """Which verified figures go into the training sets, and how they are cut."""

    require_faithful: bool = True  # every inverse-validation quiz answered right
    min_judge_mean: float = 1.0  # over the judge dimensions that were measured
    data_source: str = "scigen_dagster"
    hybrid: bool = True  # also export the best model per image type (by R_inv) as one set
    subset_count: int = 5  # log-spaced nested subsets for data-scaling studies
    subset_min: int = 8
    subset_seed: int = 0


EXPORTS_DIR = "tables/exports"


def _export(storage: StorageResource, name: str, chosen: pd.DataFrame, config: FinetuneConfig,
            previous: dict | None = None) -> dict:
    """VeRL + HF parquet of one set, in the nested scaling order, plus its subsets; an
    unchanged set (same rows, figures, config and code) keeps its files untouched."""
    key = ["problem_id", "model", "image_sha256"]
    fp = fingerprint(chosen[key].to_json(orient="values") if len(chosen) else "[]",
                     config.model_dump(), code_hash(reporting))
    if previous and previous.get("fingerprint") == fp and all(
            storage.exists(f"{EXPORTS_DIR}/{f['path']}") for f in [*previous["files"].values(), *previous["subsets"]]):
        return previous
    storage.remove(f"{EXPORTS_DIR}/{name}")  # subsets of sizes no longer chosen must not linger
    ordered = reporting.scaling_order(chosen, config.subset_seed)
    verl = reporting.verl_rows(ordered, storage, config.data_source)
    hf = reporting.hf_rows(ordered, storage)
    files = {}
    for fmt, frame in (("verl", verl), ("hf", hf)):
        _, sha = storage.write_table(f"exports/{name}/{fmt}", frame)
        files[fmt] = {"path": f"{name}/{fmt}.parquet", "sha256": sha}
    subsets = []
    sizes = reporting.log_spaced_sizes(len(ordered), config.subset_count, config.subset_min)
    for size in sizes[:-1] if sizes else []:  # the largest is the full file
        _, sha = storage.write_table(f"exports/{name}/subsets/verl_n{size}", verl.iloc[:size].reset_index(drop=True))
        subsets.append({"rows": size, "path": f"{name}/subsets/verl_n{size}.parquet", "sha256": sha})
    if sizes:
        subsets.append({"rows": sizes[-1], "path": files["verl"]["path"], "sha256": files["verl"]["sha256"]})
    return {"fingerprint": fp, "rows": len(ordered), "files": files, "subsets": subsets,
            "per_type": {k: int(v) for k, v in ordered["image_type"].value_counts().items()} if len(ordered) else {},
            "source_models": sorted(ordered["model"].unique().tolist()) if len(ordered) else []}


def _model_description(spec: ModelSpec) -> str:
    if spec.kind == "imgcoder":
        return f"imgcoder, planner {spec.planner}, max_attempts {spec.max_attempts}"
    if spec.kind == "diffusers":
        return f"diffusers {spec.model}, {spec.steps} steps, guidance {spec.guidance_scale}, {spec.width}x{spec.height}"
    if spec.kind == "image_api":
        return f"image API {spec.model}, size {spec.size}"
    return "the benchmark's reference figures (never exported)"


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
        """Verified figures filtered by judge and inverse-validation thresholds, per model and
        as a hybrid set (best model per image type by R_inv), exported as VeRL parquet
        (data_source, prompt as chat messages, images, ability, reward_model, extra_info) and
        HF-datasets-compatible parquet, with nested log-spaced subsets for data-scaling
        studies and a dataset card (README.md + manifest.json)."""
        storage: StorageResource = context.resources.storage
        items = storage.read_partitions("benchmark_items", taxonomy.PARTITION_KEYS).drop(columns="partition")
        exportable = [s for s in specs if s.kind != "reference"]  # real figures are never training data
        selections, candidates, exports, evaluated = {}, {}, {}, {"judge_scores": [], "iv_results": []}
        previous = storage.read_json(f"{EXPORTS_DIR}/manifest.json") if storage.exists(f"{EXPORTS_DIR}/manifest.json") else {}
        before = previous.get("exports", {})
        for spec in exportable:
            fp = fingerprint(_eval_shas(storage, [spec]), config.model_dump(), code_hash(reporting))
            tables = {f: _model_tables(storage, spec, f) for f in ("images", "judge_scores", "iv_results")}
            for family, frames in evaluated.items():
                frames.append(tables[family])

            def compute(spec=spec, tables=tables) -> pd.DataFrame:
                return reporting.select_for_training(items, tables, config.require_faithful, config.min_judge_mean)

            selections[spec.name] = build_or_reuse(storage, f"finetune_selection/{spec.name}", None, fp, compute).frame
            candidates[spec.name] = len(tables["images"])
            exports[spec.name] = _export(storage, spec.name, selections[spec.name], config, before.get(spec.name))
        choice = pd.DataFrame()
        if config.hybrid and selections:
            choice = reporting.hybrid_choice(storage.read_table("leaderboard"), list(selections))
            hybrid = reporting.hybrid_selection(choice, selections)
            exports[reporting.HYBRID] = _export(storage, reporting.HYBRID, hybrid, config, before.get(reporting.HYBRID))
        for stale in set(before) - set(exports):  # a model left the registry, or hybrid was turned off
            storage.remove(f"{EXPORTS_DIR}/{stale}")
        manifest = {
            "code": provenance.code_version(),
            "thresholds": config.model_dump(),
            "models": {s.name: _model_description(s) for s in exportable},
            "judge": _used(evaluated["judge_scores"], JUDGE_SETTINGS),
            "answerer": _used(evaluated["iv_results"], ["answerer"]),
            "prompts": {p: prompts.load(p).sha256 for p in prompts.names()},
            "candidates": candidates,
            "hybrid": choice.astype(object).where(choice.notna(), None).to_dict("records") if len(choice) else [],
            "exports": exports,
        }
        # Byte-stable: an unchanged export keeps its manifest, card and creation time.
        manifest = json.loads(json.dumps(manifest, default=str))  # as it reads back from the file
        unchanged = {k: v for k, v in previous.items() if k != "created_at"} == manifest
        if not unchanged:
            manifest = {"created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")} | manifest
            storage.write_json(f"{EXPORTS_DIR}/manifest.json", manifest)
            storage.write_bytes(f"{EXPORTS_DIR}/README.md", reporting.dataset_card(manifest).encode())
        table = pd.DataFrame([{"export": n, "rows": e["rows"], "subsets": ", ".join(str(s["rows"]) for s in e["subsets"]),
                               "verl": e["files"]["verl"]["path"], "hf": e["files"]["hf"]["path"]}
                              for n, e in exports.items()])
        return dg.MaterializeResult(metadata={
            "dagster/row_count": int(table["rows"].sum()) if len(table) else 0,
            "exports": dg.MetadataValue.md(table.to_markdown(index=False) if len(table) else "_none_"),
            "hybrid_choice": dg.MetadataValue.md(choice.to_markdown(index=False) if len(choice) else "_not built_"),
            "thresholds": dg.MetadataValue.json(config.model_dump()),
            "dataset_card": dg.MetadataValue.path(storage.path(f"{EXPORTS_DIR}/README.md")),
        })

    return finetune_datasets
