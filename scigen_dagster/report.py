"""The human-facing report: plots of the leaderboard and one self-contained HTML page.

Pure functions, free of Dagster. Every plot is returned as PNG bytes rendered with the
Agg backend and without a "Software" tag, so the same inputs give the same bytes. The
HTML page carries its CSS inline and its images as ``data:`` URLs: it loads nothing from
anywhere (a Content-Security-Policy in the page enforces that in a browser).

Missing values (None / NaN) mean "not measured" and are shown as "n/m", never as 0.
Columns are handled generically: any metric column of the leaderboard frame is shown,
with its 95% interval where ``<metric>_ci_low`` / ``<metric>_ci_high`` exist.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
from matplotlib import colormaps, font_manager
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont

from . import taxonomy
from .evaluation import JUDGE_DIMENSIONS, radial_spectrum  # noqa: F401 - part of this module's API

__all__ = [
    "DEFAULT_TITLE",
    "NM",
    "PLOT_CAPTIONS",
    "REAL_FIGURES",
    "bars_with_intervals",
    "heatmap",
    "html_report",
    "metric_columns",
    "radar",
    "radial_spectrum",
    "spectral_curves",
    "standard_plots",
    "thumbnail_grid",
]

NM = "n/m"
REAL_FIGURES = "real_figures"
DEFAULT_TITLE = "SciGenBench leaderboard"
ID_COLUMNS = ("scope", "group", "model", "display_name")
# Known metrics in reading order; columns not listed here follow in the frame's order.
METRIC_ORDER = ("images", "image_success", "R_inv", "R_inv_orig", "R_inv_ref_items", "question_acc", *JUDGE_DIMENSIONS,
                "psnr", "ssim", "ms_ssim", "fid", "kid", "hf_ratio")
GENERATION, IV, JUDGE, IMAGE = "Generation", "Inverse validation", "Judge (0–2)", "Image metrics"
_GROUP_OF = {"images": GENERATION, "image_success": GENERATION, "R_inv": IV, "R_inv_orig": IV, "R_inv_ref_items": IV,
             "question_acc": IV} | {d: JUDGE for d in JUDGE_DIMENSIONS}
METRIC_HELP = {
    "images": "figures attempted",
    "image_success": "share of figures that rendered",
    "R_inv": "faithful figures / attempted problems (every quiz right; a failed figure counts as unfaithful)",
    "R_inv_orig": "R_inv over rendered figures only (the original study's rule)",
    "R_inv_ref_items": "R_inv over the items that ship a real figure: the set the real-figures ceiling is measured on",
    "question_acc": "share of quizzes answered right from the figure",
    "psnr": "PSNR to the real figure (dB)",
    "ssim": "SSIM to the real figure",
    "ms_ssim": "multi-scale SSIM to the real figure",
    "fid": "Fréchet Inception distance to the real figures (lower is better)",
    "kid": "kernel Inception distance to the real figures (lower is better)",
    "hf_ratio": "share of spectral power above a quarter of Nyquist",
} | {d: f"judge score 0–2: {d.replace('_', ' & ')}" for d in JUDGE_DIMENSIONS}
PLOT_CAPTIONS = {
    "r_inv_bars": "R_inv per model with its bootstrap 95% interval; n/m = not measured.",
    "r_inv_heatmap": "R_inv per model and image type; grey n/m cells were not measured.",
    "judge_radar": "Judge scores (0–2) on the five dimensions; a dimension not measured leaves a gap.",
    "spectra": "Radially averaged log power spectrum of the figures (mean over images).",
}
_REAL_COLOUR = "#222222"
_BAR_COLOUR = "#4c72b0"
_DPI = 100


# ------------------------------------------------------------------------ helpers ---


def _missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(isinstance(v, (float, np.floating)) and math.isnan(v))
    except TypeError:
        return False


def _num(v: Any) -> float | None:
    if _missing(v):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _is_count(metric: str) -> bool:
    return metric == "images" or metric.startswith("n_") or metric.endswith("_count")


def _fmt(v: Any, digits: int = 3, count: bool = False) -> str:
    if _missing(v):
        return NM
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        return str(int(v)) if count and float(v).is_integer() else f"{v:.{digits}f}"
    return str(v)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None}, bbox_inches="tight", pad_inches=0.15)
    return buf.getvalue()


def _overall(frame: pd.DataFrame) -> pd.DataFrame:
    """The overall rows of a board (or the frame as given when it has no scope column)."""
    if "scope" in frame.columns:
        frame = frame[frame["scope"] == "overall"]
    return frame.drop_duplicates(subset=["model"] if "model" in frame.columns else None)


def _name(row: Mapping[str, Any]) -> str:
    name = row.get("display_name")
    return str(row.get("model", "?") if _missing(name) or name == "" else name)


def _is_real(row: Mapping[str, Any]) -> bool:
    return row.get("model") == REAL_FIGURES


def _ordered(overall: pd.DataFrame, metric: str = "R_inv") -> pd.DataFrame:
    """Best first by ``metric`` (missing last), ties by display name: a stable order."""
    df = overall.copy()
    df["_name"] = [_name(r) for r in df.to_dict("records")]
    df["_key"] = pd.to_numeric(df[metric], errors="coerce") if metric in df.columns else np.nan
    return df.sort_values(["_key", "_name"], ascending=[False, True], na_position="last", kind="mergesort")


def _interval(row: Mapping[str, Any], metric: str) -> tuple[float, float] | None:
    lo, hi = _num(row.get(f"{metric}_ci_low")), _num(row.get(f"{metric}_ci_high"))
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
    if metric in ("R_inv", "R_inv_orig", "R_inv_ref_items", "question_acc", "image_success", "ssim", "ms_ssim",
                  "hf_ratio"):
        return 0.0, 1.0
    return None


def _placeholder(fig: Figure, ax, text: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=14, color="#666666", transform=ax.transAxes)


# -------------------------------------------------------------------------- plots ---


def bars_with_intervals(overall: pd.DataFrame, metric: str = "R_inv") -> bytes:
    """Horizontal bars per model, best on top, with the 95% interval as error bars.

    A model without a value gets an "n/m" note on its row instead of a bar.
    """
    rows = _ordered(_overall(overall), metric).to_dict("records")
    fig = Figure(figsize=(7.5, max(2.2, 0.5 * len(rows) + 1.3)))
    ax = fig.add_subplot()
    if not rows:
        _placeholder(fig, ax, f"no models — {metric}: {NM}")
        return _png(fig)
    values = [_num(r.get(metric)) for r in rows]
    highs = [ci[1] for r in rows if (ci := _interval(r, metric))]
    scale = _scale(metric)
    finite = [v for v in values if v is not None and math.isfinite(v)]
    lo_lim = min(0.0, *finite) if finite else 0.0
    hi_lim = scale[1] if scale else max([1e-9, *finite, *highs])
    hi_lim = max(hi_lim, *highs) if highs else hi_lim
    span = (hi_lim - lo_lim) or 1.0
    y = np.arange(len(rows))[::-1]  # first row on top
    for yi, r, v in zip(y, rows, values):
        colour = _REAL_COLOUR if _is_real(r) else _BAR_COLOUR
        if v is None or not math.isfinite(v):
            ax.text(lo_lim + 0.01 * span, yi, f"{NM} (not measured)", va="center", ha="left", fontsize=9,
                    color="#777777", style="italic")
            continue
        ax.barh(yi, v, height=0.6, color=colour, alpha=0.85)
        label = f"{v:.3f}"
        right = v
        if ci := _interval(r, metric):
            ax.errorbar(v, yi, xerr=[[max(v - ci[0], 0)], [max(ci[1] - v, 0)]], fmt="none", ecolor="black",
                        elinewidth=1.2, capsize=4)
            label += f"  [{ci[0]:.2f}, {ci[1]:.2f}]"
            right = max(v, ci[1])
        ax.text(right + 0.015 * span, yi, label, va="center", ha="left", fontsize=8)
    ax.set_yticks(y, [_name(r) for r in rows])
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


def _models_in_order(board: pd.DataFrame, metric: str) -> list[tuple[str, str]]:
    """(model, display name) of every model on the board, in the overall order."""
    overall = _ordered(_overall(board), metric)
    seen = [(r["model"], _name(r)) for r in overall.to_dict("records")]
    known = {m for m, _ in seen}
    for r in board.to_dict("records"):
        if r["model"] not in known:
            known.add(r["model"])
            seen.append((r["model"], _name(r)))
    return seen


def heatmap(board: pd.DataFrame, metric: str = "R_inv") -> bytes:
    """Models (rows) x all 25 image types (columns), values annotated; grey "n/m" where missing."""
    models = _models_in_order(board, metric)
    labels = list(taxonomy.LABELS)
    part = board[board["scope"] == "type"] if "scope" in board.columns else board.iloc[0:0]
    values = np.full((max(len(models), 1), len(labels)), np.nan)
    index = {m: i for i, (m, _) in enumerate(models)}
    col = {lab: j for j, lab in enumerate(labels)}
    for r in part.to_dict("records"):
        v = _num(r.get(metric))
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


def radar(overall: pd.DataFrame) -> bytes:
    """The five judge dimensions (0–2) per model on a radar chart, with a legend.

    A dimension a model was not measured on leaves a gap in its line (never a 0);
    a model measured on none is listed in the legend as n/m.
    """
    rows = _ordered(_overall(overall)).to_dict("records")
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
        vals = np.array([_num(r.get(d)) if _num(r.get(d)) is not None else np.nan for d in dims], dtype=float)
        name = _name(r)
        if np.isnan(vals).all():
            ax.plot([], [], color="#aaaaaa", linestyle=":", label=f"{name} ({NM})")
            continue
        for d, v in zip(dims, vals):
            any_measured[d] |= bool(np.isfinite(v))
        colour = _REAL_COLOUR if _is_real(r) else colours(k % 10)
        marker = "*" if _is_real(r) else markers[k % len(markers)]
        k += 0 if _is_real(r) else 1
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


# ----------------------------------------------------------------------- thumbnails ---


def _font(size: int) -> ImageFont.ImageFont:
    try:  # matplotlib ships DejaVu Sans: the same glyphs on every machine
        return ImageFont.truetype(font_manager.findfont("DejaVu Sans", fallback_to_default=True), size)
    except OSError:
        return ImageFont.load_default()


def _fit_lines(text: str, font, width: int, max_lines: int = 2) -> list[str]:
    words, lines = str(text).split(), []
    line = ""
    for word in words:
        trial = f"{line} {word}".strip()
        if font.getlength(trial) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] += "…"
    out = []
    for ln in lines:  # a single over-long word is cut
        while font.getlength(ln) > width and len(ln) > 1:
            ln = ln[:-2] + "…"
        out.append(ln)
    return out or [""]


def _failed_tile(size: int, word: str, font) -> Image.Image:
    tile = Image.new("RGB", (size, size), (246, 226, 226))
    draw = ImageDraw.Draw(tile)
    draw.line([(8, 8), (size - 9, size - 9)], fill=(225, 190, 190), width=2)
    draw.line([(8, size - 9), (size - 9, 8)], fill=(225, 190, 190), width=2)
    box = draw.textbbox((0, 0), word, font=font)
    tw, th = box[2] - box[0], box[3] - box[1]
    pad = 5
    x, y = (size - tw) / 2, (size - th) / 2
    draw.rectangle([x - pad, y - pad, x + tw + pad, y + th + pad], fill=(246, 226, 226))
    draw.text((x - box[0], y - box[1]), word, fill=(160, 40, 40), font=font)
    return tile


EMPTY_TILE = b""  # a cell with nothing in it (keeps one model per grid row)


def thumbnail_grid(items: list[tuple[str, bytes | None]], cols: int = 5, thumb: int = 160) -> bytes:
    """Thumbnails in a grid, a caption under each; a None (or unreadable) image becomes a
    labelled "failed" tile, ``EMPTY_TILE`` an empty cell. Returns PNG bytes."""
    cols = max(1, int(cols))
    thumb = max(32, int(thumb))
    cap_font, big = _font(11), _font(max(12, thumb // 9))
    line_h, gap = 14, 8
    cell_w, cell_h = thumb, thumb + 2 * line_h + 6
    items = list(items) or [("no images", None)]
    rows = math.ceil(len(items) / cols)
    ncols = min(cols, len(items))
    sheet = Image.new("RGB", (gap + ncols * (cell_w + gap), gap + rows * (cell_h + gap)), "white")
    draw = ImageDraw.Draw(sheet)
    for n, (caption, data) in enumerate(items):
        x0 = gap + (n % cols) * (cell_w + gap)
        y0 = gap + (n // cols) * (cell_h + gap)
        tile = None
        if data == EMPTY_TILE:
            continue
        if data is not None:
            try:
                img = Image.open(io.BytesIO(data))
                img.load()
                if img.mode in ("RGBA", "LA", "P", "PA"):
                    img = img.convert("RGBA")
                    img = Image.alpha_composite(Image.new("RGBA", img.size, (255, 255, 255, 255)), img)
                img = img.convert("RGB")
                img.thumbnail((thumb, thumb), Image.LANCZOS)
                tile = Image.new("RGB", (thumb, thumb), "white")
                tile.paste(img, ((thumb - img.width) // 2, (thumb - img.height) // 2))
            except Exception:  # noqa: BLE001 - an undecodable image is shown as such
                tile = _failed_tile(thumb, "unreadable", big)
        else:
            tile = _failed_tile(thumb, "failed", big)
        sheet.paste(tile, (x0, y0))
        draw.rectangle([x0 - 1, y0 - 1, x0 + thumb, y0 + thumb], outline=(200, 200, 200))
        for i, line in enumerate(_fit_lines(caption, cap_font, cell_w)):
            lw = cap_font.getlength(line)
            draw.text((x0 + (cell_w - lw) / 2, y0 + thumb + 4 + i * line_h), line, fill=(40, 40, 40),
                      font=cap_font)
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    return buf.getvalue()


# ---------------------------------------------------------------------------- HTML ---

_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
       margin: 24px auto; max-width: 1400px; padding: 0 16px; color: #1d1d1f; background: #fff;
       line-height: 1.4; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 1.05em; margin-top: 1.2em; }
p.note { color: #555; font-size: 0.9em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.8em; margin: 8px 0 4px; }
th, td { border: 1px solid #d8d8d8; padding: 3px 5px; text-align: right; vertical-align: top; }
th { background: #f2f4f7; font-weight: 600; text-align: center; }
td.name, th.name { text-align: left; white-space: nowrap; }
tr.real td { background: #f7f7f2; }
td.nm { color: #999; font-style: italic; text-align: center; }
span.ci { display: block; color: #666; font-size: 0.85em; white-space: nowrap; }
figure { margin: 18px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.9em; margin-top: 4px; }
dl.help { font-size: 0.85em; color: #444; display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
dl.help dt { font-weight: 600; }
dl.help dd { margin: 0; }
table.manifest td { text-align: left; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
"""

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _cell(row: Mapping[str, Any], metric: str, ci: bool = True) -> str:
    v = row.get(metric)
    if _missing(v) or (_num(v) is None and not isinstance(v, str)):
        return f'<td class="nm">{NM}</td>'
    text = _e(_fmt(v, count=_is_count(metric)))
    if ci and (interval := _interval(row, metric)):
        text += f'<span class="ci">[{interval[0]:.2f}, {interval[1]:.2f}]</span>'
    return f"<td>{text}</td>"


def _header(metric: str) -> str:
    # Judge dimensions read as words; other names stay identifiers but may break after "_".
    shown = _e(metric.replace("_", " ") if metric in JUDGE_DIMENSIONS else metric).replace("_", "_<wbr>")
    tip = METRIC_HELP.get(metric)
    return f'<th title="{_e(tip)}">{shown}</th>' if tip else f"<th>{shown}</th>"


def _overall_table(board: pd.DataFrame) -> str:
    overall = _ordered(_overall(board))
    metrics = metric_columns(overall.drop(columns=["_name", "_key"]))
    groups: list[tuple[str, int]] = []
    for m in metrics:
        g = _GROUP_OF.get(m, IMAGE)
        if groups and groups[-1][0] == g:
            groups[-1] = (g, groups[-1][1] + 1)
        else:
            groups.append((g, 1))
    head1 = '<tr><th class="name" rowspan="2">Model</th>' + "".join(
        f'<th colspan="{n}">{_e(g)}</th>' for g, n in groups) + "</tr>"
    head2 = "<tr>" + "".join(_header(m) for m in metrics) + "</tr>"
    body = []
    for r in overall.to_dict("records"):
        cls = ' class="real"' if _is_real(r) else ""
        model = r.get("model", "")
        tip = f' title="{_e(model)}"' if str(model) != _name(r) else ""
        body.append(f'<tr{cls}><td class="name"{tip}>{_e(_name(r))}</td>'
                    + "".join(_cell(r, m) for m in metrics) + "</tr>")
    if not body:
        body.append(f'<tr><td class="nm" colspan="{len(metrics) + 1}">no models</td></tr>')
    return (f'<div class="scroll"><table class="overall"><thead>{head1}{head2}</thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _group_table(board: pd.DataFrame, scope: str, groups: Iterable[str], metric: str = "R_inv") -> str:
    models = _models_in_order(board, metric)
    part = board[board["scope"] == scope] if "scope" in board.columns else board.iloc[0:0]
    cells = {(r["group"], r["model"]): r for r in part.to_dict("records")}
    title = "Subject" if scope == "subject" else "Image type"
    head = f'<tr><th class="name">{title}</th>' + "".join(f"<th>{_e(name)}</th>" for _, name in models) + "</tr>"
    body = []
    for g in groups:
        tds = "".join(_cell(cells.get((g, m), {}), metric) for m, _ in models)
        body.append(f'<tr><td class="name">{_e(g)}</td>{tds}</tr>')
    return (f'<div class="scroll"><table class="{_e(scope)}"><thead>{head}</thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _partition_heading(key: str) -> str:
    try:
        return taxonomy.label_for_key(key)
    except KeyError:
        return key


def _manifest_value(v: Any) -> str:
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
    return str(v)


def html_report(board: pd.DataFrame, plots: Mapping[str, bytes],
                thumbnails: Mapping[str, bytes] | None = None, manifest: Mapping[str, Any] | None = None,
                title: str = DEFAULT_TITLE) -> str:
    """One self-contained HTML page: tables, plots and thumbnails, loading nothing external.

    ``plots`` maps a caption (or a key of ``PLOT_CAPTIONS``) to PNG bytes; ``thumbnails``
    maps a partition key (or any heading) to a thumbnail grid PNG; ``manifest`` holds
    provenance (generation time, code version...) shown as a small key/value table.
    """
    metrics_present = metric_columns(_overall(board))
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
           f"<h1>{_e(title)}</h1>"]
    if title != DEFAULT_TITLE:
        out.append(f'<p class="note">{_e(DEFAULT_TITLE)}</p>')
    out += [(f'<p class="note"><b>{NM}</b> = not measured by the configured judge / answerer / metric '
             "(never counted as 0). Brackets give bootstrap 95% intervals. "
             "Models are sorted by R_inv, best first.</p>"),
            "<h2>Overall</h2>", _overall_table(board)]
    helps = [(m, METRIC_HELP[m]) for m in metrics_present if m in METRIC_HELP]
    if helps:
        out.append('<dl class="help">' + "".join(f"<dt>{_e(m)}</dt><dd>{_e(h)}</dd>" for m, h in helps) + "</dl>")
    out += ["<h2>R_inv by subject</h2>", _group_table(board, "subject", taxonomy.SUBJECTS),
            "<h2>R_inv by image type</h2>", _group_table(board, "type", taxonomy.LABELS)]
    if plots:
        out.append("<h2>Plots</h2>")
        for key, png in plots.items():
            caption = PLOT_CAPTIONS.get(key, key)
            out.append(f'<figure><img src="{_data_url(png)}" alt="{_e(caption)}">'
                       f"<figcaption>{_e(caption)}</figcaption></figure>")
    if thumbnails:
        out.append("<h2>Example figures</h2>")
        order = {k: i for i, k in enumerate(taxonomy.PARTITION_KEYS)}
        keys = sorted(thumbnails, key=lambda k: (order.get(k, len(order)), list(thumbnails).index(k)))
        for key in keys:
            heading = _partition_heading(key)
            out.append(f"<h3>{_e(heading)}</h3>"
                       f'<figure><img src="{_data_url(thumbnails[key])}" alt="{_e("thumbnails: " + heading)}">'
                       "</figure>")
    if manifest:
        rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(_manifest_value(v))}</td></tr>" for k, v in manifest.items())
        out += ["<h2>Manifest</h2>", f'<table class="manifest"><tbody>{rows}</tbody></table>']
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def standard_plots(board: pd.DataFrame, curves: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None
                   ) -> dict[str, bytes]:
    """The usual plots of a board, keyed like ``PLOT_CAPTIONS`` (ready for ``html_report``)."""
    overall = _overall(board)
    plots = {"r_inv_bars": bars_with_intervals(overall, "R_inv"), "r_inv_heatmap": heatmap(board, "R_inv"),
             "judge_radar": radar(overall)}
    if curves:
        plots["spectra"] = spectral_curves(curves)
    return plots

