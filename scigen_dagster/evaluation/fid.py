"""FID and KID of a model's figures against the real reference figures, on Inception
features from a local weights file (never downloaded), cached by figure content; and the
summary of a model's reference pairs, its CLIP score included (CLIP from a local folder)."""

from __future__ import annotations

import functools
import hashlib
import io
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from scigen_dagster.engines.clip import NOT_CONFIGURED
from scigen_dagster.evaluation.image_metrics import load_rgb
from scigen_dagster.fingerprints import code_fingerprint

# FID / KID: Inception pool features of the real and the generated reference figures,
# through torchmetrics with our own feature module (weights from a local file only).
KID_SUBSET_SIZE = 50


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

    from scigen_dagster.engines.inception import inception_input

    chunks = []
    with torch.no_grad():
        for start in range(0, len(images), batch):
            chunks.append(model(inception_input(images[start:start + batch])).double().numpy())
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


INCEPTION_ENV = "SCIGEN_INCEPTION_WEIGHTS"
SUMMARY_COLUMNS = ["model", "pairs", "psnr_mean", "ssim_mean", "ms_ssim_mean", "fid", "kid_mean", "kid_std",
                   "fid_status", "inception_weights_sha256", "clip_score", "clip_status", "clip_weights_sha256",
                   "spectrum_freq", "spectrum_generated", "spectrum_real"]


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
    from scigen_dagster.engines.inception import file_sha256

    return file_sha256(path)  # ~100 MB: hashed once per (path, size, mtime)


@functools.lru_cache(maxsize=1)
def _clip_scorer(path: Path, sha: str):
    from scigen_dagster.engines.clip import ClipScorer

    return ClipScorer(path)


def clip_summary(pairs: pd.DataFrame, storage, folder: Path | None, folder_sha: str) -> dict[str, Any]:
    """The mean CLIP score of the model's figures against their problem texts, over the
    same pairs as FID ("not computed", with the reason, without a CLIP folder)."""
    if folder is None:
        return {"clip_score": None, "clip_status": folder_sha, "clip_weights_sha256": ""}
    if not len(pairs):
        return {"clip_score": None, "clip_status": "not computed: no figure pair", "clip_weights_sha256": folder_sha}
    scorer = _clip_scorer(folder, folder_sha)
    scores = scorer.scores([load_rgb(storage.read_bytes(rel)) for rel in pairs["image_path"]],
                           pairs["question"].tolist())
    return {"clip_score": float(np.mean(scores)), "clip_weights_sha256": folder_sha,
            "clip_status": f"computed: {scorer.architecture}, mean of 100 * max(cos, 0) over {len(scores)} "
                           f"figure / problem-text pairs, text cut at 77 tokens"}


@functools.lru_cache(maxsize=1)
def _inception_model(path: Path, sha: str):
    from scigen_dagster.engines.inception import load_inception

    return load_inception(path)


def _features(storage, weights: Path, weights_sha: str, images: list[tuple[str, Callable]]) -> np.ndarray:
    """Inception pool features per image, cached in the store by (weights, the code of the
    input path and network, image content), so a real figure is embedded once for every
    model and every rerun, and again only when the weights or that code change."""
    from scigen_dagster.engines import inception

    code = code_fingerprint(inception)[:8]  # the resize and scaling live there
    rows, todo = {}, []
    for sha, load in images:
        rel = f"cache/inception/{weights_sha[:16]}-{code}/{sha}.npy"
        if storage.exists(rel):
            rows[sha] = np.load(io.BytesIO(storage.read_bytes(rel)))
        else:
            todo.append((sha, load, rel))
    if todo:
        fresh = inception_features([load() for _, load, _ in todo], _inception_model(weights, weights_sha))
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


def reference_summary(frame: pd.DataFrame, items: pd.DataFrame, images: pd.DataFrame, model: str, storage,
                      weights: Path | None, weights_sha: str, clip_folder: Path | None = None,
                      clip_sha: str = "") -> pd.DataFrame:
    """Means over the reference pairs; FID / KID of the model's figures against the real
    figures of the same pairs (native size, each resized once to 299 x 299): each model is
    compared with its own real set, as the study's ``t2i_metric.py`` does (it feeds FID
    the ground truth of every pair it scores), so a model that failed an item is not
    compared with that item's figure; and the CLIP score of those figures against their
    problem texts."""
    ok = frame[frame["status"] == "ok"]
    row = {"model": model, "pairs": len(ok),
           "psnr_mean": float(ok["psnr"].replace(np.inf, np.nan).mean()) if len(ok) else None,
           "ssim_mean": float(ok["ssim"].mean()) if len(ok) else None,
           "ms_ssim_mean": float(pd.to_numeric(ok["ms_ssim"]).mean()) if len(ok) else None,
           "fid": None, "kid_mean": None, "kid_std": None,
           "inception_weights_sha256": weights_sha if weights else "",
           "spectrum_freq": ((np.arange(SPECTRUM_BINS) + 0.5) * 0.5 / SPECTRUM_BINS).tolist(),
           "spectrum_generated": _mean_curve(ok["spectrum_generated"]),
           "spectrum_real": _mean_curve(ok["spectrum_real"])}
    pairs = (images[(images["status"] == "ok") & images["problem_id"].isin(ok["problem_id"])]
             .merge(items[["problem_id", "reference_image", "question"]], on="problem_id")
             .sort_values("problem_id"))
    row.update(clip_summary(pairs, storage, clip_folder, clip_sha or NOT_CONFIGURED))
    row.update(_fid_summary(pairs, storage, weights, weights_sha))
    return pd.DataFrame([row], columns=SUMMARY_COLUMNS)


def _fid_summary(pairs: pd.DataFrame, storage, weights: Path | None, weights_sha: str) -> dict[str, Any]:
    if weights is None:
        return {"fid_status": weights_sha}
    real = [(hashlib.sha256(Path(p).read_bytes()).hexdigest(), functools.partial(load_rgb, p))
            for p in pairs["reference_image"]]
    generated = [(r.image_sha256, functools.partial(lambda rel: load_rgb(storage.read_bytes(rel)), r.image_path))
                 for r in pairs.itertuples(index=False)]
    if len(pairs) < 2:
        return {"fid_status": f"not computed: {len(pairs)} figure pair(s); FID/KID need at least 2"}
    scores = fid_kid(_features(storage, weights, weights_sha, real), _features(storage, weights, weights_sha, generated))
    return {"fid": scores["fid"], "kid_mean": scores["kid_mean"], "kid_std": scores["kid_std"],
            "fid_status": f"computed: {len(generated)} generated vs the {len(real)} real figures of the same pairs, "
                          f"KID subsets of {scores['kid_subset_size']}"
                          + (" (one subset covers the set: no KID spread)" if scores["kid_std"] is None else "")}
