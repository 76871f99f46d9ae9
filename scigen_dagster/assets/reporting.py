"""The leaderboard over every model, with its plots and the HTML report. The steps are in
:mod:`scigen_dagster.reporting`."""

import dagster as dg

from scigen_dagster import taxonomy
from scigen_dagster.assets import keys
from scigen_dagster.assets.steps import run_step
from scigen_dagster.registry import ModelSpec
from scigen_dagster.reporting import report
from scigen_dagster.reporting.formatting import data_url
from scigen_dagster.reporting.leaderboard import format_overall, leaderboard_frame, pivot
from scigen_dagster.reporting.plots import PLOT_CAPTIONS

# The overall table as it fits a metadata dialog; every metric is in the HTML report.
OVERALL_COLUMNS = ["display_name", "protocol", "images", "image_success", "R_inv", "question_acc", "Correctness_Fidelity",
                   "Readability_Occlusion", "note"]


def leaderboard_asset(specs: list[ModelSpec]) -> dg.AssetsDefinition:
    compared = [s for s in specs if s.model_kind.has_reference_metrics]
    deps = [keys.model_key(f, s.name) for s in specs for f in keys.EVALUATIONS] + \
        [keys.model_key(keys.REFERENCE, s.name) for s in compared]

    def inputs(_) -> list[tuple[str, str | None]]:
        return [(keys.model_table(f, s.name), k) for s in specs for f in keys.PER_ITEM for k in taxonomy.PARTITION_KEYS] \
            + [(keys.model_table(keys.REFERENCE_SUMMARY, s.name), None) for s in compared] \
            + [(keys.ITEMS, k) for k in taxonomy.PARTITION_KEYS]

    @dg.asset(
        deps=deps,
        group_name="reporting",
        kinds={"parquet", "python"},
        owners=keys.OWNERS,
        required_resource_keys={"storage"},
    )
    def leaderboard(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        """Model x metric table (R_inv, question accuracy, the five judge means, PSNR,
        SSIM, MS-SSIM, FID, KID), overall, per subject and per image type, with bootstrap
        intervals; plots (bars with intervals, model x type heatmap, judge radar, spectra),
        thumbnail grids per partition and one self-contained HTML report."""
        storage = context.resources.storage
        tables = {s.name: {f: storage.read_partitions(keys.model_table(f, s.name), taxonomy.PARTITION_KEYS)
                           for f in keys.PER_ITEM} for s in specs}
        summaries = {s.name: storage.read_table(keys.model_table(keys.REFERENCE_SUMMARY, s.name))
                     for s in compared if storage.exists(storage.table_rel(keys.model_table(keys.REFERENCE_SUMMARY, s.name)))}

        def arguments(_) -> dict:
            items = storage.read_partitions(keys.ITEMS, taxonomy.PARTITION_KEYS)
            reference_ids = set(items.loc[items["reference_image"] != "", "problem_id"]) if len(items) else set()
            return {"tables": {name: t | ({keys.REFERENCE_SUMMARY: summaries[name]} if name in summaries else {})
                               for name, t in tables.items()},
                    "labels": {s.name: s.label for s in specs}, "reference_ids": reference_ids,
                    "ceiling": frozenset(s.name for s in specs if s.model_kind.is_ceiling)}

        step = run_step(context, storage, keys.LEADERBOARD, [None], leaderboard_frame, inputs=inputs,
                        arguments=arguments, config=[[s.name, s.label] for s in specs])
        board = step.frame
        plots, grids, written = report.write_report(
            storage, specs, board, tables, {name: frame.iloc[0] for name, frame in summaries.items()},
            step.outcomes[0].data_version)
        if written:
            context.log.info(f"report: {len(plots)} plots, {grids} thumbnail grids at {storage.path(report.REPORT_HTML)}")
        overall = board[board["scope"] == "overall"].drop(columns=["scope", "group"])
        return dg.MaterializeResult(
            data_version=dg.DataVersion(step.data_version),
            metadata={
                "dagster/row_count": len(board),
                "overall": dg.MetadataValue.md(
                    format_overall(overall)[OVERALL_COLUMNS].to_markdown(index=False, disable_numparse=True)),
                "all_metrics": dg.MetadataValue.path(storage.path(report.REPORT_HTML)),
                "by_subject": dg.MetadataValue.md(pivot(board, "subject").to_markdown()),
                **{f"plot_{name}": dg.MetadataValue.md(f"![{PLOT_CAPTIONS.get(name, name)}]({data_url(png)})")
                   for name, png in plots.items()},
                **({} if "spectra" in plots else {"plot_spectra": (
                    "not drawn: no model has figures paired with real reference figures "
                    "(SeePhys-style items) in this corpus")}),
                "html_report": dg.MetadataValue.path(storage.path(report.REPORT_HTML)),
                "plots_and_thumbnails": dg.MetadataValue.path(storage.path(report.REPORT_DIR)),
                "report": dg.MetadataValue.path(storage.path(report.REPORT_MD)),
                "reused": bool(step.reused),
            },
        )

    return leaderboard
