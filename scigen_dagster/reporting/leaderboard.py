"""The leaderboard table: one row per (scope, group, model) with every metric and its
bootstrap interval; its Markdown form and the people-facing overall table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scigen_dagster import taxonomy
from scigen_dagster.evaluation import inverse, scores, stats
from scigen_dagster.evaluation.judge import JUDGE_DIMENSIONS
from scigen_dagster.evaluation.protocol import STRICT, split_of
from scigen_dagster.evaluation.proxies import PROXY_HELP
from scigen_dagster.reporting.formatting import format_value, is_missing

CI_METRICS = ["R_inv", *JUDGE_DIMENSIONS]

PROXY_METRICS = list(PROXY_HELP)  # OCR measures of the PNG: not rubric scores, never in the rubric columns

# Who measured a row, for people: the rubric judge and the inverse-validation answerer.
EVALUATED_BY = ["rubric_judge", "iv_answerer"]

# Why a model's row is all n/m: it has no figure in any materialized partition.
NOTE = "note"
NO_REAL_FIGURES = "no items: the corpus ships no real figures"
NO_FIGURES = "no items: no figures in the materialized partitions"

# What the evaluation of a row cost (judge and inverse-validation calls at list price,
# whether paid in this run or served from the cache): each protocol shows its own.
COST_METRICS = ["eval_calls", "eval_tokens", "eval_cost_usd"]

METRICS = ["images", "image_success", "R_inv", "R_inv_quizzes", "R_inv_orig", "R_inv_ref_items", "question_acc",
           "full_question_acc", "iv_images", *JUDGE_DIMENSIONS, *PROXY_METRICS, "psnr", "ssim", "ms_ssim", "fid", "kid",
           "clip_score", *COST_METRICS, *[f"{m}_ci{end}" for m in CI_METRICS for end in ("_low", "_high")]]

# The leaderboard's scopes: everything, per subject, per image type, and the study's
# subsets apart (scigen, seephys; "corpus" for other sources), also per image type.
SCOPES = ("overall", "subject", "type", "split", "split_type")


def _mean_or_none(series: pd.Series):
    series = pd.to_numeric(series, errors="coerce").dropna()
    return round(float(series.mean()), 4) if len(series) else None


def _cost(judge: pd.DataFrame, iv: pd.DataFrame) -> dict:
    frames = [f for f in (judge, iv) if len(f) and "llm_calls" in f]
    if not frames:
        return dict.fromkeys(COST_METRICS)
    costs = pd.concat([f["llm_cost_usd"] for f in frames])
    return {"eval_calls": int(sum(pd.to_numeric(f["llm_calls"]).fillna(0).sum() for f in frames)),
            "eval_tokens": int(sum(pd.to_numeric(f["llm_tokens"]).fillna(0).sum() for f in frames)),
            "eval_cost_usd": None if costs.isna().any() else round(float(costs.sum()), 6)}


def _summary(images: pd.DataFrame, judge: pd.DataFrame, iv: pd.DataFrame) -> dict:
    """Every metric of one slice of one protocol's rows, counted by that protocol's rules
    (evaluation/scores.py)."""
    per_image = scores.per_image(iv) if len(iv) else pd.DataFrame({"faithful": []})
    counted = scores.judged(judge) if len(judge) else judge
    intervals = {"R_inv": stats.bootstrap_ci(per_image["faithful"].astype(float))} | {
        d: (stats.bootstrap_ci(pd.to_numeric(counted[d], errors="coerce").dropna()) if len(counted) else None)
        for d in JUDGE_DIMENSIONS}
    bounds = {f"{m}_ci{end}": (round(ci[i], 4) if ci else None)
              for m, ci in intervals.items() for i, end in enumerate(("_low", "_high"))}
    judged = judge[judge["judge_status"] == "ok"] if len(judge) and "judge_status" in judge else judge
    quizzes = iv[iv["check"] == "quiz"] if len(iv) and "check" in iv else iv
    means = scores.judge_means(judge) if len(judge) else dict.fromkeys(JUDGE_DIMENSIONS)
    return bounds | scores.iv_summary(iv) | _cost(judge, iv) | {
        "images": len(images),
        **{c: (_mean_or_none(judged[c]) if len(judged) and c in judged else None) for c in PROXY_METRICS},
        "image_success": _mean_or_none(images["status"].eq("ok")) if len(images) else None,
        "R_inv_orig": inverse.r_inv(quizzes, exclude_failed=True) if len(quizzes) else None,
        **{d: (None if m is None else round(m, 4)) for d, m in means.items()},
    }


def _of_protocol(frame: pd.DataFrame, protocol: str) -> pd.DataFrame:
    if not len(frame) or "protocol" not in frame:
        return frame if protocol in ("", STRICT) else frame.iloc[0:0]
    return frame[frame["protocol"].fillna(STRICT) == protocol]


def leaderboard_frame(tables: dict[str, dict[str, pd.DataFrame]], labels: dict[str, str],
                      reference_ids: set[str] | None = None, ceiling: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Long table: one row per (scope, group, model, protocol) with every metric; missing =
    None. Each protocol whose rows a model's tables hold gets its own rows, counted by its
    rules. ``reference_ids`` (the items that ship a real figure) gives every model an R_inv
    over the same items as the real-figures ceiling. A model without figures (the
    ``ceiling`` on a corpus without real figures) says why in its overall row's ``note``."""
    rows = []
    subject_of = {k: taxonomy.subject_type_for_key(k)[0] for k in taxonomy.PARTITION_KEYS}
    keyers = {"subject": lambda df: df["partition"].map(subject_of),
              "type": lambda df: df["partition"].map(taxonomy.label_for_key),
              "split": lambda df: df["problem_id"].map(split_of),
              "split_type": lambda df: df["problem_id"].map(split_of) + ": " + df["partition"].map(taxonomy.label_for_key)}
    for model, t in tables.items():
        images, judge, iv = t["images"], t["judge_scores"], t["iv_results"]
        summary = t.get("reference_summary")
        ref = summary.iloc[0] if summary is not None and len(summary) else {}

        def num(key):
            value = ref.get(key) if len(ref) else None
            return None if value is None or pd.isna(value) or not np.isfinite(value) else round(float(value), 4)

        for protocol in sorted(set(scores.protocols_in(judge)) | set(scores.protocols_in(iv))) or [""]:
            p_judge, p_iv = _of_protocol(judge, protocol), _of_protocol(iv, protocol)
            ids = {"model": model, "display_name": labels[model], "protocol": protocol,
                   "rubric_judge": _rubric_judge(p_judge),
                   "iv_answerer": inverse.iv_method(p_iv["answerer"]) if "answerer" in p_iv else None}
            # FID / KID / CLIP stay None ("n/m") unless computed with configured local weights.
            on_ref = p_iv[p_iv["problem_id"].isin(reference_ids)] if reference_ids and len(p_iv) else p_iv.iloc[0:0]
            overall = _summary(images, p_judge, p_iv) | {
                "psnr": num("psnr_mean"), "ssim": num("ssim_mean"), "ms_ssim": num("ms_ssim_mean"),
                "fid": num("fid"), "kid": num("kid_mean"), "clip_score": num("clip_score"),
                "R_inv_ref_items": scores.iv_summary(on_ref)["R_inv"] if len(on_ref) else None}
            note = None if len(images) else (NO_REAL_FIGURES if model in ceiling else NO_FIGURES)
            rows.append({"scope": "overall", "group": ""} | ids | {NOTE: note} | overall)
            if not len(images):
                continue
            for scope, keyer in keyers.items():
                group_of = dict(zip(images["problem_id"], keyer(images)))  # a problem sits in one partition
                for g in sorted(set(group_of.values())):
                    sel = lambda df: df[df["problem_id"].map(group_of) == g] if len(df) else df  # noqa: E731
                    rows.append({"scope": scope, "group": g} | ids | _summary(sel(images), sel(p_judge), sel(p_iv))
                                | dict.fromkeys(("psnr", "ssim", "ms_ssim", "fid", "kid", "clip_score", "R_inv_ref_items")))
    return pd.DataFrame(rows, columns=["scope", "group", "model", "display_name", "protocol", *EVALUATED_BY, NOTE,
                                       *METRICS])


def _rubric_judge(judge: pd.DataFrame) -> str:
    """The judge model(s) behind the rubric columns, or why they are empty."""
    if not len(judge) or "judge" not in judge:
        return "not measured"
    scored = judge[judge[list(JUDGE_DIMENSIONS)].notna().any(axis=1)]
    if not len(scored):
        return "not measured (no rubric judge configured)" if judge["judge"].astype(str).str.startswith(
            "offline").any() else "not measured"
    return "; ".join(sorted(scored["judge"].astype(str).unique()))


NOTES = [
    "n/m = not measured by the configured judge/answerer (never counted as 0).",
    "protocol: strict (ours: options shuffled, abstention allowed, a blind control, a failed or missing figure "
    "is not faithful) or scigenbench (the study's choices and denominators: R_inv over images that rendered and "
    "whose quiz calls succeeded, the full-question check folded in for scigen items, R_inv_quizzes without it); "
    "scigen and seephys items are reported apart (scope split).",
    "The five rubric columns hold a rubric judge's scores only; with the judge role offline they are n/m.",
    *[f"{m}: {h}." for m, h in PROXY_HELP.items()],
    f"iv_answerer \"OCR lookup (lower bound)\": {inverse.OCR_LOOKUP_NOTE}; its blind control is not measured.",
]


def format_overall(overall: pd.DataFrame) -> pd.DataFrame:
    """The overall rows for people: metrics with their 95% bootstrap interval in brackets,
    "n/m" where the configured judge or answerer could not measure."""
    shown = overall.sort_values("R_inv", ascending=False, na_position="last").copy()
    for m in CI_METRICS:
        low, high = shown.pop(f"{m}_ci_low"), shown.pop(f"{m}_ci_high")
        shown[m] = [format_value(v) if format_value(v) == "n/m" or pd.isna(lo) else f"{format_value(v)} [{lo:.2f}, {hi:.2f}]"
                    for v, lo, hi in zip(shown[m], low, high)]
    for c in [*METRICS, *EVALUATED_BY]:  # a model with no rows has no evaluator either: n/m, not "nan"
        if c in shown and c not in CI_METRICS:
            shown[c] = shown[c].map(format_value)
    if NOTE in shown:
        shown[NOTE] = shown[NOTE].map(lambda v: "" if is_missing(v) else v)
    return shown


def pivot(board: pd.DataFrame, scope: str, metric: str = "R_inv") -> pd.DataFrame:
    part = board[board["scope"] == scope]
    if part.empty:
        return pd.DataFrame()
    return part.pivot_table(index="group", columns="model", values=metric, aggfunc="first").round(3)


def markdown(board: pd.DataFrame) -> str:
    overall = format_overall(board[board["scope"] == "overall"].drop(columns=["scope", "group"]))
    parts = ["# Leaderboard", "", *[f"- {n}" for n in NOTES], "",
             overall.to_markdown(index=False, disable_numparse=True), "", "## R_inv by subject", "", pivot(board, "subject").to_markdown(),
             "", "## R_inv by image type", "", pivot(board, "type").to_markdown(),
             "", "## R_inv by subset (scigen, seephys, other sources)", "", pivot(board, "split").to_markdown(), ""]
    return "\n".join(parts)
