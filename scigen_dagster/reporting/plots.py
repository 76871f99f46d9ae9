"""The leaderboard's plots: R_inv bars with intervals, the model x type heatmap, the judge
radar and the radial spectra; PNG bytes rendered with Agg, the same inputs giving the same
bytes. Missing values are drawn as n/m, never as 0."""

from __future__ import annotations

import io
import math
from collections.abc import Collection, Mapping
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from scigen_dagster import taxonomy
from scigen_dagster.evaluation.judge import JUDGE_DIMENSIONS
from scigen_dagster.evaluation.proxies import PROXY_HELP
from scigen_dagster.reporting.formatting import NM, as_number, is_missing

matplotlib.use("Agg")


DEFAULT_TITLE = "SciGenBench leaderboard"


ID_COLUMNS = ("scope", "group", "model", "display_name", "protocol", "rubric_judge", "iv_answerer", "note")


# Known metrics in reading order; columns not listed here follow in the frame's order.
METRIC_ORDER = ("images", "image_success", "R_inv", "R_inv_quizzes", "R_inv_orig", "R_inv_ref_items", "question_acc",
                "full_question_acc", "iv_images", *JUDGE_DIMENSIONS, *PROXY_HELP, "psnr", "ssim", "ms_ssim", "fid", "kid",
                "clip_score", "hf_ratio", "eval_calls", "eval_tokens", "eval_cost_usd")


GENERATION, IV, JUDGE, PROXY, IMAGE, COST = ("Generation", "Inverse validation", "Rubric judge (0–2)",
                                            "OCR proxies (not rubric scores)", "Image metrics", "Evaluation cost")


GROUP_OF = {"images": GENERATION, "image_success": GENERATION, "R_inv": IV, "R_inv_quizzes": IV, "R_inv_orig": IV,
            "R_inv_ref_items": IV, "question_acc": IV, "full_question_acc": IV, "iv_images": IV} | {
    d: JUDGE for d in JUDGE_DIMENSIONS} | {m: PROXY for m in PROXY_HELP} | {
    c: COST for c in ("eval_calls", "eval_tokens", "eval_cost_usd")}


METRIC_HELP = {
    "images": "figures attempted",
    "image_success": "share of figures that rendered",
    "R_inv": "faithful figures / counted problems under the row's protocol (strict: every attempted problem, a "
             "failed figure is unfaithful; scigenbench: the study's denominators, full-question check folded in for "
             "scigen items)",
    "R_inv_quizzes": "R_inv from the quizzes alone (scigenbench: without the full-question check)",
    "R_inv_orig": "R_inv over rendered figures only, the row's own quizzes",
    "full_question_acc": "share of scigen items whose full multimodal question was answered right from the figure "
                         "(scigenbench only)",
    "iv_images": "figures R_inv is taken over (its denominator)",
    "eval_calls": "judge and inverse-validation model calls behind the row",
    "eval_tokens": "their tokens (paid in this run or earlier and cached)",
    "eval_cost_usd": "their cost at list price (n/m when a model has no price)",
    "R_inv_ref_items": "R_inv over the items that ship a real figure: the set the real-figures ceiling is measured on",
    "question_acc": "share of counted quizzes answered right from the figure (scigenbench: quizzes of rendered "
                    "figures whose calls succeeded)",
    "psnr": "PSNR to the real figure (dB)",
    "ssim": "SSIM to the real figure",
    "ms_ssim": "multi-scale SSIM to the real figure",
    "fid": "Fréchet Inception distance to the real figures (lower is better)",
    "kid": "kernel Inception distance to the real figures (lower is better)",
    "clip_score": "CLIP ViT-B/16 score of the figure against its problem text, 100 x max(cos, 0), correctly "
                  "preprocessed (so not comparable with the study's near-constant column)",
    "hf_ratio": "share of spectral power above a quarter of Nyquist",
} | {d: f"rubric judge score 0–2: {d.replace('_', ' & ')}" for d in JUDGE_DIMENSIONS} | PROXY_HELP


PLOT_CAPTIONS = {
    "r_inv_bars": "R_inv per model with its bootstrap 95% interval; n/m = not measured.",
    "r_inv_heatmap": "R_inv per model and image type; grey n/m cells were not measured.",
    "judge_radar": "Judge scores (0–2) on the five dimensions; a dimension not measured leaves a gap.",
    "spectra": "Radially averaged log power spectrum of the figures (mean over images).",
}


_REAL_COLOUR = "#222222"


_BAR_COLOUR = "#4c72b0"


_DPI = 100


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None}, bbox_inches="tight", pad_inches=0.15)
    return buf.getvalue()


def overall_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The overall rows of a board (or the frame as given when it has no scope column)."""
    if "scope" in frame.columns:
        frame = frame[frame["scope"] == "overall"]
    return frame.drop_duplicates(subset=["model"] if "model" in frame.columns else None)


def display_name_of(row: Mapping[str, Any]) -> str:
    name = row.get("display_name")
    return str(row.get("model", "?") if is_missing(name) or name == "" else name)


def is_real_row(row: Mapping[str, Any], ceiling: Collection[str]) -> bool:
    """Whether the row is a ceiling model's (the real figures), drawn apart from the others."""
    return row.get("model") in ceiling


def ordered_rows(overall: pd.DataFrame, metric: str = "R_inv") -> pd.DataFrame:
    """Best first by ``metric`` (missing last), ties by display name: a stable order."""
    df = overall.copy()
    df["_name"] = [display_name_of(r) for r in df.to_dict("records")]
    df["_key"] = pd.to_numeric(df[metric], errors="coerce") if metric in df.columns else np.nan
    return df.sort_values(["_key", "_name"], ascending=[False, True], na_position="last", kind="mergesort")


def ci_of(row: Mapping[str, Any], metric: str) -> tuple[float, float] | None:
    lo, hi = as_number(row.get(f"{metric}_ci_low")), as_number(row.get(f"{metric}_ci_high"))
    return (lo, hi) if lo is not None and hi is not None else None


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The metric columns of a leaderboard frame, known ones in reading order first."""
    cols = [c for c in frame.columns if c not in ID_COLUMNS and not str(c).startswith("_")
            and not str(c).endswith(("_ci_low", "_ci_high"))]
    known = [c for c in METRIC_ORDER if c in cols]
    return known + [c for c in cols if c not in known]


def _scale(metric: str) -> tuple[float, float] | None:
    if metric in JUDGE_DIMENSIONS:
        return 0.0, 2.0
    if metric in ("R_inv", "R_inv_quizzes", "R_inv_orig", "R_inv_ref_items", "question_acc", "full_question_acc",
                  "image_success", "ssim", "ms_ssim", "hf_ratio", "given_values_shown"):
        return 0.0, 1.0
    return None


def _placeholder(fig: Figure, ax, text: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=14, color="#666666", transform=ax.transAxes)


def bars_with_intervals(overall: pd.DataFrame, metric: str = "R_inv", ceiling: Collection[str] = ()) -> bytes:
    """Horizontal bars per model, best on top, with the 95% interval as error bars.

    A model without a value gets an "n/m" note on its row instead of a bar.
    """
    rows = ordered_rows(overall_rows(overall), metric).to_dict("records")
    fig = Figure(figsize=(7.5, max(2.2, 0.5 * len(rows) + 1.3)))
    ax = fig.add_subplot()
    if not rows:
        _placeholder(fig, ax, f"no models — {metric}: {NM}")
        return _png(fig)
    values = [as_number(r.get(metric)) for r in rows]
    highs = [ci[1] for r in rows if (ci := ci_of(r, metric))]
    scale = _scale(metric)
    finite = [v for v in values if v is not None and math.isfinite(v)]
    lo_lim = min(0.0, *finite) if finite else 0.0
    hi_lim = scale[1] if scale else max([1e-9, *finite, *highs])
    hi_lim = max(hi_lim, *highs) if highs else hi_lim
    span = (hi_lim - lo_lim) or 1.0
    y = np.arange(len(rows))[::-1]  # first row on top
    for yi, r, v in zip(y, rows, values):
        colour = _REAL_COLOUR if is_real_row(r, ceiling) else _BAR_COLOUR
        if v is None or not math.isfinite(v):
            ax.text(lo_lim + 0.01 * span, yi, f"{NM} (not measured)", va="center", ha="left", fontsize=9,
                    color="#777777", style="italic")
            continue
        ax.barh(yi, v, height=0.6, color=colour, alpha=0.85)
        label = f"{v:.3f}"
        right = v
        if ci := ci_of(r, metric):
            ax.errorbar(v, yi, xerr=[[max(v - ci[0], 0)], [max(ci[1] - v, 0)]], fmt="none", ecolor="black",
                        elinewidth=1.2, capsize=4)
            label += f"  [{ci[0]:.2f}, {ci[1]:.2f}]"
            right = max(v, ci[1])
        ax.text(right + 0.015 * span, yi, label, va="center", ha="left", fontsize=8)
    ax.set_yticks(y, [display_name_of(r) for r in rows])
    ax.set_xlim(lo_lim, hi_lim + 0.42 * span)  # room for the value labels
    ax.set_xticks([t for t in ax.get_xticks() if lo_lim - 1e-9 <= t <= hi_lim + 1e-9])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel(f"{metric} ({METRIC_HELP[metric]})" if metric in METRIC_HELP and len(METRIC_HELP[metric]) < 60
                  else metric)
    ax.set_title(f"{metric} per model, 95% bootstrap interval", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return _png(fig)


def models_in_order(board: pd.DataFrame, metric: str) -> list[tuple[str, str]]:
    """(model, display name) of every model on the board, in the overall order."""
    overall = ordered_rows(overall_rows(board), metric)
    seen = [(r["model"], display_name_of(r)) for r in overall.to_dict("records")]
    known = {m for m, _ in seen}
    for r in board.to_dict("records"):
        if r["model"] not in known:
            known.add(r["model"])
            seen.append((r["model"], display_name_of(r)))
    return seen


def heatmap(board: pd.DataFrame, metric: str = "R_inv") -> bytes:
    """Models (rows) x all 25 image types (columns), values annotated; grey "n/m" where missing."""
    models = models_in_order(board, metric)
    labels = list(taxonomy.LABELS)
    part = board[board["scope"] == "type"] if "scope" in board.columns else board.iloc[0:0]
    values = np.full((max(len(models), 1), len(labels)), np.nan)
    index = {m: i for i, (m, _) in enumerate(models)}
    col = {lab: j for j, lab in enumerate(labels)}
    for r in part.to_dict("records"):
        v = as_number(r.get(metric))
        if r["model"] in index and r["group"] in col and v is not None:
            values[index[r["model"]], col[r["group"]]] = v
    scale = _scale(metric)
    finite = values[np.isfinite(values)]
    vmin, vmax = scale if scale else ((float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0))
    if vmax <= vmin:
        vmax = vmin + 1.0
    cmap = colormaps["viridis"].with_extremes(bad="#d9d9d9")
    norm = Normalize(vmin, vmax)

    n = values.shape[0]
    fig = Figure(figsize=(0.62 * len(labels) + 3.4, 0.48 * n + 3.6))
    ax = fig.add_subplot()
    im = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
    for i in range(n):
        for j in range(len(labels)):
            v = values[i, j]
            if np.isfinite(v):
                r, g, b, _ = cmap(norm(v))
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white")
            else:
                ax.text(j, i, NM, ha="center", va="center", fontsize=6.5, color="#555555", style="italic")
    types = [taxonomy.image_type_for_key(k).type_name for k in taxonomy.PARTITION_KEYS]
    ax.set_xticks(range(len(labels)), types, rotation=55, ha="right", rotation_mode="anchor", fontsize=8)
    ax.set_yticks(range(n), [name for _, name in models] or [NM], fontsize=8.5)
    ax.set_xticks(np.arange(-0.5, len(labels), 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.2)
    ax.tick_params(which="minor", length=0)
    # Subject bands above the columns, separated by darker lines.
    start = 0
    for subject, kinds in taxonomy.TAXONOMY.items():
        end = start + len(kinds)
        ax.text((start + end - 1) / 2, -0.65, subject, ha="center", va="bottom", fontsize=9, fontweight="bold")
        if start:
            ax.axvline(start - 0.5, color="#333333", linewidth=1.5)
        start = end
    ax.set_title(f"{metric} by image type (grey = {NM}, not measured)", fontsize=10, pad=22)
    fig.colorbar(im, ax=ax, fraction=0.025, pad=0.01, label=metric)
    fig.tight_layout()
    return _png(fig)


def _wrap_dimension(d: str) -> str:
    return "\n".join(d.split("_"))


def radar(overall: pd.DataFrame, ceiling: Collection[str] = ()) -> bytes:
    """The five judge dimensions (0–2) per model on a radar chart, with a legend.

    A dimension a model was not measured on leaves a gap in its line (never a 0);
    a model measured on none is listed in the legend as n/m.
    """
    rows = ordered_rows(overall_rows(overall)).to_dict("records")
    dims = list(JUDGE_DIMENSIONS)
    angles = np.linspace(0, 2 * np.pi, len(dims), endpoint=False)
    fig = Figure(figsize=(8.2, 5.6))
    ax = fig.add_subplot(projection="polar")
    ax.set_theta_offset(np.pi / 2)
    ax.set_theta_direction(-1)
    any_measured = {d: False for d in dims}
    colours = colormaps["tab10"]
    markers = "osD^vP"
    k = 0
    for r in rows:
        vals = np.array([as_number(r.get(d)) if as_number(r.get(d)) is not None else np.nan for d in dims], dtype=float)
        name = display_name_of(r)
        if np.isnan(vals).all():
            ax.plot([], [], color="#aaaaaa", linestyle=":", label=f"{name} ({NM})")
            continue
        for d, v in zip(dims, vals):
            any_measured[d] |= bool(np.isfinite(v))
        colour = _REAL_COLOUR if is_real_row(r, ceiling) else colours(k % 10)
        marker = "*" if is_real_row(r, ceiling) else markers[k % len(markers)]
        k += 0 if is_real_row(r, ceiling) else 1
        missing = int(np.isnan(vals).sum())
        label = name + (f" ({missing} dim. {NM})" if missing else "")
        closed_a, closed_v = np.append(angles, angles[0]), np.append(vals, vals[0])
        ax.plot(closed_a, closed_v, color=colour, linewidth=1.8, marker=marker, markersize=6, label=label)
        if not missing:
            ax.fill(closed_a, closed_v, color=colour, alpha=0.08)
    ax.set_xticks(angles, [_wrap_dimension(d) + ("" if any_measured[d] else f"\n({NM})") for d in dims],
                  fontsize=8.5)
    ax.set_ylim(0, 2)
    ax.set_yticks([0.5, 1.0, 1.5, 2.0], ["0.5", "1", "1.5", "2"], fontsize=7, color="#666666")
    ax.set_title("Judge scores (0–2)", fontsize=10, pad=18)
    if rows:
        ax.legend(loc="upper left", bbox_to_anchor=(1.12, 1.0), fontsize=8, frameon=False)
    else:
        ax.text(0, 0, NM, ha="center", va="center", fontsize=14, color="#666666")
    fig.tight_layout()
    return _png(fig)


def spectral_curves(curves: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> bytes:
    """One line per model (and a bold black one for the real figures): log power vs frequency."""
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.add_subplot()
    if not curves:
        _placeholder(fig, ax, f"no spectra ({NM})")
        return _png(fig)
    colours = colormaps["tab10"]
    k = 0
    for name, (freq, power) in curves.items():
        real = str(name).lower().replace("_", " ") in ("real figures", "real")
        freq, power = np.asarray(freq, dtype=float), np.asarray(power, dtype=float)
        if real:
            ax.plot(freq, power, color=_REAL_COLOUR, linewidth=2.6, label=str(name), zorder=5)
        else:
            ax.plot(freq, power, color=colours(k % 10), linewidth=1.5, label=str(name))
            k += 1
    ax.set_xlim(0, 0.5)
    ax.set_xlabel("radial frequency (cycles / pixel; 0.5 = Nyquist)")
    ax.set_ylabel("mean log10 power")
    ax.set_title("Radially averaged power spectrum", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return _png(fig)


def standard_plots(board: pd.DataFrame, curves: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
                   ceiling: Collection[str] = ()) -> dict[str, bytes]:
    """The usual plots of a board, keyed like ``PLOT_CAPTIONS`` (ready for ``html_report``);
    the models in ``ceiling`` (the real figures) are drawn apart."""
    overall = overall_rows(board)
    plots = {"r_inv_bars": bars_with_intervals(overall, "R_inv", ceiling), "r_inv_heatmap": heatmap(board, "R_inv"),
             "judge_radar": radar(overall, ceiling)}
    if curves:
        plots["spectra"] = spectral_curves(curves)
    return plots
