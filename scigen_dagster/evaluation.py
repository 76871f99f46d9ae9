"""Evaluation logic free of Dagster: the offline judge proxy, inverse validation,
reference metrics (PSNR / SSIM / spectral energy) and the aggregates of the leaderboard.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import warnings
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from PIL import Image
from scipy.ndimage import gaussian_filter, uniform_filter

from .offline.quantities import extract_quantities

JUDGE_DIMENSIONS = (
    "Correctness_Fidelity",
    "Layout_Precision",
    "Readability_Occlusion",
    "Scientific_Plausibility",
    "Expressiveness_Richness",
)
OFFLINE_JUDGE = "offline-proxy:v1"
NOT_MEASURED_OFFLINE = ("Layout_Precision", "Scientific_Plausibility", "Expressiveness_Richness")

# ---------------------------------------------------------------------------- text ---


def normalise_text(text: str) -> str:
    text = text.lower().replace("\u2212", "-").replace("×", "x")
    return "".join(ch for ch in text if ch.isalnum() or ch in ".-=%°")


def label_recall(question: str, image_texts: Sequence[str]) -> tuple[float | None, list[str]]:
    """Share of the problem's given values whose number (and unit) the image shows.

    None when the problem states no given value, so the proxy has nothing to check.
    """
    wanted = [q for q in extract_quantities(question) if q.value]
    if not wanted:
        return None, []
    haystack = normalise_text(" ".join(image_texts))
    missing = [q.label() for q in wanted if normalise_text(f"{q.value}{q.unit}") not in haystack
               and normalise_text(q.value) not in haystack]
    return 1 - len(missing) / len(wanted), missing


def _band(value: float, high: float, low: float) -> int:
    return 2 if value >= high else 1 if value >= low else 0


def offline_judge_row(question: str, image_row: Any, image_texts: Sequence[str] | None) -> dict[str, Any]:
    """Scores only what can be measured honestly without a vision-language judge.

    Correctness & Fidelity: recall of the given values in the image's text (OCR).
    Readability & Occlusion: overlapping text artists, known for code-rendered figures.
    The other three dimensions need a judge model and stay missing ("not measured").
    """
    scores: dict[str, Any] = {d: None for d in JUDGE_DIMENSIONS}
    if image_row.status != "ok":
        return scores | {"judge_status": "no_image", "label_recall": None, "missing_labels": "[]",
                         "not_measured": ",".join(JUDGE_DIMENSIONS)}
    recall, missing = label_recall(question, image_texts or [])
    if recall is not None:
        scores["Correctness_Fidelity"] = _band(recall, 0.9, 0.5)
    overlaps = image_row.overlapping_text_pairs
    if overlaps is not None and not pd.isna(overlaps):
        scores["Readability_Occlusion"] = 2 if overlaps == 0 else 1 if overlaps <= 2 else 0
    not_measured = [d for d in JUDGE_DIMENSIONS if scores[d] is None]
    return scores | {
        "judge_status": "ok",
        "label_recall": None if recall is None else round(recall, 4),
        "missing_labels": json.dumps(missing, ensure_ascii=False),
        "not_measured": ",".join(not_measured),
    }


def image_data_url(png: bytes, max_side: int = 1024) -> str:
    """A PNG as a data URL for a vision model, downscaled to ``max_side`` on its long side
    (the study's limit for the answerer)."""
    import base64

    image = Image.open(io.BytesIO(png))
    if max(image.size) > max_side:
        scale = max_side / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS)
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        png = buf.getvalue()
    return "data:image/png;base64," + base64.b64encode(png).decode()


def llm_judge_row(result: Any) -> dict[str, Any]:
    """Scores of a judge model's validated reply; a failed judgement is missing, never 0."""
    if result.status == "ok":
        return result.value.model_dump() | {"judge_status": "ok", "label_recall": None, "missing_labels": "[]",
                                            "not_measured": ""}
    return {d: None for d in JUDGE_DIMENSIONS} | {
        "judge_status": f"{result.status}: {result.reason}"[:300], "label_recall": None, "missing_labels": "[]",
        "not_measured": ",".join(JUDGE_DIMENSIONS)}


# ---------------------------------------------------------------- inverse validation ---


def quiz_rng(problem_id: str, quiz_index: int) -> random.Random:
    digest = hashlib.sha256(f"{problem_id}\x1f{quiz_index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def shuffle_options(options: dict[str, str], problem_id: str, quiz_index: int) -> tuple[dict[str, str], dict[str, str]]:
    """Shuffle option texts over the letters with a seed fixed per quiz.

    Returns (shown options, shown letter -> original letter), so that a letter bias of
    the answerer or of the released answer key cannot score.
    """
    letters = sorted(options)
    order = letters[:]
    quiz_rng(problem_id, quiz_index).shuffle(order)
    shown = {new: options[old] for new, old in zip(letters, order)}
    back = dict(zip(letters, order))
    return shown, back


IV_COLUMNS = [
    "problem_id", "model", "quiz_index", "image_status", "question", "shown_options_json",
    "chosen_letter", "correct_letter", "correct", "abstained", "answerer", "evidence",
    "blind_letter", "blind_correct",
]
Answerer = Callable[[str, dict[str, str]], tuple[str | None, str]]


def iv_rows(
    item: Any, image_row: Any, model: str, answer: Answerer | None, answerer_name: str,
    blind: Answerer | None = None,
) -> list[dict[str, Any]]:
    """One row per quiz; ``answer(question, shown_options)`` sees only the image (bound
    inside the callable) and returns (shown letter or None, evidence).

    ``blind`` is the same answerer with no image at all: a quiz it gets right says
    nothing about the figure (the control of TIFA-style evaluation)."""
    rows = []
    for i, quiz in enumerate(json.loads(item.quizzes_json)):
        shown, back = shuffle_options(quiz["options"], item.problem_id, i)
        row = {
            "problem_id": item.problem_id, "model": model, "quiz_index": i,
            "image_status": image_row.status if image_row is not None else "missing",
            "question": quiz["question"], "shown_options_json": json.dumps(shown, ensure_ascii=False),
            "chosen_letter": None, "correct_letter": quiz["correct_option"], "correct": False,
            "abstained": True, "answerer": answerer_name, "evidence": "",
            "blind_letter": None, "blind_correct": None,
        }
        if blind is not None:
            letter, _ = blind(quiz["question"], shown)
            row["blind_letter"] = back[letter] if letter else None
            row["blind_correct"] = row["blind_letter"] == quiz["correct_option"]
        if answer is not None and row["image_status"] == "ok":
            letter, evidence = answer(quiz["question"], shown)
            chosen = back[letter] if letter else None
            row.update(chosen_letter=chosen, correct=chosen == quiz["correct_option"],
                       abstained=letter is None, evidence=evidence[:300])
        rows.append(row)
    return rows


def per_image_faithfulness(iv: pd.DataFrame, exclude_failed: bool = False) -> pd.DataFrame:
    """Per (model, problem): faithful when every quiz is right.

    A missing or failed image counts as not faithful (our rule). ``exclude_failed`` gives
    the original study's rule, which leaves never-rendered images out of the denominator.
    """
    if iv.empty:
        return pd.DataFrame(columns=["model", "problem_id", "faithful", "image_ok", "quizzes", "correct"])
    g = iv.groupby(["model", "problem_id"], sort=True)
    out = g.agg(quizzes=("correct", "size"), correct=("correct", "sum"),
                image_ok=("image_status", lambda s: bool((s == "ok").all()))).reset_index()
    out["faithful"] = (out["correct"] == out["quizzes"]) & out["image_ok"]
    if exclude_failed:
        out = out[out["image_ok"]]
    return out


def r_inv(iv: pd.DataFrame, exclude_failed: bool = False) -> float | None:
    per = per_image_faithfulness(iv, exclude_failed)
    return float(per["faithful"].mean()) if len(per) else None


def image_dependent(iv: pd.DataFrame) -> pd.DataFrame:
    """The quizzes the blind control got wrong: only these are evidence about a figure."""
    if iv.empty or "blind_correct" not in iv:
        return iv
    return iv[iv["blind_correct"].astype("boolean").fillna(False) == False]  # noqa: E712 - nullable bool


def blind_accuracy(iv: pd.DataFrame) -> float | None:
    measured = iv["blind_correct"].dropna() if "blind_correct" in iv else pd.Series(dtype=bool)
    return float(measured.astype(bool).mean()) if len(measured) else None


def bootstrap_ci(values, n_resamples: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean; None for no data. Seeded, so a
    leaderboard rebuilt from the same tables shows the same intervals."""
    x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce").dropna(), dtype=float)
    if len(x) == 0:
        return None
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(n_resamples, len(x)))].mean(axis=1)
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


# ---------------------------------------------------------------- reference metrics ---


def load_rgb(data: bytes | str) -> np.ndarray:
    image = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image)  # transparent figures sit on paper white
    return np.asarray(image.convert("RGB"), dtype=np.float64)


def resize_to(reference: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The real figure resized (bicubic) to the generated image's size, as in the study."""
    img = Image.fromarray(np.clip(reference, 0, 255).astype(np.uint8))
    return np.asarray(img.resize((shape[1], shape[0]), Image.BICUBIC), dtype=np.float64)


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(data_range**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray, win: int = 3, data_range: float = 255.0) -> float:
    """Mean SSIM over channels with a uniform window (the study uses window 3).

    Follows the usual definition: sample covariances, K1 = 0.01, K2 = 0.03, and the mean
    taken away from a border of half a window.
    """
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    cov_norm = win * win / (win * win - 1)
    values = []
    for ch in range(a.shape[2]):
        x, y = a[..., ch], b[..., ch]
        ux, uy = uniform_filter(x, win), uniform_filter(y, win)
        vx = cov_norm * (uniform_filter(x * x, win) - ux * ux)
        vy = cov_norm * (uniform_filter(y * y, win) - uy * uy)
        vxy = cov_norm * (uniform_filter(x * y, win) - ux * uy)
        s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
        pad = (win - 1) // 2
        values.append(s[pad:-pad or None, pad:-pad or None].mean())
    return float(np.mean(values))


def high_frequency_ratio(rgb: np.ndarray, cutoff: float = 0.25) -> float:
    """Share of spectral power above ``cutoff`` x Nyquist (radially) in the grey image."""
    grey = rgb.mean(axis=2)
    grey = grey - grey.mean()
    power = np.abs(np.fft.fftshift(np.fft.fft2(grey))) ** 2
    h, w = grey.shape
    yy, xx = np.mgrid[-(h // 2):h - h // 2, -(w // 2):w - w // 2]
    radius = np.sqrt((yy / (h / 2)) ** 2 + (xx / (w / 2)) ** 2)
    total = power.sum()
    return float(power[radius > cutoff].sum() / total) if total > 0 else 0.0


# MS-SSIM (Wang, Simoncelli & Bovik 2003): Gaussian window of 11 px, sigma 1.5, five
# scales with the published weights. Scales whose image would be smaller than the window
# are dropped and the remaining weights renormalised; the number used is reported.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
MS_SSIM_WINDOW = 11


def _ssim_terms(x: np.ndarray, y: np.ndarray, data_range: float) -> tuple[float, float]:
    """(luminance x contrast-structure, contrast-structure) means of one channel."""
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    blur = lambda a: gaussian_filter(a, 1.5, truncate=3.5)  # noqa: E731 - 11-px support
    ux, uy = blur(x), blur(y)
    vx, vy, vxy = blur(x * x) - ux * ux, blur(y * y) - uy * uy, blur(x * y) - ux * uy
    cs = (2 * vxy + c2) / (vx + vy + c2)
    lum = (2 * ux * uy + c1) / (ux**2 + uy**2 + c1)
    pad = MS_SSIM_WINDOW // 2
    crop = (slice(pad, -pad or None), slice(pad, -pad or None))
    return float((lum * cs)[crop].mean()), float(cs[crop].mean())


def ms_ssim_scales(shape: tuple[int, ...]) -> int:
    side = min(shape[0], shape[1])
    scales = 0
    while scales < len(MS_SSIM_WEIGHTS) and side >= 2 * MS_SSIM_WINDOW:
        scales, side = scales + 1, side // 2
    return scales


def ms_ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float | None:
    """Multi-scale SSIM of two same-size RGB arrays (mean over channels); None when the
    image is too small for even one scale. Negative contrast terms are clipped at 0 so
    the weighted product stays real."""
    scales = ms_ssim_scales(a.shape)
    if scales == 0:
        return None
    weights = np.asarray(MS_SSIM_WEIGHTS[:scales])
    weights = weights / weights.sum()
    per_channel = []
    for ch in range(a.shape[2]):
        x, y = a[..., ch], b[..., ch]
        product = 1.0
        for level in range(scales):
            full, cs = _ssim_terms(x, y, data_range)
            value = full if level == scales - 1 else cs
            product *= max(value, 0.0) ** weights[level]
            h, w = (x.shape[0] // 2) * 2, (x.shape[1] // 2) * 2  # 2x2 average pooling
            x = x[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
            y = y[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        per_channel.append(product)
    return float(np.mean(per_channel))


def radial_spectrum(rgb: np.ndarray, n_bins: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged spectrum of the grey image.

    Returns ``(freq, log_power)``: the bin centres in cycles per pixel (0 to 0.5, the
    Nyquist limit) and, per bin, the mean of log10 of the 2-D FFT power (normalised by the
    pixel count, mean removed). Bins no FFT sample falls in (tiny images) are NaN.
    """
    a = np.asarray(rgb, dtype=np.float64)
    grey = a[..., :3].mean(axis=2) if a.ndim == 3 else a
    if grey.ndim != 2 or min(grey.shape) < 2:
        raise ValueError(f"need a 2-D image of at least 2x2 pixels, got shape {a.shape}")
    h, w = grey.shape
    power = np.abs(np.fft.fft2(grey - grey.mean())) ** 2 / (h * w)
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :]
    radius = np.sqrt(fy**2 + fx**2)
    edges = np.linspace(0.0, 0.5, n_bins + 1)
    freq = (edges[:-1] + edges[1:]) / 2
    logp = np.log10(power + 1e-12)
    inside = (radius > 0) & (radius <= 0.5)  # the DC term carries only the removed mean
    idx = np.clip(np.digitize(radius[inside], edges) - 1, 0, n_bins - 1)
    sums = np.bincount(idx, weights=logp[inside], minlength=n_bins)
    counts = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return freq, mean


# FID / KID: Inception pool features of the real and the generated reference figures,
# through torchmetrics with our own feature module (weights from a local file only).
KID_SUBSET_SIZE = 50


def _uint8_batch(images: Sequence[np.ndarray], side: int = 299):
    import torch

    tensors = []
    for rgb in images:
        img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).resize((side, side), Image.BICUBIC)
        tensors.append(torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1))
    return torch.stack(tensors)


class _Precomputed:
    """A feature "module" for torchmetrics that passes precomputed features through, so
    the Inception network runs once per image for both FID and KID."""

    def __new__(cls, num_features: int):
        import torch

        class Passthrough(torch.nn.Module):
            def forward(self, x):
                return x

        module = Passthrough()
        module.num_features = num_features
        return module


def inception_features(images: Sequence[np.ndarray], model, batch: int = 16) -> np.ndarray:
    import torch

    chunks = []
    with torch.no_grad():
        for start in range(0, len(images), batch):
            chunks.append(model(_uint8_batch(images[start:start + batch])).double().numpy())
    return np.concatenate(chunks) if chunks else np.zeros((0, getattr(model, "num_features", 0)))


def fid_kid(real: np.ndarray, generated: np.ndarray) -> dict[str, Any]:
    """FID and KID (mean, and std over 50 subsets when subsets can differ) of two feature
    sets (rows = images), with torchmetrics' estimators; "not computed" with the reason
    when a set is too small."""
    import torch
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    n = min(len(real), len(generated))
    out: dict[str, Any] = {"n_real": len(real), "n_generated": len(generated)}
    if n < 2:
        reason = f"not computed: {n} image pair(s); FID/KID need at least 2 on each side"
        return out | {"fid": reason, "kid_mean": reason, "kid_std": reason}
    dims = real.shape[1]
    subset = min(KID_SUBSET_SIZE, n)
    fid = FrechetInceptionDistance(feature=_Precomputed(dims), reset_real_features=True)
    with warnings.catch_warnings():  # its note on buffering every feature: ours are few and small
        warnings.simplefilter("ignore", UserWarning)
        kid = KernelInceptionDistance(feature=_Precomputed(dims), subset_size=subset, subsets=50)
    fid.set_dtype(torch.float64)
    for is_real, feats in ((True, real), (False, generated)):
        tensor = torch.from_numpy(np.asarray(feats, dtype=np.float64))
        fid.update(tensor, real=is_real)
        kid.update(tensor, real=is_real)
    with torch.random.fork_rng():  # KID draws its subsets from torch's generator: seeded, not shared
        torch.manual_seed(0)
        kid_mean, kid_std = kid.compute()
    # When a subset is as large as both sets, every draw is the same set and the spread
    # says nothing: it is not reported.
    spread = float(kid_std) if subset < max(len(real), len(generated)) else None
    return out | {"fid": float(fid.compute()), "kid_mean": float(kid_mean), "kid_std": spread,
                  "kid_subset_size": subset}
