"""Leaderboard aggregation, plots and training exports, free of Dagster."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd

from . import evaluation, taxonomy

CI_METRICS = ["R_inv", *evaluation.JUDGE_DIMENSIONS]
METRICS = ["images", "image_success", "R_inv", "R_inv_orig", "R_inv_ref_items", "question_acc",
           *evaluation.JUDGE_DIMENSIONS, "psnr", "ssim", "ms_ssim", "fid", "kid",
           *[f"{m}_ci{end}" for m in CI_METRICS for end in ("_low", "_high")]]


def _summary(images: pd.DataFrame, judge: pd.DataFrame, iv: pd.DataFrame) -> dict:
    def mean_or_none(series: pd.Series):
        series = pd.to_numeric(series, errors="coerce").dropna()
        return round(float(series.mean()), 4) if len(series) else None

    per_image = evaluation.per_image_faithfulness(iv) if len(iv) else pd.DataFrame({"faithful": []})
    intervals = {"R_inv": evaluation.bootstrap_ci(per_image["faithful"].astype(float))} | {
        d: (evaluation.bootstrap_ci(judge[d]) if len(judge) else None) for d in evaluation.JUDGE_DIMENSIONS}
    bounds = {f"{m}_ci{end}": (round(ci[i], 4) if ci else None)
              for m, ci in intervals.items() for i, end in enumerate(("_low", "_high"))}
    return bounds | {
        "images": len(images),
        "image_success": mean_or_none(images["status"].eq("ok")) if len(images) else None,
        "R_inv": evaluation.r_inv(iv) if len(iv) else None,
        "R_inv_orig": evaluation.r_inv(iv, exclude_failed=True) if len(iv) else None,
        "question_acc": mean_or_none(iv["correct"]) if len(iv) else None,
        **{d: (mean_or_none(judge[d]) if len(judge) else None) for d in evaluation.JUDGE_DIMENSIONS},
    }


def leaderboard_frame(tables: dict[str, dict[str, pd.DataFrame]], labels: dict[str, str],
                      reference_ids: set[str] | None = None) -> pd.DataFrame:
    """Long table: one row per (scope, group, model) with every metric; missing = None.
    ``reference_ids`` (the items that ship a real figure) gives every model an R_inv over
    the same items as the real-figures ceiling."""
    rows = []
    for model, t in tables.items():
        images, judge, iv = t["images"], t["judge_scores"], t["iv_results"]
        summary = t.get("reference_summary")
        ref = summary.iloc[0] if summary is not None and len(summary) else {}

        def num(key):
            value = ref.get(key) if len(ref) else None
            return None if value is None or pd.isna(value) or not np.isfinite(value) else round(float(value), 4)

        # FID / KID stay None ("n/m") unless computed with configured Inception weights.
        overall = _summary(images, judge, iv) | {
            "psnr": num("psnr_mean"), "ssim": num("ssim_mean"), "ms_ssim": num("ms_ssim_mean"),
            "fid": num("fid"), "kid": num("kid_mean"),
            "R_inv_ref_items": (evaluation.r_inv(iv[iv["problem_id"].isin(reference_ids)])
                                if reference_ids and len(iv) and iv["problem_id"].isin(reference_ids).any() else None)}
        rows.append({"scope": "overall", "group": "", "model": model, "display_name": labels[model]} | overall)
        if not len(images):
            continue
        subject_of = {k: taxonomy.subject_type_for_key(k)[0] for k in taxonomy.PARTITION_KEYS}
        for scope, keyer in (("subject", subject_of.get), ("type", taxonomy.label_for_key)):
            groups = sorted({keyer(p) for p in images["partition"]})
            for g in groups:
                sel = lambda df: df[df["partition"].map(keyer) == g] if len(df) else df  # noqa: E731
                rows.append({"scope": scope, "group": g, "model": model, "display_name": labels[model]}
                            | _summary(sel(images), sel(judge), sel(iv))
                            | dict.fromkeys(("psnr", "ssim", "ms_ssim", "fid", "kid", "R_inv_ref_items")))
    return pd.DataFrame(rows, columns=["scope", "group", "model", "display_name", *METRICS])


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "n/m"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def format_overall(overall: pd.DataFrame) -> pd.DataFrame:
    """The overall rows for people: metrics with their 95% bootstrap interval in brackets,
    "n/m" where the configured judge or answerer could not measure."""
    shown = overall.sort_values("R_inv", ascending=False, na_position="last").copy()
    for m in CI_METRICS:
        low, high = shown.pop(f"{m}_ci_low"), shown.pop(f"{m}_ci_high")
        shown[m] = [_fmt(v) if _fmt(v) == "n/m" or pd.isna(lo) else f"{_fmt(v)} [{lo:.2f}, {hi:.2f}]"
                    for v, lo, hi in zip(shown[m], low, high)]
    for c in METRICS:
        if c in shown and c not in CI_METRICS:
            shown[c] = shown[c].map(_fmt)
    return shown


def pivot(board: pd.DataFrame, scope: str, metric: str = "R_inv") -> pd.DataFrame:
    part = board[board["scope"] == scope]
    if part.empty:
        return pd.DataFrame()
    return part.pivot_table(index="group", columns="model", values=metric, aggfunc="first").round(3)


def markdown(board: pd.DataFrame) -> str:
    overall = format_overall(board[board["scope"] == "overall"].drop(columns=["scope", "group"]))
    parts = ["# Leaderboard", "", "n/m = not measured by the configured judge/answerer.", "",
             overall.to_markdown(index=False, disable_numparse=True), "", "## R_inv by subject", "", pivot(board, "subject").to_markdown(),
             "", "## R_inv by image type", "", pivot(board, "type").to_markdown(), ""]
    return "\n".join(parts)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ---------------------------------------------------------------------------- exports ---


def select_for_training(items: pd.DataFrame, tables: dict[str, pd.DataFrame], require_faithful: bool,
                        min_judge_mean: float) -> pd.DataFrame:
    """Items whose figure rendered, passed inverse validation and the judge threshold."""
    images, judge, iv = tables["images"], tables["judge_scores"], tables["iv_results"]
    if images.empty:
        return pd.DataFrame(columns=[*items.columns, "image_path", "image_sha256", "model", "judge_mean"])
    # A figure that shows its own answer teaches nothing: it never enters a training set.
    usable = images[(images["status"] == "ok") & ~images["answer_leak"].fillna(False).astype(bool)]
    chosen = items.merge(usable[["problem_id", "image_path", "image_sha256", "model"]], on="problem_id")
    if require_faithful:
        per = evaluation.per_image_faithfulness(iv)
        chosen = chosen[chosen["problem_id"].isin(per.loc[per["faithful"], "problem_id"])]
    dims = list(evaluation.JUDGE_DIMENSIONS)
    means = judge.set_index("problem_id")[dims].apply(pd.to_numeric, errors="coerce").mean(axis=1, skipna=True) \
        if len(judge) else pd.Series(dtype=float)
    chosen = chosen.assign(judge_mean=chosen["problem_id"].map(means))
    # An item whose every dimension went unmeasured is not rejected by the judge threshold.
    keep = chosen["judge_mean"].isna() | (chosen["judge_mean"] >= min_judge_mean)
    return chosen[keep].sort_values("problem_id").reset_index(drop=True)


def _prompt_text(row) -> str:
    return (row.multimodal_question or row.question).strip()


def verl_rows(chosen: pd.DataFrame, storage, data_source: str) -> pd.DataFrame:
    """VeRL's multimodal RL format: the image placeholder precedes the question; each row
    names the model that made its figure (a hybrid set mixes several)."""
    rows = []
    for i, r in enumerate(chosen.itertuples(index=False)):
        rows.append({
            "data_source": data_source,
            "prompt": [{"role": "user", "content": "<image>" + _prompt_text(r)}],
            "images": [{"bytes": storage.read_bytes(r.image_path), "path": r.image_path}],
            "ability": r.subject.lower(),
            "reward_model": {"style": "rule", "ground_truth": r.answer},
            "extra_info": {"index": i, "problem_id": r.problem_id, "image_type": r.image_type, "model": r.model,
                           "image_sha256": r.image_sha256, "split": "train"},
        })
    return pd.DataFrame(rows, columns=["data_source", "prompt", "images", "ability", "reward_model", "extra_info"])


def hf_rows(chosen: pd.DataFrame, storage) -> pd.DataFrame:
    """Columns that `datasets` reads as (Image, string...) features."""
    rows = [{
        "problem_id": r.problem_id, "image": {"bytes": storage.read_bytes(r.image_path), "path": r.image_path},
        "question": _prompt_text(r), "answer": r.answer, "subject": r.subject, "image_type": r.image_type,
        "model": r.model, "elements": json.loads(r.elements_json),
    } for r in chosen.itertuples(index=False)]
    return pd.DataFrame(rows, columns=["problem_id", "image", "question", "answer", "subject", "image_type",
                                       "model", "elements"])


# ------------------------------------------------------------- hybrid and scaling sets ---

HYBRID = "hybrid"


def hybrid_choice(board: pd.DataFrame, candidates: list[str]) -> pd.DataFrame:
    """Per image type, the candidate model with the best R_inv (ties broken by question
    accuracy, then the judge mean, then the name): the study's suggestion of combining
    the code and pixel paradigms type by type."""
    dims = list(evaluation.JUDGE_DIMENSIONS)
    types = board[(board["scope"] == "type") & board["model"].isin(candidates)].copy()
    for c in ["R_inv", "question_acc", *dims]:
        types[c] = pd.to_numeric(types[c], errors="coerce")
    types["judge_mean"] = types[dims].mean(axis=1, skipna=True)
    rows = []
    for label in taxonomy.LABELS:
        part = types[(types["group"] == label) & types["R_inv"].notna()]
        if part.empty:
            rows.append({"image_type": label, "model": None, "R_inv": None, "runner_up": None, "runner_up_R_inv": None})
            continue
        ranked = part.sort_values(["R_inv", "question_acc", "judge_mean", "model"],
                                  ascending=[False, False, False, True], na_position="last")
        best = ranked.iloc[0]
        second = ranked.iloc[1] if len(ranked) > 1 else None
        rows.append({"image_type": label, "model": best["model"], "R_inv": float(best["R_inv"]),
                     "runner_up": None if second is None else second["model"],
                     "runner_up_R_inv": None if second is None else float(second["R_inv"])})
    return pd.DataFrame(rows, columns=["image_type", "model", "R_inv", "runner_up", "runner_up_R_inv"])


def hybrid_selection(choice: pd.DataFrame, selections: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The verified items of each type's winning model, together."""
    parts = [selections[r.model][selections[r.model]["image_type"] == r.image_type]
             for r in choice.itertuples(index=False) if r.model is not None and r.model in selections]
    parts = [p for p in parts if len(p)]
    if not parts:
        return next(iter(selections.values())).iloc[0:0] if selections else pd.DataFrame()
    return pd.concat(parts, ignore_index=True).sort_values("problem_id").reset_index(drop=True)


def log_spaced_sizes(n: int, count: int = 5, minimum: int = 8) -> list[int]:
    """Subset sizes for a data-scaling study: ``count`` sizes spaced evenly on a log scale
    from ``minimum`` to ``n`` (the full set is the last)."""
    if n <= 0:
        return []
    if n <= minimum or count <= 1:
        return [n]
    return sorted({int(round(v)) for v in np.geomspace(minimum, n, count)})


def scaling_order(chosen: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Rows in a seeded order whose every prefix is as balanced over image types as the
    data allow (shuffle within each type, then take the types in turn), so the subsets
    are nested: each smaller one is contained in every larger one."""
    if chosen.empty:
        return chosen
    rng = np.random.default_rng(seed)
    queues = {}
    for label, part in sorted(chosen.groupby("image_type"), key=lambda kv: kv[0]):
        ids = sorted(part.index)
        queues[label] = [ids[i] for i in rng.permutation(len(ids))]
    order = []
    while queues:
        for label in list(queues):
            order.append(queues[label].pop(0))
            if not queues[label]:
                del queues[label]
    return chosen.loc[order].reset_index(drop=True)


def dataset_card(manifest: dict) -> str:
    """The README.md of the exports: what is inside, how it was made, how to load it."""
    m = manifest
    lines = [
        "# SciGen verified figures: fine-tuning exports", "",
        "Scientific problems paired with figures that passed this pipeline's checks: the figure rendered, "
        "every inverse-validation quiz was answered right from the figure alone"
        + ("" if m["thresholds"]["require_faithful"] else " (not required in this export)")
        + f", the judge mean was at least {m['thresholds']['min_judge_mean']} (where measured), "
        "and no answer text is visible in the figure.", "",
        "## Files", "",
        "| export | source models | rows | VeRL parquet | HF parquet | scaling subsets (rows) |",
        "|---|---|---|---|---|---|",
    ]
    for name, e in m["exports"].items():
        subsets = ", ".join(str(s["rows"]) for s in e["subsets"]) or "-"
        lines.append(f"| {name} | {', '.join(e['source_models'])} | {e['rows']} | `{e['files']['verl']['path']}` "
                     f"| `{e['files']['hf']['path']}` | {subsets} |")
    lines += [
        "", "VeRL rows: `data_source`, `prompt` (chat messages; `<image>` marks the figure), `images` "
        "(list of {bytes, path}), `ability` (subject), `reward_model` ({style: rule, ground_truth}), "
        "`extra_info` (problem id, image type, source model, image sha256, split). The HF files load with "
        "`datasets.load_dataset(\"parquet\", data_files=...)`; `image` decodes as an Image feature.", "",
        "Scaling subsets are nested (every smaller subset is inside every larger one) and balanced over "
        f"image types as far as the data allow; sizes are log-spaced; order seed {m['thresholds']['subset_seed']}.",
        "", "## How it was made", "",
        f"- code: {m['code']['package']}, git {m['code']['git_commit']}, source sha256 {m['code']['source_sha256']}",
        f"- judge: {', '.join(m['judge']) or 'none'}",
        f"- inverse-validation answerer: {', '.join(m['answerer']) or 'none'}",
        f"- thresholds: `{json.dumps(m['thresholds'], sort_keys=True)}`",
        "- models:",
        *[f"  - {name}: {desc}" for name, desc in m["models"].items()],
        "- prompt hashes (sha256):",
        *[f"  - {name}: {sha}" for name, sha in m["prompts"].items()],
    ]
    if m.get("hybrid"):
        lines += ["", "## Hybrid set: best model per image type (by R_inv)", "",
                  "| image type | model | R_inv | runner-up | runner-up R_inv |", "|---|---|---|---|---|"]
        for r in m["hybrid"]:
            lines.append(f"| {r['image_type']} | {r['model'] or 'none measured'} | {_fmt(r['R_inv'])} "
                         f"| {r['runner_up'] or '-'} | {_fmt(r['runner_up_R_inv'])} |")
    lines += ["", "## Rows per image type", ""]
    names = list(m["exports"])
    lines += ["| image type | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for label in taxonomy.LABELS:
        lines.append(f"| {label} | " + " | ".join(str(m["exports"][n]["per_type"].get(label, 0)) for n in names) + " |")
    lines += ["", f"Created {m['created_at']}. The full manifest is `manifest.json` beside this file.", ""]
    return "\n".join(lines)
