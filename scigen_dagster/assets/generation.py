"""The figures of every registry model: one ``images/<model>`` asset each, partitioned by
image type. What differs between models is their kind (``registry.kinds``); the table is
built by :func:`scigen_dagster.generation.figures.figure_table`."""

import dagster as dg

from scigen_dagster import prompts
from scigen_dagster.assets import keys
from scigen_dagster.assets.metadata import counts_md, partitions_md, preview, thumbnails_md
from scigen_dagster.assets.partitions import image_type_partitions, partition_keys
from scigen_dagster.assets.steps import run_step
from scigen_dagster.generation.figures import figure_table
from scigen_dagster.generation.imgcoder import OFFLINE_PLANNER
from scigen_dagster.registry import ModelSpec
from scigen_dagster.reporting.formatting import or_not_measured
from scigen_dagster.resources.llm import usage_between


def image_asset(spec: ModelSpec) -> dg.AssetsDefinition:
    kind = spec.model_kind
    name = keys.model_table(keys.IMAGES, spec.name)

    @dg.asset(
        key=keys.model_key(keys.IMAGES, spec.name),
        deps=[keys.ITEMS],
        partitions_def=image_type_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="generation",
        kinds=set(kind.dagster_kinds),
        owners=keys.OWNERS,
        required_resource_keys={"storage", "ocr", *kind.resource_keys(spec).values()},
        pool=kind.pool,
        description=(f"Figures of {spec.label}: one row per problem with status (ok / failed, with the reason), "
                     f"the content hash and path of the PNG, and {kind.figures}."),
        metadata={"model": spec.model_dump()},
    )
    def _images(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        storage = context.resources.storage
        # The planner's prompt shapes a model planner's figures; the rules have none.
        planner_prompt = prompts.load("imgcoder_plan").sha256 if spec.planner != OFFLINE_PLANNER else ""
        llm = context.resources.llm if "llm" in kind.resource_keys(spec).values() else None
        before = llm.usage() if llm is not None else None
        step = run_step(
            context, storage, name, partition_keys(context), figure_table,
            inputs=lambda key: [(keys.ITEMS, key)],
            arguments=lambda key: {"items": storage.read_table(keys.ITEMS, key), "spec": spec, "storage": storage},
            engines={"produce": kind.produce, "ocr": context.resources.ocr.reader(),
                     **kind.arguments(spec, context.resources)},
            config=[spec.config_for_fingerprint(), planner_prompt],
            progress_from=keys.ITEMS,
        )
        frame = step.frame
        ok = frame["status"] == "ok"
        metadata = {
            "dagster/row_count": len(frame),
            "ok": int(ok.sum()),
            "failed": int((frame["status"] == "failed").sum()),
            "success_rate": float(ok.mean()) if len(frame) else or_not_measured(None),
            "failures_by_reason": counts_md(frame.loc[~ok, "reason"].str.split(":").str[0], "reason"),
            "partitions": partitions_md(step.outcomes, lambda f: {"ok": int((f["status"] == "ok").sum())}),
            "reused_partitions": step.reused,
            "answer_leaks": int(frame["answer_leak"].fillna(False).sum()),
            "sample_images": dg.MetadataValue.json([storage.path(p) for p in frame.loc[ok, "image_path"].head(6)]),
            "thumbnails": thumbnails_md(storage, frame),
            "preview": preview(frame, ["problem_id", "status", "attempts", "reason", "image_path"]),
        }
        if llm is not None:
            metadata["llm_usage"] = dg.MetadataValue.json(usage_between(before, llm.usage()))
        if kind.writes_code and len(frame):
            metadata["first_try_success_rate"] = float((ok & (frame["attempts"] == 1)).mean())
            metadata["repairs"] = int((frame["attempts"] > 1).sum())
            metadata["mean_render_seconds"] = float(frame["render_seconds"].mean())
        return dg.MaterializeResult(metadata=metadata)

    return _images
