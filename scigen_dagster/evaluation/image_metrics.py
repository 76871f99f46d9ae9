"""Image metrics against real reference figures: PSNR, SSIM, MS-SSIM and radial spectra."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from PIL import Image
from scipy.ndimage import gaussian_filter, uniform_filter


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


REFERENCE_COLUMNS = ["problem_id", "model", "image_type", "status", "psnr", "ssim", "ms_ssim", "ms_ssim_scales",
                     "hf_ratio_generated", "hf_ratio_real", "spectrum_generated", "spectrum_real"]
RESIZE_POLICY = ("the real figure is flattened on white and resized (bicubic) to the generated image's size; "
                 "RGB, data range 255; SSIM with a 3 px uniform window, MS-SSIM with an 11 px Gaussian "
                 "(sigma 1.5) over up to 5 scales; FID/KID on Inception pool features at 299 x 299")


def _reference_pairs(items: pd.DataFrame, images: pd.DataFrame, storage):
    """(item, generated RGB or None, real RGB resized to it or None) per reference item."""
    by_id = {r.problem_id: r for r in images.itertuples(index=False)}
    for item in items[items["reference_image"] != ""].itertuples(index=False):
        image = by_id.get(item.problem_id)
        if image is None or image.status != "ok":
            yield item, None, None
            continue
        generated = load_rgb(storage.read_bytes(image.image_path))
        real = resize_to(load_rgb(item.reference_image), generated.shape[:2])
        yield item, generated, real


def reference_metrics_table(items: pd.DataFrame, images: pd.DataFrame, model: str, storage) -> pd.DataFrame:
    """One row per item with a real reference figure: PSNR, SSIM, MS-SSIM and spectra of
    the model's figure against it (see RESIZE_POLICY); no figure, no scores."""
    rows = []
    for item, generated, real in _reference_pairs(items, images, storage):
        row = dict.fromkeys(REFERENCE_COLUMNS) | {
            "problem_id": item.problem_id, "model": model, "image_type": item.image_type, "status": "no_image"}
        if generated is not None:
            row.update(status="ok", psnr=psnr(generated, real), ssim=ssim(generated, real),
                       ms_ssim=ms_ssim(generated, real),
                       ms_ssim_scales=ms_ssim_scales(generated.shape),
                       hf_ratio_generated=high_frequency_ratio(generated),
                       hf_ratio_real=high_frequency_ratio(real),
                       spectrum_generated=radial_spectrum(generated)[1].tolist(),
                       spectrum_real=radial_spectrum(real)[1].tolist())
        rows.append(row)
    return pd.DataFrame(rows, columns=REFERENCE_COLUMNS)
