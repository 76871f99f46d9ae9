"""The leaderboard table: one row per (scope, group, model) with every metric and its
bootstrap interval; its Markdown form and the people-facing overall table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scigen_dagster import taxonomy
from scigen_dagster.evaluation import inverse, stats
from scigen_dagster.evaluation.judge import JUDGE_DIMENSIONS
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


METRICS = ["images", "image_success", "R_inv", "R_inv_orig", "R_inv_ref_items", "question_acc",
           *JUDGE_DIMENSIONS, *PROXY_METRICS, "psnr", "ssim", "ms_ssim", "fid", "kid", "clip_score",
           *[f"{m}_ci{end}" for m in CI_METRICS for end in ("_low", "_high")]]


def _summary(images: pd.DataFrame, judge: pd.DataFrame, iv: pd.DataFrame) -> dict:
    def mean_or_none(series: pd.Series):
        series = pd.to_numeric(series, errors="coerce").dropna()
        return round(float(series.mean()), 4) if len(series) else None

    per_image = inverse.per_image_faithfulness(iv) if len(iv) else pd.DataFrame({"faithful": []})
    intervals = {"R_inv": stats.bootstrap_ci(per_image["faithful"].astype(float))} | {
        d: (stats.bootstrap_ci(judge[d]) if len(judge) else None) for d in JUDGE_DIMENSIONS}
    bounds = {f"{m}_ci{end}": (round(ci[i], 4) if ci else None)
              for m, ci in intervals.items() for i, end in enumerate(("_low", "_high"))}
    judged = judge[judge["judge_status"] == "ok"] if len(judge) and "judge_status" in judge else judge
    return bounds | {
        "images": len(images),
        **{c: (mean_or_none(judged[c]) if len(judged) and c in judged else None) for c in PROXY_METRICS},
        "image_success": mean_or_none(images["status"].eq("ok")) if len(images) else None,
        "R_inv": inverse.r_inv(iv) if len(iv) else None,
        "R_inv_orig": inverse.r_inv(iv, exclude_failed=True) if len(iv) else None,
        "question_acc": mean_or_none(iv["correct"]) if len(iv) else None,
        **{d: (mean_or_none(judge[d]) if len(judge) else None) for d in JUDGE_DIMENSIONS},
    }


def leaderboard_frame(tables: dict[str, dict[str, pd.DataFrame]], labels: dict[str, str],
                      reference_ids: set[str] | None = None, ceiling: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Long table: one row per (scope, group, model) with every metric; missing = None.
    ``reference_ids`` (the items that ship a real figure) gives every model an R_inv over
    the same items as the real-figures ceiling. A model without figures (the ``ceiling``
    on a corpus without real figures) says why in its overall row's ``note``."""
    rows = []
    for model, t in tables.items():
        images, judge, iv = t["images"], t["judge_scores"], t["iv_results"]
        summary = t.get("reference_summary")
        ref = summary.iloc[0] if summary is not None and len(summary) else {}

        def num(key):
            value = ref.get(key) if len(ref) else None
            return None if value is None or pd.isna(value) or not np.isfinite(value) else round(float(value), 4)

        # FID / KID / CLIP stay None ("n/m") unless computed with configured local weights.
        overall = _summary(images, judge, iv) | {
            "psnr": num("psnr_mean"), "ssim": num("ssim_mean"), "ms_ssim": num("ms_ssim_mean"),
            "fid": num("fid"), "kid": num("kid_mean"), "clip_score": num("clip_score"),
            "R_inv_ref_items": (inverse.r_inv(iv[iv["problem_id"].isin(reference_ids)])
                                if reference_ids and len(iv) and iv["problem_id"].isin(reference_ids).any() else None)}
        by = {"rubric_judge": _rubric_judge(judge), "iv_answerer": inverse.iv_method(iv["answerer"]) if "answerer" in iv else None}
        note = None if len(images) else (NO_REAL_FIGURES if model in ceiling else NO_FIGURES)
        rows.append({"scope": "overall", "group": "", "model": model, "display_name": labels[model]} | by
                    | {NOTE: note} | overall)
        if not len(images):
            continue
        subject_of = {k: taxonomy.subject_type_for_key(k)[0] for k in taxonomy.PARTITION_KEYS}
        for scope, keyer in (("subject", subject_of.get), ("type", taxonomy.label_for_key)):
            groups = sorted({keyer(p) for p in images["partition"]})
            for g in groups:
                sel = lambda df: df[df["partition"].map(keyer) == g] if len(df) else df  # noqa: E731
                rows.append({"scope": scope, "group": g, "model": model, "display_name": labels[model]} | by
                            | _summary(sel(images), sel(judge), sel(iv))
                            | dict.fromkeys(("psnr", "ssim", "ms_ssim", "fid", "kid", "clip_score", "R_inv_ref_items")))
    return pd.DataFrame(rows, columns=["scope", "group", "model", "display_name", *EVALUATED_BY, NOTE, *METRICS])


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
             "", "## R_inv by image type", "", pivot(board, "type").to_markdown(), ""]
    return "\n".join(parts)
