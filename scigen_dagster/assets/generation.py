"""The figures of every registry model: one ``images/<model>`` asset each, partitioned by
image type. What differs between models is their kind (``registry.kinds``); the table is
built by :func:`scigen_dagster.generation.figures.figure_table`."""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from scigen_dagster import prompts
from scigen_dagster.assets import keys
from scigen_dagster.assets.metadata import (
    counts_md,
    figures_md,
    first_words,
    no_figures,
    per_partition_result,
    preview,
    thumbnails_md,
)
from scigen_dagster.assets.partitions import image_type_partitions, partition_keys
from scigen_dagster.assets.steps import run_step, wait_for_batches
from scigen_dagster.generation.figures import figure_table, figure_work
from scigen_dagster.generation.imgcoder import OFFLINE_PLANNER
from scigen_dagster.generation.protocol import generation_protocol
from scigen_dagster.registry import ModelSpec


def image_asset(spec: ModelSpec) -> dg.AssetsDefinition:
    kind = spec.model_kind
    name = keys.model_table(keys.IMAGES, spec.name)

    @dg.asset(
        key=keys.model_key(keys.IMAGES, spec.name),
        deps=[keys.ITEMS],
        partitions_def=image_type_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name=keys.model_group(spec.name),
        kinds=set(kind.dagster_kinds),
        owners=keys.OWNERS,
        required_resource_keys={"storage", "ocr", *kind.resource_keys(spec).values()},
        pool=kind.pool,
        description=(f"Figures of {spec.label}: one row per problem with status (ok / failed, with the reason), "
                     f"the content hash and path of the PNG, and {kind.figures}."),
        metadata={"model": kind.settings(spec)},
        output_required=False,  # batch mode (a planner's first attempts): none while plans are to come
    )
    def _images(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
        storage = context.resources.storage
        # The planner's prompt shapes a model planner's figures; the rules have none.
        planner_prompt = (prompts.load(generation_protocol(spec).planner_prompt).sha256
                          if spec.planner != OFFLINE_PLANNER else "")
        llm = context.resources.llm if "llm" in kind.resource_keys(spec).values() else None
        step = run_step(
            context, storage, name, partition_keys(context), figure_table,
            inputs=lambda key: [(keys.ITEMS, key)],
            arguments=lambda key: {"items": storage.read_table(keys.ITEMS, key), "spec": spec, "storage": storage},
            engines={"produce": kind.produce, "ocr": context.resources.ocr.reader(),
                     **({"produce_items": kind.produce_items} if kind.produce_items else {}),
                     **kind.arguments(spec, context.resources)},
            stream=figure_work,
            config=[spec.config_for_fingerprint(), planner_prompt],
            progress_from=keys.ITEMS,
            meter=llm.usage if llm is not None else None,
        )
        if llm is not None and wait_for_batches(context, llm, step, name):
            return
        def metadata_of(key: str, frame: pd.DataFrame) -> dict:
            ok = frame["status"] == "ok"
            if frame.empty:  # e.g. the real figures of a partition whose items ship none
                return {"success_rate": no_figures(kind), "thumbnails": dg.MetadataValue.md(f"_{no_figures(kind)}_")}
            items = storage.read_table(keys.ITEMS, key).set_index("problem_id")
            shown = frame.assign(image_type=frame["problem_id"].map(items["image_type"]),
                                 question=frame["problem_id"].map(items["question"]).fillna("").map(first_words))
            metadata = {
                "ok": int(ok.sum()),
                "failed": int((~ok).sum()),
                "success_rate": float(ok.mean()),
                "failures_by_reason": counts_md(frame.loc[~ok, "reason"].str.split(":").str[0], "reason"),
                "answer_leaks": int(frame["answer_leak"].fillna(False).sum()),
                "thumbnails": thumbnails_md(storage, frame),
                "figure_links": figures_md(storage, frame, items),
                "preview": preview(shown, ["problem_id", "image_type", "question", "status", "attempts", "reason"]),
                "figures": dg.MetadataValue.path(storage.path("images/")),
            }
            if kind.writes_code:
                metadata["first_try_success_rate"] = float((ok & (frame["attempts"] == 1)).mean())
                metadata["repairs"] = int((frame["attempts"] > 1).sum())
                metadata["mean_render_seconds"] = float(frame["render_seconds"].mean())
            return metadata

        frame = step.frame
        ok = int((frame["status"] == "ok").sum()) if len(frame) else 0
        shortened = int(frame["note"].fillna("").str.contains("prompt shortened").sum()) if len(frame) else 0
        if shortened:  # once per run, not once per batch
            context.log.warning(f"{name}: {shortened} prompts were longer than the text encoder takes and were "
                                "shortened (asking sentences dropped first, given values kept); see each row's note")
        yield per_partition_result(context, step, metadata_of, (
            f"{name}: {len(frame)} figures over {len(step.outcomes)} partitions, {ok} rendered, "
            f"{step.reused} partitions reused"))

    return _images
