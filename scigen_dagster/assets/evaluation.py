"""The evaluation of every registry model's figures: judge scores and inverse validation
per partition, and reference metrics against the real figures. The steps are in
:mod:`scigen_dagster.evaluation`; these assets read their inputs, call them, and report."""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from scigen_dagster import taxonomy
from scigen_dagster.assets import keys
from scigen_dagster.assets.metadata import counts_md, no_figures, per_partition_result, preview, usage_text
from scigen_dagster.assets.partitions import image_type_partitions, partition_keys
from scigen_dagster.assets.steps import PreparedStep, StepOutcome, prepare_step, run_step, run_steps, wait_for_batches
from scigen_dagster.engines import clip
from scigen_dagster.evaluation import fid, image_metrics, inverse, judge, proxies, scores
from scigen_dagster.evaluation.protocol import evaluation_protocol
from scigen_dagster.registry import ModelSpec
from scigen_dagster.reporting.formatting import or_not_measured


def _evaluation_spec(spec: ModelSpec, family: str, description: str) -> dg.AssetSpec:
    """One of the two per-partition evaluation assets of a model (see ``evaluation_asset``)."""
    return dg.AssetSpec(
        key=keys.model_key(family, spec.name),
        deps=[keys.ITEMS, keys.model_key(keys.IMAGES, spec.name)],
        group_name=keys.model_group(spec.name),
        kinds={"python"},
        owners=keys.OWNERS,
        description=description,
        skippable=True,  # batch mode: no materialization while replies are still to come
    )


def evaluated_items(storage, spec: ModelSpec, key: str) -> pd.DataFrame:
    """The items a model is evaluated on: all of them, or for the ceiling (the real
    figures) those that have a real figure."""
    items = storage.read_table(keys.ITEMS, key)
    if spec.model_kind.is_ceiling:
        items = items[items["reference_image"] != ""].reset_index(drop=True)
    return items


def _prepare(context, spec: ModelSpec, family: str, stage, stream, role: str, config) -> PreparedStep:
    """One evaluation step over the partitions of the run, ready to stream; offline, the
    figures of the partitions it will recompute are OCR'd in parallel first."""
    storage, llm, ocr = context.resources.storage, context.resources.llm, context.resources.ocr.reader()
    images_table = keys.model_table(keys.IMAGES, spec.name)

    def prefetch(stale: list[str]) -> None:
        # Offline the OCR is the whole work; with a model, the stream reads each figure
        # while the calls are in flight.
        if llm.is_offline(role):
            frames = [storage.read_table(images_table, key) for key in stale]
            ok = pd.concat(frames)[lambda f: f["status"] == "ok"] if frames else pd.DataFrame()
            ocr.prefetch(storage, list(zip(ok.get("image_sha256", []), ok.get("image_path", []))))

    return prepare_step(
        context, storage, keys.model_table(family, spec.name), partition_keys(context), stage,
        inputs=lambda key: [(keys.ITEMS, key), (images_table, key)],
        arguments=lambda key: {"items": evaluated_items(storage, spec, key),
                               "images": storage.read_table(images_table, key), "model": spec.name,
                               "storage": storage},
        engines={"ocr": ocr, "llm": llm},
        config=config(llm, ocr),
        progress_from=images_table,
        before_compute=prefetch,
        meter=llm.usage,
        stream=stream,
    )


def evaluation_asset(spec: ModelSpec) -> dg.AssetsDefinition:
    """The judge scores and the inverse validation of a model: two assets, one step. When
    a run materializes both, their items stream at the same time (the judge's calls and
    the answerer's share the run's event loop, each role within its own limit), so the
    run waits for the longer of the two, not for their sum; either can run alone."""
    judge_key, iv_key = keys.model_key(keys.JUDGE, spec.name), keys.model_key(keys.IV, spec.name)

    @dg.multi_asset(
        name=f"{spec.name}_evaluation",
        specs=[_evaluation_spec(spec, keys.JUDGE, _judge_description(spec)),
               _evaluation_spec(spec, keys.IV, _iv_description(spec))],
        partitions_def=image_type_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
        required_resource_keys={"storage", "ocr", "llm"},
    )
    def _evaluation(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
        selected = context.selected_asset_keys
        steps: dict[dg.AssetKey, PreparedStep] = {}
        if judge_key in selected:
            steps[judge_key] = _prepare(context, spec, keys.JUDGE, judge.judge_table, judge.judge_work, "judge",
                                        lambda llm, ocr: [judge.judge_settings(llm), ocr.describe()])
        if iv_key in selected:
            steps[iv_key] = _prepare(context, spec, keys.IV, inverse.iv_table, inverse.iv_work, "answerer",
                                     inverse.iv_settings)
        done = dict(zip(steps, run_steps(list(steps.values()))))
        if judge_key in done:
            yield from _judge_result(context, spec, done[judge_key], judge_key)
        if iv_key in done:
            yield from _iv_result(context, spec, done[iv_key], iv_key)

    return _evaluation


def _judge_description(spec: ModelSpec) -> str:
    return (
        f"Rubric scores of {spec.label}'s figures: Correctness_Fidelity, Layout_Precision, "
        "Readability_Occlusion, Scientific_Plausibility, Expressiveness_Richness (integers 0-2), from "
        "the judge role's model only; offline they are missing (\"not measured\", with the reason), "
        "never 0. OCR proxies of each PNG (given_values_shown, text_overlaps, labels_crossed_by_lines) "
        "have columns of their own."
    )


def _judge_result(context, spec: ModelSpec, step: StepOutcome, key: dg.AssetKey) -> Iterator[dg.MaterializeResult]:
    llm = context.resources.llm
    if wait_for_batches(context, llm, step, keys.model_table(keys.JUDGE, spec.name), key):
        return

    def metadata_of(partition: str, frame: pd.DataFrame) -> dict:
        if frame.empty:
            return {"means": no_figures(spec.model_kind)}
        means = {d: (None if m is None else round(m, 3)) for d, m in scores.judge_means(frame).items()}
        return {
            "protocol": ", ".join(scores.protocols_in(frame)),
            "judge": judge.OFFLINE_JUDGE if llm.is_offline("judge") else llm.model_id("judge"),
            "means": dg.MetadataValue.json({d: or_not_measured(m) for d, m in means.items()}),
            "proxy_means": dg.MetadataValue.json({c: or_not_measured(pd.to_numeric(frame[c]).mean())
                                                  for c in proxies.PROXY_HELP}),
            "judge_status": counts_md(frame["judge_status"], "judge_status"),
            "failure_rate": float((frame["judge_status"] != "ok").mean()),
            "llm_settings": dg.MetadataValue.json(
                {} if llm.is_offline("judge") else llm.client().sent_settings(judge.judge_role(llm))),
            "preview": preview(frame, ["problem_id", "Correctness_Fidelity", *proxies.PROXY_HELP]),
        }

    frame = step.frame
    yield per_partition_result(context, step, metadata_of, (
        f"{keys.model_table(keys.JUDGE, spec.name)}: {len(frame)} rows over {len(step.outcomes)} partitions "
        f"({evaluation_protocol(llm).name} protocol), {step.reused} reused; {usage_text(step.usage)}"), key)


def _iv_description(spec: ModelSpec) -> str:
    return (
        f"Inverse validation of {spec.label}: every quiz answered from the image alone; an image is "
        "faithful when all its checks are right. Under the run's protocol: strict (ours: options shuffled "
        "with a fixed seed per quiz, abstention allowed, a blind control; R_inv = faithful images / "
        "attempted problems, a missing or failed image is not faithful) or scigenbench (the study's: "
        "options in stored order, no abstention, every reply graded by the answerer's model, the "
        "full-question check for scigen items, the study's denominators). Offline the answerer is an "
        "OCR lookup (a lower bound) and the blind control is not measured."
    )


def _iv_result(context, spec: ModelSpec, step: StepOutcome, key: dg.AssetKey) -> Iterator[dg.MaterializeResult]:
    if wait_for_batches(context, context.resources.llm, step, keys.model_table(keys.IV, spec.name), key):
        return

    def metadata_of(partition: str, frame: pd.DataFrame) -> dict:
        if frame.empty:
            return {"R_inv": no_figures(spec.model_kind)}
        summary = scores.iv_summary(frame)
        return {
            "protocol": ", ".join(scores.protocols_in(frame)),
            "images": summary["iv_images"],
            "R_inv": or_not_measured(summary["R_inv"]),
            "R_inv_quizzes_only": or_not_measured(summary["R_inv_quizzes"]),
            "full_question_accuracy": or_not_measured(summary["full_question_acc"]),
            "R_inv_excluding_failed_images": or_not_measured(inverse.r_inv(frame, exclude_failed=True)),
            "question_accuracy": or_not_measured(summary["question_acc"]),
            "abstained": int(frame["abstained"].sum()),
            "truncated": int((frame["answer_status"] == "truncated").sum()),
            "blind_question_accuracy": or_not_measured(inverse.blind_accuracy(frame)),
            "R_inv_image_dependent_quizzes": or_not_measured(
                inverse.r_inv(inverse.image_dependent(frame)) if inverse.blind_accuracy(frame) is not None else None),
            "answered_by": inverse.iv_method(frame["answerer"]) or or_not_measured(None),
        }

    frame = step.frame
    r = scores.iv_summary(frame)["R_inv"]
    yield per_partition_result(context, step, metadata_of, (
        f"{keys.model_table(keys.IV, spec.name)}: {len(frame)} rows over {len(step.outcomes)} partitions, "
        f"R_inv {'n/m' if r is None else f'{r:.3f}'} overall ({evaluation_protocol(context.resources.llm).name} "
        f"protocol), {step.reused} reused; {usage_text(step.usage)}"), key)


def reference_asset(spec: ModelSpec) -> dg.AssetsDefinition:
    images_table = keys.model_table(keys.IMAGES, spec.name)

    @dg.asset(
        key=keys.model_key(keys.REFERENCE, spec.name),
        deps=[keys.ITEMS, keys.model_key(keys.IMAGES, spec.name)],
        group_name=keys.model_group(spec.name),
        kinds={"python"},
        owners=keys.OWNERS,
        required_resource_keys={"storage"},
        description=(
            f"{spec.label} against real reference figures (SeePhys-style items): PSNR, SSIM and MS-SSIM "
            "(the real figure resized bicubic to the generated size), the high-frequency spectral energy "
            "ratio and radial spectra, FID / KID against the real figures of the same pairs when Inception "
            f"weights are configured from a local file ({fid.INCEPTION_ENV}), and the CLIP score (ViT-B/16) "
            f"of each figure against its problem text when a CLIP folder is ({clip.CLIP_ENV}); without them "
            "each says 'not computed'."
        ),
    )
    def _reference(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        storage = context.resources.storage
        # The partitions this model has figures for, in partition order.
        parts = [k for k in taxonomy.PARTITION_KEYS if storage.exists(storage.table_rel(images_table, k))]
        inputs = [(a, k) for k in taxonomy.PARTITION_KEYS for a in (keys.ITEMS, images_table)]

        def read(table: str, which: list[str]) -> pd.DataFrame:
            frames = [storage.read_table(table, k) for k in which]
            return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

        out = run_step(context, storage, keys.model_table(keys.REFERENCE, spec.name), [None],
                       image_metrics.reference_metrics_table, inputs=lambda _: inputs,
                       arguments=lambda _: {"items": read(keys.ITEMS, parts), "images": read(images_table, parts),
                                            "model": spec.name, "storage": storage})
        frame = out.frame
        weights, weights_sha = fid.inception_weights()
        clip_folder, clip_sha = clip.clip_weights()
        summary = run_step(context, storage, keys.model_table(keys.REFERENCE_SUMMARY, spec.name), [None],
                           fid.reference_summary,
                           inputs=lambda _: [(keys.model_table(keys.REFERENCE, spec.name), None), *inputs],
                           arguments=lambda _: {"frame": frame, "model": spec.name, "storage": storage,
                                                "items": storage.read_partitions(keys.ITEMS, taxonomy.PARTITION_KEYS),
                                                "images": storage.read_partitions(images_table, taxonomy.PARTITION_KEYS),
                                                "weights": weights, "weights_sha": weights_sha,
                                                "clip_folder": clip_folder, "clip_sha": clip_sha},
                           config=[weights_sha if weights else "no-weights",
                                   clip_sha if clip_folder else "no-clip"]).frame.iloc[0]
        ok = frame[frame["status"] == "ok"]
        hf_real = ok["hf_ratio_real"].mean() if len(ok) else 0.0
        fid_value = summary["fid"]
        kid = summary["kid_mean"]
        return dg.MaterializeResult(metadata={
            "dagster/row_count": len(frame),
            "reference_pairs": len(ok),
            "psnr_mean": or_not_measured(summary["psnr_mean"]),
            "ssim_mean": or_not_measured(summary["ssim_mean"]),
            "ms_ssim_mean": or_not_measured(summary["ms_ssim_mean"]),
            "hf_ratio_generated_over_real": float(ok["hf_ratio_generated"].mean() / hf_real)
            if len(ok) and hf_real > 0 else or_not_measured(None),
            "fid": float(fid_value) if fid_value is not None and not pd.isna(fid_value) else summary["fid_status"],
            "kid": (summary["fid_status"] if kid is None or pd.isna(kid)
                    else f"{kid:.5f}" + ("" if summary["kid_std"] is None or pd.isna(summary["kid_std"])
                                         else f" +- {summary['kid_std']:.5f}")),
            "fid_status": str(summary["fid_status"]),
            "clip_score": (float(summary["clip_score"]) if summary["clip_score"] is not None
                           and not pd.isna(summary["clip_score"]) else summary["clip_status"]),
            "clip_status": str(summary["clip_status"]),
            "resize_policy": image_metrics.RESIZE_POLICY,
            "reused": bool(out.reused),
        })

    return _reference


def model_assets(spec: ModelSpec) -> list[dg.AssetsDefinition]:
    from scigen_dagster.assets.generation import image_asset

    assets = [image_asset(spec), evaluation_asset(spec)]
    return assets + [reference_asset(spec)] if spec.model_kind.has_reference_metrics else assets
