"""Per-model assets, built by a factory over the model registry: every model gets its
own images/<m>, judge_scores/<m>, iv_results/<m> and reference_metrics/<m>, so the
lineage shows each model's image set, scores and results side by side."""


import base64
import functools
import hashlib
import io
import json
import os
import sys
from typing import Callable
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
from PIL import Image

from .. import evaluation, generation, taxonomy
from ..offline import imgcoder_rules, quantities
from ..offline import ocr as ocr_backend
from .. import prompts
from ..llm import schemas
from ..llm.client import Request
from ..registry import ModelSpec
from ..resources.diffusion import GPU_POOL
from ..resources.llm import usage_between
from ..resources.storage import StorageResource, fingerprint
from .common import (
    OWNERS,
    build_or_reuse,
    code_hash,
    counts_md,
    partition_keys,
    partitions_md,
    preview,
    progress_for,
)

INCEPTION_ENV = "SCIGEN_INCEPTION_WEIGHTS"
# Hashed into the reference fingerprints without importing torch at definition load.
INCEPTION_SOURCE = Path(__file__).resolve().parents[1] / "inception.py"


def diffusion_resource_key(spec: ModelSpec) -> str:
    return f"diffusion_{spec.name}"


def image_asset(spec: ModelSpec) -> dg.AssetsDefinition:
    name = f"images/{spec.name}"
    is_code = spec.kind == "imgcoder"
    resource_keys = {"storage", "ocr"} | {
        "imgcoder": {"sandbox", "llm"}, "image_api": {"llm"}, "diffusers": {diffusion_resource_key(spec)},
        "reference": set()}[spec.kind]
    kinds = {"imgcoder": {"python", "matplotlib"}, "image_api": {"python", "api"},
             "diffusers": {"pytorch", "diffusers"}, "reference": {"python"}}[spec.kind]

    @dg.asset(
        key=["images", spec.name],
        deps=["benchmark_items"],
        partitions_def=taxonomy.image_type_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="generation",
        kinds=kinds,
        owners=OWNERS,
        required_resource_keys=resource_keys,
        pool=GPU_POOL if spec.kind == "diffusers" else None,
        description=(
            f"Figures of {spec.label}: one row per problem with status (ok / failed, with the reason), "
            "the content hash and path of the PNG"
            + (", and the four-part plan, the code, attempts and execution log." if is_code
               else " (the benchmark's real reference figures, for the ceiling row)." if spec.kind == "reference"
               else ", the prompt and the seed.")
        ),
        metadata={"model": spec.model_dump()},
    )
    def _images(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        storage: StorageResource = context.resources.storage
        modules = (generation, imgcoder_rules, quantities, ocr_backend) if is_code else (generation, ocr_backend)
        prompt_sha = prompts.load("imgcoder_plan").sha256 if is_code and spec.planner != generation.OFFLINE_PLANNER else ""
        outcomes = []
        progress = progress_for(context, storage, name, partition_keys(context))
        for key in partition_keys(context):
            fp = fingerprint(storage.table_sha("benchmark_items", key), spec.config_for_fingerprint(), code_hash(*modules), prompt_sha)

            def compute(key=key):
                items = storage.read_table("benchmark_items", key)
                if is_code:
                    frame = generation.render_imgcoder(items, spec, context.resources.sandbox, storage, context.resources.llm)
                elif spec.kind == "reference":
                    frame = generation.copy_reference_figures(items, spec, storage)
                elif spec.kind == "image_api":
                    frame = generation.render_image_api(items, spec, context.resources.llm, storage)
                else:
                    frame = generation.render_diffusers(
                        items, spec, getattr(context.resources, diffusion_resource_key(spec)), storage)
                return generation.flag_leaks(frame, items, context.resources.ocr, storage)

            outcomes.append(build_or_reuse(storage, name, key, fp, compute))
            progress.update(outcomes[-1])
        frame = pd.concat([o.frame for o in outcomes], ignore_index=True)
        ok = frame["status"] == "ok"
        metadata = {
            "dagster/row_count": len(frame),
            "ok": int(ok.sum()),
            "failed": int((frame["status"] == "failed").sum()),
            "success_rate": float(ok.mean()) if len(frame) else 0.0,
            "failures_by_reason": counts_md(frame.loc[~ok, "reason"].str.split(":").str[0], "reason"),
            "partitions": partitions_md(outcomes, lambda f: {"ok": int((f["status"] == "ok").sum())}),
            "reused_partitions": sum(o.reused for o in outcomes),
            "answer_leaks": int(frame["answer_leak"].fillna(False).sum()),
            "sample_images": dg.MetadataValue.json(
                [storage.path(p) for p in frame.loc[ok, "image_path"].head(6)]),
            "thumbnails": _thumbnail_md(storage, frame),
            "preview": preview(frame, ["problem_id", "status", "attempts", "reason", "image_path"]),
        }
        if is_code and len(frame):
            metadata["first_try_success_rate"] = float((ok & (frame["attempts"] == 1)).mean())
            metadata["repairs"] = int((frame["attempts"] > 1).sum())
            metadata["mean_render_seconds"] = float(frame["render_seconds"].mean())
        return dg.MaterializeResult(metadata=metadata)

    return _images


def _thumbnail_md(storage: StorageResource, frame: pd.DataFrame, n: int = 6) -> dg.MetadataValue:
    """The first figures of the step (a failed one as a labelled tile), small enough to
    sit in the event log and be seen in the UI without opening the store."""
    if frame.empty:
        return dg.MetadataValue.md("_no figures_")
    from .. import report

    tiles = [(row.problem_id, storage.read_bytes(row.image_path) if row.status == "ok" else None)
             for row in frame.head(n).itertuples(index=False)]
    grid = Image.open(io.BytesIO(report.thumbnail_grid(tiles, cols=n, thumb=96))).convert("RGB")
    buf = io.BytesIO()
    grid.save(buf, format="JPEG", quality=70)  # it is stored with every partition's event: keep it small
    return dg.MetadataValue.md(f"![first figures](data:image/jpeg;base64,{base64.b64encode(buf.getvalue()).decode()})")


def _prefetch_ocr(storage: StorageResource, ocr, spec: ModelSpec, name: str, fps: dict[str, str]) -> None:
    """OCR, in parallel, the figures of every partition this step will recompute."""
    images = []
    for key, fp in fps.items():
        if storage.table_fingerprint(name, key) != fp:
            frame = storage.read_table(f"images/{spec.name}", key)
            ok = frame[frame["status"] == "ok"]
            images += list(zip(ok["image_sha256"], ok["image_path"]))
    ocr.prefetch(storage, images)


def _items_and_images(storage: StorageResource, spec: ModelSpec, key: str) -> tuple[pd.DataFrame, dict]:
    items = storage.read_table("benchmark_items", key)
    if spec.kind == "reference":  # the ceiling is measured over the items that have a real figure
        items = items[items["reference_image"] != ""].reset_index(drop=True)
    images = storage.read_table(f"images/{spec.name}", key)
    return items, {r.problem_id: r for r in images.itertuples(index=False)}


def _evaluation_asset(spec: ModelSpec, family: str, description: str):
    """The decorator shared by the per-partition evaluation assets of one model."""
    return dg.asset(
        key=[family, spec.name],
        deps=["benchmark_items", ["images", spec.name]],
        partitions_def=taxonomy.image_type_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="evaluation",
        kinds={"python"},
        owners=OWNERS,
        required_resource_keys={"storage", "ocr", "llm"},
        description=description,
    )


def _evaluation_fingerprints(context, storage: StorageResource, spec: ModelSpec, *config) -> dict[str, str]:
    """Per partition: the items' and the images' content hashes plus the evaluator's config."""
    return {
        key: fingerprint(storage.table_sha("benchmark_items", key), storage.table_sha(f"images/{spec.name}", key), *config)
        for key in partition_keys(context)
    }


def _evaluation_start(context, storage: StorageResource, spec: ModelSpec, name: str, offline: bool, *config):
    """Fingerprints per partition, the OCR prefetch an offline evaluator needs, and the
    progress counter of the step."""
    fps = _evaluation_fingerprints(context, storage, spec, *config)
    if offline:
        _prefetch_ocr(storage, context.resources.ocr, spec, name, fps)
    return fps, progress_for(context, storage, name, list(fps), f"images/{spec.name}")


def judge_asset(spec: ModelSpec) -> dg.AssetsDefinition:
    name = f"judge_scores/{spec.name}"

    @_evaluation_asset(
        spec, "judge_scores", (
            f"Rubric scores of {spec.label}'s figures: Correctness_Fidelity, Layout_Precision, "
            "Readability_Occlusion, Scientific_Plausibility, Expressiveness_Richness (integers 0-2). "
            "A dimension the judge could not measure is missing, never 0."
        ),
    )
    def _judge(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        storage: StorageResource = context.resources.storage
        ocr, llm = context.resources.ocr, context.resources.llm
        offline = llm.is_offline("judge")
        prompt = prompts.load("judge")
        judge_id = evaluation.OFFLINE_JUDGE if offline else llm.model_id("judge")
        judge_config = judge_id if offline else [judge_id, llm.judge.temperature, prompt.sha256]
        fps, progress = _evaluation_start(context, storage, spec, name, offline, judge_config,
                                          code_hash(evaluation, quantities, ocr_backend))
        before = llm.usage()
        outcomes = []
        for key, fp in fps.items():

            def compute(key=key):
                items, images = _items_and_images(storage, spec, key)
                if not offline:
                    return _llm_judge_table(storage, llm, prompt, spec, items, images)
                rows = []
                for item in items.itertuples(index=False):
                    image = images.get(item.problem_id)
                    texts = None
                    if image is not None and image.status == "ok":
                        texts = ocr.texts(ocr.tokens(storage, image.image_sha256, image.image_path))
                        if image.text_labels_json:  # code-rendered figures also report their text artists
                            texts = texts + json.loads(image.text_labels_json)
                    row = evaluation.offline_judge_row(item.question, image if image is not None else _MISSING, texts)
                    rows.append({"problem_id": item.problem_id, "model": spec.name, "judge": evaluation.OFFLINE_JUDGE,
                                 "judge_temperature": None, "prompt": "", **row})
                return _judge_frame(rows)

            outcomes.append(build_or_reuse(storage, name, key, fp, compute))
            progress.update(outcomes[-1])
        frame = pd.concat([o.frame for o in outcomes], ignore_index=True)
        means = {d: (None if frame[d].isna().all() else round(float(frame[d].mean()), 3)) for d in evaluation.JUDGE_DIMENSIONS}
        return dg.MaterializeResult(metadata={
            "dagster/row_count": len(frame),
            "judge": judge_id,
            "means": dg.MetadataValue.json({d: (m if m is not None else "not measured") for d, m in means.items()}),
            "judge_status": counts_md(frame["judge_status"], "judge_status"),
            "failure_rate": float((frame["judge_status"] != "ok").mean()) if len(frame) else 0.0,
            "llm_usage": dg.MetadataValue.json(usage_between(before, llm.usage())),
            "reused_partitions": sum(o.reused for o in outcomes),
            "preview": preview(frame, ["problem_id", *evaluation.JUDGE_DIMENSIONS[:3], "label_recall"]),
        })

    return _judge


JUDGE_COLUMNS = ["problem_id", "model", "judge", "judge_temperature", "prompt", *evaluation.JUDGE_DIMENSIONS,
                 "judge_status", "label_recall", "missing_labels", "not_measured"]


def _judge_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=JUDGE_COLUMNS)
    for d in evaluation.JUDGE_DIMENSIONS:
        frame[d] = frame[d].astype("Int64")
    return frame


def _llm_judge_table(storage, llm, prompt, spec: ModelSpec, items: pd.DataFrame, images: dict) -> pd.DataFrame:
    """One judge call per rendered figure (image + problem text), validated to the five
    integer scores; a figure that never rendered is not sent and stays missing."""
    requests, rows = [], {}
    for item in items.itertuples(index=False):
        image = images.get(item.problem_id)
        rows[item.problem_id] = {"problem_id": item.problem_id, "model": spec.name, "judge": llm.model_id("judge"),
                                 "judge_temperature": llm.judge.temperature, "prompt": prompt.ref}
        if image is None or image.status != "ok":
            rows[item.problem_id] |= evaluation.offline_judge_row(item.question, image or _MISSING, None)
            continue
        url = evaluation.image_data_url(storage.read_bytes(image.image_path))
        requests.append(Request(item.problem_id, prompt.messages(image_data_url=url, question=item.question),
                                prompt.sha256))
    for result in llm.client().batch("judge", requests, schemas.parse_judge):
        rows[result.item_id] |= evaluation.llm_judge_row(result)
    return _judge_frame(list(rows.values()))


def _or_not_measured(value):
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        return "not measured"
    return float(value) if isinstance(value, np.floating) else value


def _llm_answers(storage, llm, prompt, items: pd.DataFrame, images: dict, blind: bool = False) -> dict:
    """Every quiz of every rendered figure answered by the answerer role from the image
    alone (or, for the blind control, with no image), options shown in the same shuffled
    order as the rows record; keyed by (problem, quiz question, shown options). A failed
    call counts as an abstention."""
    requests, keys = [], []
    for item in items.itertuples(index=False):
        image = images.get(item.problem_id)
        if not blind and (image is None or image.status != "ok"):
            continue
        url = None if blind else evaluation.image_data_url(storage.read_bytes(image.image_path))
        for i, quiz in enumerate(json.loads(item.quizzes_json)):
            shown, _ = evaluation.shuffle_options(quiz["options"], item.problem_id, i)
            options = "\n".join(f"{letter}. {text}" for letter, text in shown.items())
            keys.append((item.problem_id, quiz["question"], json.dumps(shown)))
            requests.append(Request(f"{item.problem_id}#{i}{'#blind' if blind else ''}", prompt.messages(
                image_data_url=url, quiz_question=quiz["question"], options=options), prompt.sha256))
    results = llm.client().batch("answerer", requests, schemas.parse_letter)
    return {key: (r.value if r.status == "ok" else None, r.content[:100] if r.status == "ok" else r.reason[:100])
            for key, r in zip(keys, results)}


class _Missing:
    status = "missing"
    overlapping_text_pairs = None


_MISSING = _Missing()


def iv_asset(spec: ModelSpec) -> dg.AssetsDefinition:
    name = f"iv_results/{spec.name}"

    @_evaluation_asset(
        spec, "iv_results", (
            f"Inverse validation of {spec.label}: every quiz answered from the image alone (options "
            "shuffled with a fixed seed per quiz); an image is faithful when all its quizzes are right. "
            "R_inv = faithful images / attempted problems; a missing or failed image is not faithful."
        ),
    )
    def _iv(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        storage: StorageResource = context.resources.storage
        ocr, llm = context.resources.ocr, context.resources.llm
        offline = llm.is_offline("answerer")
        prompt = prompts.load("answer_from_image")
        answerer = "offline:ocr-match" if offline else f"{llm.model_id('answerer')}|{prompt.ref}"
        fps, progress = _evaluation_start(context, storage, spec, name, offline,
                                          ocr.describe() if offline else answerer, code_hash(evaluation, ocr_backend))
        before = llm.usage()
        outcomes = []
        for key, fp in fps.items():

            def compute(key=key):
                items, images = _items_and_images(storage, spec, key)
                answers = {} if offline else _llm_answers(storage, llm, prompt, items, images)
                blind_answers = {} if offline else _llm_answers(storage, llm, prompt, items, images, blind=True)
                rows = []
                for item in items.itertuples(index=False):
                    image = images.get(item.problem_id)
                    if offline:  # OCR of no image finds nothing: the offline answerer abstains blind
                        blind = lambda q, opts: ocr.answer([], q, opts)  # noqa: E731
                    else:
                        blind = lambda q, opts, pid=item.problem_id: blind_answers[(pid, q, json.dumps(opts))]  # noqa: E731
                    answer = None
                    if image is not None and image.status == "ok":
                        if offline:
                            tokens = ocr.tokens(storage, image.image_sha256, image.image_path)
                            answer = lambda q, opts, tokens=tokens: ocr.answer(tokens, q, opts)  # noqa: E731
                        else:
                            answer = lambda q, opts, pid=item.problem_id: answers[(pid, q, json.dumps(opts))]  # noqa: E731
                    rows += evaluation.iv_rows(item, image, spec.name, answer, answerer, blind)
                return pd.DataFrame(rows, columns=evaluation.IV_COLUMNS)

            outcomes.append(build_or_reuse(storage, name, key, fp, compute))
            progress.update(outcomes[-1])
        frame = pd.concat([o.frame for o in outcomes], ignore_index=True)
        per_image = evaluation.per_image_faithfulness(frame)
        r = evaluation.r_inv(frame)
        r_orig = evaluation.r_inv(frame, exclude_failed=True)
        return dg.MaterializeResult(metadata={
            "dagster/row_count": len(frame),
            "images": len(per_image),
            "R_inv": _or_not_measured(r),
            "R_inv_excluding_failed_images (original rule)": _or_not_measured(r_orig),
            "question_accuracy": float(frame["correct"].mean()) if len(frame) else "not measured",
            "abstained": int(frame["abstained"].sum()),
            "blind_question_accuracy": _or_not_measured(evaluation.blind_accuracy(frame)),
            "R_inv_image_dependent_quizzes": _or_not_measured(evaluation.r_inv(evaluation.image_dependent(frame))),
            "llm_usage": dg.MetadataValue.json(usage_between(before, llm.usage())),
            "partitions": partitions_md(outcomes, lambda f: {"R_inv": evaluation.r_inv(f)}),
            "reused_partitions": sum(o.reused for o in outcomes),
        })

    return _iv


REFERENCE_COLUMNS = ["problem_id", "model", "image_type", "status", "psnr", "ssim", "ms_ssim", "ms_ssim_scales",
                     "hf_ratio_generated", "hf_ratio_real", "spectrum_generated", "spectrum_real"]
SUMMARY_COLUMNS = ["model", "pairs", "psnr_mean", "ssim_mean", "ms_ssim_mean", "fid", "kid_mean", "kid_std",
                   "fid_status", "inception_weights_sha256", "spectrum_freq", "spectrum_generated", "spectrum_real"]
RESIZE_POLICY = ("the real figure is flattened on white and resized (bicubic) to the generated image's size; "
                 "RGB, data range 255; SSIM with a 3 px uniform window, MS-SSIM with an 11 px Gaussian "
                 "(sigma 1.5) over up to 5 scales; FID/KID on Inception pool features at 299 x 299")


def _reference_pairs(storage: StorageResource, spec: ModelSpec):
    """(item, generated RGB or None, real RGB resized to it or None) per reference item."""
    for key in taxonomy.PARTITION_KEYS:
        if not storage.exists(storage.table_rel(f"images/{spec.name}", key)):
            continue
        items, images = _items_and_images(storage, spec, key)
        for item in items[items["reference_image"] != ""].itertuples(index=False):
            image = images.get(item.problem_id)
            if image is None or image.status != "ok":
                yield item, None, None
                continue
            generated = evaluation.load_rgb(storage.read_bytes(image.image_path))
            real = evaluation.resize_to(evaluation.load_rgb(item.reference_image), generated.shape[:2])
            yield item, generated, real


def reference_metrics_table(storage: StorageResource, spec: ModelSpec) -> pd.DataFrame:
    rows = []
    for item, generated, real in _reference_pairs(storage, spec):
        row = dict.fromkeys(REFERENCE_COLUMNS) | {
            "problem_id": item.problem_id, "model": spec.name, "image_type": item.image_type, "status": "no_image"}
        if generated is not None:
            row.update(status="ok", psnr=evaluation.psnr(generated, real), ssim=evaluation.ssim(generated, real),
                       ms_ssim=evaluation.ms_ssim(generated, real),
                       ms_ssim_scales=evaluation.ms_ssim_scales(generated.shape),
                       hf_ratio_generated=evaluation.high_frequency_ratio(generated),
                       hf_ratio_real=evaluation.high_frequency_ratio(real),
                       spectrum_generated=evaluation.radial_spectrum(generated)[1].tolist(),
                       spectrum_real=evaluation.radial_spectrum(real)[1].tolist())
        rows.append(row)
    return pd.DataFrame(rows, columns=REFERENCE_COLUMNS)


def inception_weights() -> tuple[Path | None, str]:
    """The configured Inception file and its sha256, or (None, why FID is not computed)."""
    value = os.environ.get(INCEPTION_ENV, "")
    if not value:
        return None, f"not computed: no Inception weights configured (set {INCEPTION_ENV} to a local file)"
    path = Path(value)
    if not path.is_file():
        return None, f"not computed: {INCEPTION_ENV}={value} is not a file"
    stat = path.stat()
    return path, _weights_sha(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _weights_sha(path: str, size: int, mtime_ns: int) -> str:
    from ..inception import file_sha256

    return file_sha256(path)  # ~100 MB: hashed once per (path, size, mtime)


@functools.lru_cache(maxsize=1)
def _inception_model(path: Path, sha: str):
    from ..inception import load_inception

    return load_inception(path)


def _features(storage: StorageResource, weights: Path, weights_sha: str, images: list[tuple[str, Callable]]) -> np.ndarray:
    """Inception pool features per image, cached in the store by (weights, image content),
    so the real figures are embedded once for every model and every rerun."""
    rows, todo = {}, []
    for sha, load in images:
        rel = f"cache/inception/{weights_sha[:16]}/{sha}.npy"
        if storage.exists(rel):
            rows[sha] = np.load(io.BytesIO(storage.read_bytes(rel)))
        else:
            todo.append((sha, load, rel))
    if todo:
        fresh = evaluation.inception_features([load() for _, load, _ in todo], _inception_model(weights, weights_sha))
        for (sha, _, rel), vector in zip(todo, fresh):
            buf = io.BytesIO()
            np.save(buf, vector)
            storage.write_bytes(rel, buf.getvalue())
            rows[sha] = vector
    return np.stack([rows[sha] for sha, _ in images]) if images else np.zeros((0, 2048))


def _mean_curve(column: pd.Series) -> list[float]:
    curves = [np.asarray(c, dtype=float) for c in column if c is not None and len(c)]
    return np.nanmean(np.stack(curves), axis=0).round(5).tolist() if curves else []


SPECTRUM_BINS = 48


def reference_summary(storage: StorageResource, spec: ModelSpec, frame: pd.DataFrame,
                      weights: Path | None, weights_sha: str) -> pd.DataFrame:
    """Means over the reference pairs, and FID / KID of the model's figures against ALL
    real reference figures (native size, each resized once to 299 x 299), the same real
    set for every model."""
    ok = frame[frame["status"] == "ok"]
    row = {"model": spec.name, "pairs": len(ok),
           "psnr_mean": float(ok["psnr"].replace(np.inf, np.nan).mean()) if len(ok) else None,
           "ssim_mean": float(ok["ssim"].mean()) if len(ok) else None,
           "ms_ssim_mean": float(pd.to_numeric(ok["ms_ssim"]).mean()) if len(ok) else None,
           "fid": None, "kid_mean": None, "kid_std": None,
           "inception_weights_sha256": weights_sha if weights else "",
           "spectrum_freq": ((np.arange(SPECTRUM_BINS) + 0.5) * 0.5 / SPECTRUM_BINS).tolist(),
           "spectrum_generated": _mean_curve(ok["spectrum_generated"]),
           "spectrum_real": _mean_curve(ok["spectrum_real"])}
    if weights is None:
        row["fid_status"] = weights_sha
        return pd.DataFrame([row], columns=SUMMARY_COLUMNS)
    items = storage.read_partitions("benchmark_items", taxonomy.PARTITION_KEYS)
    real = [(hashlib.sha256(Path(p).read_bytes()).hexdigest(), functools.partial(evaluation.load_rgb, p))
            for p in sorted(set(items.loc[items["reference_image"] != "", "reference_image"]))]
    images = storage.read_partitions(f"images/{spec.name}", taxonomy.PARTITION_KEYS)
    images = images[(images["status"] == "ok") & images["problem_id"].isin(ok["problem_id"])]
    generated = [(r.image_sha256, functools.partial(lambda rel: evaluation.load_rgb(storage.read_bytes(rel)), r.image_path))
                 for r in images.sort_values("problem_id").itertuples(index=False)]
    if min(len(real), len(generated)) < 2:
        row["fid_status"] = (f"not computed: {len(generated)} generated and {len(real)} real reference figure(s); "
                             "FID/KID need at least 2 of each")
        return pd.DataFrame([row], columns=SUMMARY_COLUMNS)
    scores = evaluation.fid_kid(_features(storage, weights, weights_sha, real),
                                _features(storage, weights, weights_sha, generated))
    row.update(fid=scores["fid"], kid_mean=scores["kid_mean"], kid_std=scores["kid_std"],
               fid_status=f"computed: {len(generated)} generated vs {len(real)} real figures, "
                          f"KID subsets of {scores['kid_subset_size']}"
                          + (" (one subset covers the set: no KID spread)" if scores["kid_std"] is None else ""))
    return pd.DataFrame([row], columns=SUMMARY_COLUMNS)


def reference_asset(spec: ModelSpec) -> dg.AssetsDefinition:
    name = f"reference_metrics/{spec.name}"

    @dg.asset(
        key=["reference_metrics", spec.name],
        deps=["benchmark_items", ["images", spec.name]],
        group_name="evaluation",
        kinds={"python"},
        owners=OWNERS,
        required_resource_keys={"storage"},
        description=(
            f"{spec.label} against real reference figures (SeePhys-style items): PSNR, SSIM and MS-SSIM "
            "(the real figure resized bicubic to the generated size), the high-frequency spectral energy "
            "ratio and radial spectra, and FID / KID when Inception weights are configured from a local "
            f"file ({INCEPTION_ENV}); otherwise FID says 'not computed'."
        ),
    )
    def _reference(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        storage: StorageResource = context.resources.storage
        shas = [storage.table_sha(a, k) for k in taxonomy.PARTITION_KEYS for a in ("benchmark_items", f"images/{spec.name}")]
        code = fingerprint(code_hash(evaluation, sys.modules[__name__]), INCEPTION_SOURCE.read_text())
        fp = fingerprint(shas, code)
        out = build_or_reuse(storage, name, None, fp, lambda: reference_metrics_table(storage, spec))
        frame = out.frame
        weights, weights_sha = inception_weights()
        summary = build_or_reuse(
            storage, f"reference_summary/{spec.name}", None,
            fingerprint(out.data_version, weights_sha if weights else "no-weights", code),
            lambda: reference_summary(storage, spec, frame, weights, weights_sha)).frame.iloc[0]
        ok = frame[frame["status"] == "ok"]
        hf_real = ok["hf_ratio_real"].mean() if len(ok) else 0.0
        return dg.MaterializeResult(metadata={
            "dagster/row_count": len(frame),
            "reference_pairs": len(ok),
            "psnr_mean": _or_not_measured(summary["psnr_mean"]),
            "ssim_mean": _or_not_measured(summary["ssim_mean"]),
            "ms_ssim_mean": _or_not_measured(summary["ms_ssim_mean"]),
            "hf_ratio_generated_over_real": float(ok["hf_ratio_generated"].mean() / hf_real)
            if len(ok) and hf_real > 0 else "not measured",
            "fid": float(summary["fid"]) if summary["fid"] is not None and not pd.isna(summary["fid"]) else summary["fid_status"],
            "kid": (summary["fid_status"] if summary["kid_mean"] is None or pd.isna(summary["kid_mean"])
                    else f"{summary['kid_mean']:.5f}" + ("" if summary["kid_std"] is None or pd.isna(summary["kid_std"])
                                                         else f" +- {summary['kid_std']:.5f}")),
            "fid_status": str(summary["fid_status"]),
            "resize_policy": RESIZE_POLICY,
            "reused": out.reused,
        })

    return _reference


def model_assets(spec: ModelSpec) -> list[dg.AssetsDefinition]:
    assets = [image_asset(spec), judge_asset(spec), iv_asset(spec)]
    # The real figures compared with themselves would be a perfect score: no reference metrics.
    return assets if spec.kind == "reference" else assets + [reference_asset(spec)]
