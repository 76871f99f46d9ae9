"""The HTML report and its plots: decodable, informative PNGs and a page that loads nothing."""

import html
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw, ImageFilter

from scigen_dagster.evaluation.image_metrics import radial_spectrum
from scigen_dagster.evaluation.inverse import OFFLINE_ANSWERER
from scigen_dagster.evaluation.judge import JUDGE_DIMENSIONS, OFFLINE_JUDGE
from scigen_dagster.reporting import html as report_html
from scigen_dagster.reporting import leaderboard, thumbnails
from scigen_dagster.reporting.plots import bars_with_intervals, heatmap, radar, spectral_curves, standard_plots

CHROMIUM = "/usr/bin/chromium"
DIMS = list(JUDGE_DIMENSIONS)
LABELS = {
    "imgcoder_rules": "ImgCoder (rules)",
    "tiny_sd": "Tiny SD",
    "judge_less": "Judge-less model",
    "broken": "Broken & <never ran>",
}
PARTITIONS = ["physics.circuit", "math.plane-geometric", "chemistry.spectra", "biology.genetics"]


def _tables(model: str, skill: float, judge: str, seed: int) -> dict[str, pd.DataFrame]:
    """Small tables shaped like the pipeline's: 3 problems per partition, 2 quizzes each."""
    rng = np.random.default_rng(seed)
    images, judge_rows, iv, ref = [], [], [], []
    for part in PARTITIONS:
        for n in range(3):
            pid = f"{part}-{n}"
            ok = rng.random() < 0.9
            images.append({"model": model, "problem_id": pid, "partition": part, "status": "ok" if ok else "failed"})
            scores = {d: (int(rng.integers(0, 3)) if ok else None) for d in DIMS}
            if judge in ("offline", "none"):  # offline the rubric is not measured; only the proxies are
                scores = {d: None for d in DIMS}
            proxies = {"given_values_shown": float(rng.uniform()) if ok else None,
                       "text_overlaps": int(rng.integers(0, 3)) if ok else None,
                       "labels_crossed_by_lines": int(rng.integers(0, 2)) if ok else None}
            judge_rows.append({"model": model, "problem_id": pid, "partition": part,
                               "judge": OFFLINE_JUDGE if judge == "offline" else "stub/judge",
                               "judge_status": "ok" if ok else "no_image"} | scores | proxies)
            for q in range(2):
                iv.append({"model": model, "problem_id": pid, "partition": part, "quiz_index": q,
                           "image_status": "ok" if ok else "failed",
                           "correct": bool(ok and rng.random() < skill),
                           "blind_correct": None if judge == "offline" else False,
                           "answerer": OFFLINE_ANSWERER if judge == "offline" else "stub/answerer"})
            ref.append({"model": model, "problem_id": pid, "partition": part, "status": "ok" if ok else "failed",
                        "psnr": float(rng.uniform(8, 14)), "ssim": float(rng.uniform(0.2, 0.6))})
    return {"images": pd.DataFrame(images), "judge_scores": pd.DataFrame(judge_rows),
            "iv_results": pd.DataFrame(iv), "reference_metrics": pd.DataFrame(ref)}


def _empty() -> dict[str, pd.DataFrame]:
    return {"images": pd.DataFrame(columns=["model", "problem_id", "partition", "status"]),
            "judge_scores": pd.DataFrame(columns=["model", "problem_id", "partition", *DIMS]),
            "iv_results": pd.DataFrame(columns=["model", "problem_id", "partition", "image_status", "correct"]),
            "reference_metrics": pd.DataFrame(columns=["model", "problem_id", "status", "psnr", "ssim"])}


@pytest.fixture(scope="module")
def board() -> pd.DataFrame:
    tables = {"imgcoder_rules": _tables("imgcoder_rules", 0.85, "full", 1),
              "tiny_sd": _tables("tiny_sd", 0.2, "full", 2),
              "judge_less": _tables("judge_less", 0.5, "offline", 3),
              "broken": _empty()}
    frame = leaderboard.leaderboard_frame(tables, LABELS)
    # Columns the lead adds later and the real-figures row: handled generically.
    frame["hf_ratio"] = np.where(frame["scope"] == "overall", 0.12, np.nan)
    real = {c: None for c in frame.columns} | {"scope": "overall", "group": "", "model": "real_figures",
                                               "display_name": "Real figures", "hf_ratio": 0.2, "images": 12}
    return pd.concat([frame, pd.DataFrame([real])], ignore_index=True)


def _decode(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    img = Image.open(io.BytesIO(png))
    img.load()
    assert img.width > 100 and img.height > 100
    pixels = np.asarray(img.convert("RGB"), dtype=float)
    assert pixels.std() > 0, "a uniform image shows nothing"
    return pixels


def _figure(blur: float = 0.0) -> np.ndarray:
    img = Image.new("RGB", (128, 96), "white")
    d = ImageDraw.Draw(img)
    d.rectangle([10, 10, 60, 50], outline="black", width=2)
    d.line([(0, 90), (127, 20)], fill="black", width=1)
    d.text((70, 60), "F = 3 N", fill="black")
    if blur:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    return np.asarray(img, dtype=np.float64)


def _spectra() -> dict:
    return {"ImgCoder (rules)": radial_spectrum(_figure()),
            "Tiny SD": radial_spectrum(_figure(2.0)),
            "real figures": radial_spectrum(_figure(0.6))}


def _thumbs() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(_figure().astype(np.uint8)).save(buf, format="PNG")
    return thumbnails.thumbnail_grid([("ImgCoder (rules) · physics.circuit-0", buf.getvalue()),
                                  ("Tiny SD · physics.circuit-0", None),
                                  ("a caption long enough to need wrapping onto a second line and then some", b"junk")],
                                 cols=2, thumb=120)


@pytest.fixture(scope="module")
def page(board) -> str:
    plots = standard_plots(board, _spectra(), ceiling={"real_figures"})
    manifest = {"generated_at": "2025-01-01T00:00:00Z", "code_version": "abc123", "models": list(LABELS)}
    return report_html.html_report(board, plots, thumbnails={"physics.circuit": _thumbs()}, manifest=manifest,
                                   ceiling={"real_figures"})


def test_board_has_a_model_with_nothing_measured(board):
    overall = board[board["scope"] == "overall"].set_index("model")
    assert overall.loc["broken", ["R_inv", *DIMS]].isna().all()
    assert overall.loc["judge_less", DIMS].isna().all(), "offline, no rubric column holds a proxy's number"
    assert overall.loc["judge_less", ["given_values_shown", "text_overlaps"]].notna().all()
    assert overall.loc["judge_less", "rubric_judge"].startswith("not measured")
    assert overall.loc["judge_less", "iv_answerer"] == "OCR lookup (lower bound)"
    assert overall.loc["tiny_sd", "rubric_judge"] == "stub/judge"
    assert overall.loc["imgcoder_rules", "R_inv"] > overall.loc["tiny_sd", "R_inv"]


@pytest.mark.parametrize("metric", ["R_inv", "Correctness_Fidelity", "psnr", "hf_ratio"])
def test_bars_are_informative_pngs(board, metric):
    _decode(bars_with_intervals(board[board["scope"] == "overall"], metric))


def test_plots_are_pngs_and_deterministic(board):
    overall = board[board["scope"] == "overall"]
    plots = {"bars": bars_with_intervals(overall), "heatmap": heatmap(board),
             "radar": radar(overall), "spectra": spectral_curves(_spectra()), "thumbs": _thumbs()}
    for name, png in plots.items():
        _decode(png)
        assert b"Software" not in png[:4096], name
    assert heatmap(board) == plots["heatmap"]
    assert radar(overall) == plots["radar"]
    assert bars_with_intervals(overall) == plots["bars"]
    wide = _decode(plots["heatmap"])
    assert wide.shape[1] > 2 * wide.shape[0] / 1.5, "25 type columns make a wide map"


def test_plots_of_an_empty_board_still_render(board):
    empty = board.iloc[0:0]
    for png in (bars_with_intervals(empty), heatmap(empty), radar(empty),
                spectral_curves({}), thumbnails.thumbnail_grid([])):
        _decode(png)


def test_heatmap_marks_missing_cells_grey_not_zero(board):
    # Only the broken model: every cell unmeasured, so the map is grey and the colour bar alone is coloured.
    only = board[board["model"] == "broken"]
    pixels = _decode(heatmap(only))
    grey = np.all(np.abs(pixels - 217) < 2, axis=2).mean()
    zero_colour = np.array([68, 1, 84])  # viridis(0): what a 0 would have been drawn as
    dark = np.all(np.abs(pixels - zero_colour) < 6, axis=2).mean()
    assert grey > 0.2 and dark < 0.01


def test_thumbnail_grid_layout_and_failed_tile():
    png = _thumbs()
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    gap = 8
    assert img.shape[1] == gap + 2 * (120 + gap)
    failed_tile = img[gap + 5:gap + 115, gap + 128 + 5:gap + 128 + 115]
    assert (np.abs(failed_tile - [246, 226, 226]).sum(axis=2) < 10).mean() > 0.5, "failed tile is tinted"


def test_radial_spectrum_sees_edges():
    freq, sharp = radial_spectrum(_figure())
    _, blurred = radial_spectrum(_figure(2.0))
    assert freq.shape == sharp.shape == (48,)
    assert 0 < freq[0] < freq[-1] <= 0.5 and np.all(np.diff(freq) > 0)
    assert np.isfinite(sharp).all() and np.isfinite(blurred).all()
    high = freq > 0.25
    assert sharp[high].mean() > blurred[high].mean() + 1.0, "blurring removes high-frequency power"
    assert abs(sharp[:4].mean() - blurred[:4].mean()) < 1.0, "and leaves the low frequencies"
    grey_freq, grey = radial_spectrum(_figure()[..., 0], n_bins=16)
    assert grey.shape == (16,) and grey_freq[-1] < 0.5


def test_html_is_self_contained_and_shows_missing_as_nm(page, board):
    assert page.startswith("<!DOCTYPE html>")
    assert "http://" not in page and "https://" not in page and 'src="//' not in page
    assert "<script" not in page.lower() and "@import" not in page and "url(" not in page
    srcs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "SciGenBench leaderboard" in page
    for name in LABELS.values():
        assert html.escape(name) in page
    assert "<never ran>" not in page, "display names are escaped"
    assert "Real figures" in page and "hf_ratio" in page
    assert "abc123" in page and "2025-01-01T00:00:00Z" in page
    assert "Physics - Circuit" in page and "Universal - Exp. Setup" in page
    assert "OCR lookup (lower bound)" in page and "a lower bound" in page, "the offline answerer is named for what it is"
    assert "given_values_shown" in page and "OCR proxies (not rubric scores)" in page

    rows = {m.group(1): m.group(0) for m in re.finditer(r'<tr[^>]*><td class="name"[^>]*>([^<]*)</td>.*?</tr>',
                                                        page.split("<h2>R_inv by subject</h2>")[0])}
    broken = rows[html.escape(LABELS["broken"])]
    assert ">n/m<" in broken and ">0.000<" not in broken
    assert "[" in rows[LABELS["imgcoder_rules"]], "intervals shown with values"
    order = list(rows)
    assert order.index(LABELS["imgcoder_rules"]) < order.index(LABELS["tiny_sd"]) < order.index(
        html.escape(LABELS["broken"])), "sorted by R_inv, missing last"


def _chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
           f"--user-data-dir={tmp / 'profile'}", *args]
    return subprocess.run(cmd, check=False, capture_output=True, timeout=60, cwd=tmp, env=os.environ | {"HOME": str(tmp)})


def test_report_renders_in_headless_chromium(page, tmp_path):
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        if os.environ.get("SCIGEN_REQUIRE_SERVICES"):
            pytest.fail(f"SCIGEN_REQUIRE_SERVICES is set but {CHROMIUM} is missing: install chromium "
                        "(apt-get install chromium) to render the HTML report")
        pytest.skip(f"{CHROMIUM} not installed")
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    url = path.resolve().as_uri()
    shot = tmp_path / "report.png"
    run = _chromium(f"--screenshot={shot}", "--window-size=1280,2000", "--hide-scrollbars", url, tmp=tmp_path)
    assert shot.exists() and shot.stat().st_size > 0, f"no screenshot: {run.stderr.decode(errors='replace')[-2000:]}"
    pixels = _decode(shot.read_bytes())
    assert pixels.shape[:2] == (2000, 1280)
    dom = _chromium("--dump-dom", url, tmp=tmp_path)
    text = dom.stdout.decode("utf-8", errors="replace")
    assert "SciGenBench leaderboard" in text, dom.stderr.decode(errors="replace")[-2000:]
    for name in LABELS.values():
        assert html.escape(name, quote=False) in text
    assert "n/m" in text
    keep = os.environ.get("SCIGEN_REPORT_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)


def test_counts_stay_integers_and_scores_keep_decimals(page):
    overall = page.split("<h2>R_inv by subject</h2>")[0]
    assert re.search(r'<td class="name"[^>]*>Real figures</td><td>12</td>', overall), "images is a count"
    assert "12.000" not in overall


def test_a_model_without_items_says_why_in_the_board_the_markdown_and_the_page():
    """The ceiling on a corpus without real figures: n/m, with the reason, everywhere a person reads it."""
    tables = {"imgcoder_rules": _tables("imgcoder_rules", 0.85, "full", 1), "real_figures": _empty(),
              "broken": _empty()}
    labels = LABELS | {"real_figures": "Real figures"}
    board = leaderboard.leaderboard_frame(tables, labels, ceiling=frozenset({"real_figures"}))
    overall = board[board["scope"] == "overall"].set_index("model")
    assert overall.loc["real_figures", "note"] == leaderboard.NO_REAL_FIGURES
    assert overall.loc["broken", "note"] == leaderboard.NO_FIGURES
    assert pd.isna(overall.loc["imgcoder_rules", "note"]) and overall.loc["real_figures", ["R_inv", *DIMS]].isna().all()
    md = leaderboard.markdown(board)
    real_line = next(line for line in md.splitlines() if line.startswith("| real_figures") or "Real figures" in line)
    assert "n/m" in real_line and leaderboard.NO_REAL_FIGURES in real_line, real_line
    page = report_html.html_report(board, standard_plots(board, {}, ceiling={"real_figures"}), thumbnails={},
                                   manifest={}, ceiling={"real_figures"})
    row = re.search(r'<tr class="real"><td class="name"[^>]*>Real figures</td>.*?</tr>', page).group(0)
    assert ">n/m<" in row and html.escape(leaderboard.NO_REAL_FIGURES) in row
