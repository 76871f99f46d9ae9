"""Pixel models: text-to-image diffusion and the image table of a diffusers model.

``DiffusionGenerator`` wraps any diffusers text-to-image pipeline (a Hub id, a local folder,
or the built-in untrained ``builtin:tiny-sd`` used by tests and CPU runs) behind one call::

    images = DiffusionGenerator().generate(prompts, [seed_for(pid) for pid in problem_ids])

Guarantees
----------
* **Loaded once per process per config.**  Pipelines live in a module-level cache keyed by
  everything that affects the loaded weights/placement (model, device, dtype, offload,
  slicing, local_files_only, batch_invariant).  Per-call knobs (steps, guidance, size,
  batch size, prompt template) are *not* part of the key, so a 25-partition backfill that
  builds 25 resource instances in one process loads once.  ``load_count()`` exposes the
  number of loads for tests and benchmarks.  (Dagster's multiprocess executor runs each step
  in its own process, so there it is one load per step process.)
* **An image depends only on (prompt, seed, config) - never on batch composition.**  Each
  prompt gets its own CPU ``torch.Generator`` (so initial latents are also identical across
  devices).  That alone is *not* enough: on CPU, PyTorch/oneDNN/MKL pick different kernels
  for different batch sizes (GEMV vs GEMM for ``M=1`` linears, oneDNN conv blocking for
  small feature maps, and the channels-last GroupNorm path whose reduction strategy depends
  on N), which moves results by ~1e-5 and flips a few uint8 pixels.  With
  ``batch_invariant=True`` (default) every ``nn.Linear`` of the pipeline runs as a ``bmm``
  whose per-sample problem shape does not depend on the batch size, every ``nn.Conv2d`` runs
  sample by sample on contiguous NCHW input (the very call a batch-1 run makes), and GroupNorm
  runs on contiguous NCHW input.  Verified bit-exact on CPU (tests compare batch 1 vs 3/4/8).
  The price is part of the batching speed-up (see benchmarks/bench_diffusion.py).  On
  CUDA the same code path runs, but bit-exactness has not been verified there (cuBLAS
  heuristics may depend on the batch count); set ``batch_invariant=False`` for maximum GPU
  throughput when byte-identity across batch sizes is not needed.
* **OOM-tolerant.**  On ``torch.cuda.OutOfMemoryError`` (or any ``RuntimeError`` mentioning
  "out of memory") the batch is halved and retried; affected images carry a ``note``.
* **Deterministic PNG bytes** (PIL, RGB, no metadata chunks, fixed compression level).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
import time
import types
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd
from PIL import Image

from scigen_dagster.engines.tiny_diffusion import BUILTIN_PREFIX, TINY_MODEL_ID, ensure_builtin
from scigen_dagster.generation.image_table import IMAGE_COLUMNS, base_row

if TYPE_CHECKING:  # the registry imports the generation functions of each kind
    from scigen_dagster.registry import ModelSpec

log = logging.getLogger(__name__)

_DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


@dataclass(frozen=True)
class GeneratedImage:
    png: bytes
    seed: int
    batch_size_used: int
    note: str = ""
    prompt: str = ""  # the text the text encoder was given (after fit_prompt)


# Sentences that ask for the answer: the first to go when a prompt is too long (a figure
# must not show the answer anyway). Given values and named entities are kept longest.
_ASKING = re.compile(r"^\s*(find|calculate|compute|determine|what|which|how|why|show|prove|explain|state|"
                     r"name|give|identify|estimate|predict|deduce|evaluate|sketch and find)\b", re.I)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+")


def shorten_prompt(text: str, tokens, limit: int) -> tuple[str, str]:
    """``text`` cut to at most ``limit`` tokens (``tokens(text)`` counts them) by a stated
    rule: drop the sentences that ask for the answer, then keep, in their order, the
    sentences with numbers first and the others as room allows, then cut at a word.
    Returns the text and a note saying what was dropped ("" when nothing was)."""
    if tokens(text) <= limit:
        return text, ""
    sentences = [s for s in _SENTENCE.split(text.strip()) if s]
    kept = [s for s in sentences if not _ASKING.match(s)] or sentences[:1]
    overhead = tokens("")  # start/end markers, counted once per prompt
    cost = [tokens(s) - overhead for s in kept]  # word-level tokenizers: sentence counts add up
    chosen: list[int] = []
    for wanted in (True, False):  # sentences with given values first
        for i, sentence in enumerate(kept):
            if (any(c.isdigit() for c in sentence) == wanted and i not in chosen
                    and overhead + sum(cost[j] for j in chosen) + cost[i] <= limit):
                chosen.append(i)
    short = " ".join(kept[j] for j in sorted(chosen))
    while chosen and tokens(short) > limit:  # the sum was optimistic: drop the last kept sentence
        chosen.remove(max(chosen))
        short = " ".join(kept[j] for j in sorted(chosen))
    if not chosen:  # not even one sentence fits: cut the first at a word boundary
        words = kept[0].split()
        lo, hi = 0, len(words)
        while lo < hi:  # the longest prefix of words that fits
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if tokens(" ".join(words[:mid])) <= limit else (lo, mid - 1)
        short = " ".join(words[:lo])
    dropped = len(sentences) - max(len(chosen), 1)
    return short, f"prompt shortened to the text encoder's limit ({dropped} of {len(sentences)} sentences dropped)"


def seed_for(problem_id: str, base_seed: int = 0) -> int:
    """Stable 63-bit seed for a problem id (sha256; identical across processes and machines)."""
    digest = hashlib.sha256(f"{int(base_seed)}\x00{problem_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


# --------------------------------------------------------------------------------------------
# process-wide pipeline cache
# --------------------------------------------------------------------------------------------


class _Key(NamedTuple):
    model: str
    device: str
    dtype: str
    cpu_offload: bool
    attention_slicing: bool
    local_files_only: bool
    batch_invariant: bool


class _Entry:
    def __init__(self, pipe: Any):
        self.pipe = pipe
        self.lock = threading.Lock()  # diffusers schedulers are stateful: one call at a time


_CACHE: dict[_Key, _Entry] = {}
_CACHE_LOCK = threading.Lock()
_LOADS: dict[_Key, int] = {}


def load_count(key: _Key | None = None) -> int:
    """Pipelines loaded by this process (for ``key`` only, if given)."""
    with _CACHE_LOCK:
        return _LOADS.get(key, 0) if key is not None else sum(_LOADS.values())


def clear_pipeline_cache() -> None:
    """Drop cached pipelines (the load counter is kept)."""
    with _CACHE_LOCK:
        _CACHE.clear()
    _empty_device_cache()


def _empty_device_cache() -> None:
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # pragma: no cover - best effort
        pass


# --------------------------------------------------------------------------------------------
# batch-invariant layers
# --------------------------------------------------------------------------------------------


def _bi_linear(self, x):
    import torch

    if x.dim() < 2:
        return torch.nn.functional.linear(x, self.weight, self.bias)
    shape = x.shape
    b = shape[0]
    x3 = x.reshape(b, -1, shape[-1])
    w = self.weight.t().unsqueeze(0).expand(b, -1, -1)
    out = torch.bmm(x3, w) if self.bias is None else torch.baddbmm(self.bias, x3, w)
    return out.reshape(*shape[:-1], self.out_features)


def _bi_conv2d(self, x):
    import torch

    fwd = torch.nn.Conv2d.forward
    if x.dim() != 4 or x.shape[0] == 1:
        return fwd(self, x.contiguous() if x.dim() == 4 else x)
    # Exactly the call a batch-1 run makes: N=1, contiguous NCHW (oneDNN/cuDNN pick kernels from
    # shape *and* memory format; a slice of a channels-last batch would take another path).
    # Measured faster on CPU than an unfold/as_strided + bmm formulation, which is also exact.
    return torch.cat([fwd(self, x[i : i + 1].contiguous()) for i in range(x.shape[0])])


def _bi_group_norm(self, x):
    import torch.nn.functional as F

    # channels-last GroupNorm picks its reduction strategy from N; contiguous NCHW reduces per (n, g).
    return F.group_norm(x.contiguous(), self.num_groups, self.weight, self.bias, self.eps)


def make_batch_invariant(pipe: Any) -> int:
    """Patch the pipeline's Linear/Conv2d/GroupNorm modules in place; return how many."""
    import torch.nn as nn

    patched = 0
    for comp in getattr(pipe, "components", {}).values():
        if not isinstance(comp, nn.Module):
            continue
        for m in comp.modules():
            fn = {nn.Linear: _bi_linear, nn.Conv2d: _bi_conv2d, nn.GroupNorm: _bi_group_norm}.get(type(m))
            if fn is not None:
                m.forward = types.MethodType(fn, m)
                patched += 1
    return patched


# --------------------------------------------------------------------------------------------
# seams (monkeypatched in tests)
# --------------------------------------------------------------------------------------------


def _call_pipeline(pipe: Any, prompts: list[str], generators: list[Any], **kwargs: Any) -> list[Any]:
    """One forward of the pipeline for one batch; returns PIL images (or arrays)."""
    return list(pipe(prompt=prompts, generator=generators, num_images_per_prompt=1, **kwargs).images)


def _dtype_kwarg() -> str:
    """diffusers >= 0.36 renamed ``torch_dtype`` to ``dtype`` (the old name warns)."""
    try:
        from diffusers.utils.deprecation_utils import _resolve_dtype  # noqa: F401
    except ImportError:
        return "torch_dtype"
    return "dtype"


def _is_oom(exc: BaseException) -> bool:
    try:
        import torch

        if isinstance(exc, torch.cuda.OutOfMemoryError):
            return True
    except Exception:  # pragma: no cover
        pass
    return isinstance(exc, (RuntimeError, MemoryError)) and (
        isinstance(exc, MemoryError) or "out of memory" in str(exc).lower()
    )


def encode_png(image: Any) -> bytes:
    """Deterministic PNG: RGB, no ancillary chunks, fixed zlib level."""
    import numpy as np
    from PIL import Image

    if isinstance(image, Image.Image):
        arr = np.asarray(image.convert("RGB"))
    else:
        arr = np.asarray(image)
        if arr.dtype != np.uint8:
            arr = (np.clip(arr, 0.0, 1.0) * 255).round().astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG", compress_level=6, optimize=False)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# the resource
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffusionGenerator:
    """A diffusers text-to-image pipeline, loaded once per process per config.

    ``model``: a Hub id, a local folder, or ``builtin:tiny-sd`` (an untrained tiny
    StableDiffusion built under ``cache_dir`` on first use, then loaded via ``from_pretrained``).
    """

    model: str = TINY_MODEL_ID
    cache_dir: str = ".scigen/models"
    device: str = "auto"  # auto -> cuda, mps, cpu
    dtype: str = "auto"  # auto -> fp16 on cuda, fp32 elsewhere; or fp32 / fp16 / bf16
    steps: int = 8
    guidance_scale: float = 5.0
    width: int = 128
    height: int = 128
    batch_size: int = 8
    cpu_offload: bool = False
    attention_slicing: bool = False
    local_files_only: bool = True
    prompt_template: str = "{question}"
    batch_invariant: bool = True  # byte-identical images regardless of batch size (see module doc)

    # ---- resolution -----------------------------------------------------------------------

    def resolved_device(self) -> str:
        import torch

        if self.device != "auto":
            return self.device
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"

    def resolved_dtype(self) -> str:
        d = self.dtype.lower()
        if d == "auto":
            return "float16" if self.resolved_device().startswith("cuda") else "float32"
        if d in _DTYPES:
            return _DTYPES[d]
        if d in _DTYPES.values():
            return d
        raise ValueError(f"dtype must be auto, fp32, fp16 or bf16, got {self.dtype!r}")

    def _source(self) -> str:
        if self.model.startswith(BUILTIN_PREFIX):
            return self.model  # resolved (and built) lazily in _load
        p = Path(self.model).expanduser()
        return str(p.absolute()) if p.exists() else self.model

    def cache_key(self) -> _Key:
        src = self._source()
        if src.startswith(BUILTIN_PREFIX):
            src = f"{src}@{Path(self.cache_dir).expanduser().absolute()}"
        return _Key(
            model=src,
            device=self.resolved_device(),
            dtype=self.resolved_dtype(),
            cpu_offload=bool(self.cpu_offload),
            attention_slicing=bool(self.attention_slicing),
            local_files_only=bool(self.local_files_only),
            batch_invariant=bool(self.batch_invariant),
        )

    # ---- loading ----------------------------------------------------------------------------

    def _load(self, key: _Key) -> Any:
        import torch
        from diffusers import AutoPipelineForText2Image, DiffusionPipeline

        source = self._source()
        local_only = self.local_files_only
        if source.startswith(BUILTIN_PREFIX):
            source = str(ensure_builtin(source, self.cache_dir))
            local_only = True
        kwargs: dict[str, Any] = {_dtype_kwarg(): getattr(torch, key.dtype), "local_files_only": local_only}
        try:
            pipe = AutoPipelineForText2Image.from_pretrained(source, **kwargs)
        except ValueError as exc:  # not a known text-to-image family: use the folder's own class
            log.info("AutoPipelineForText2Image declined %s (%s); using DiffusionPipeline", source, exc)
            pipe = DiffusionPipeline.from_pretrained(source, **kwargs)

        if key.batch_invariant:
            make_batch_invariant(pipe)
        if key.attention_slicing and hasattr(pipe, "enable_attention_slicing"):
            pipe.enable_attention_slicing()
        if key.cpu_offload and key.device.startswith("cuda"):
            try:
                pipe.enable_model_cpu_offload(device=key.device)
            except (ImportError, RuntimeError, ValueError) as exc:  # accelerate missing, ...
                warnings.warn(f"cpu_offload unavailable ({exc}); placing the whole pipeline on {key.device}")
                pipe.to(key.device)
        else:
            pipe.to(key.device)
        if hasattr(pipe, "set_progress_bar_config"):
            pipe.set_progress_bar_config(disable=True)
        log.info("loaded diffusion pipeline %s (%s) on %s/%s", source, type(pipe).__name__, key.device, key.dtype)
        return pipe

    def _entry(self) -> _Entry:
        key = self.cache_key()
        with _CACHE_LOCK:
            entry = _CACHE.get(key)
            if entry is None:
                # Loading under the global lock: a second thread asking for the same (or any)
                # model waits instead of loading a duplicate copy into GPU memory.
                entry = _Entry(self._load(key))
                _CACHE[key] = entry
                _LOADS[key] = _LOADS.get(key, 0) + 1
            return entry

    def pipeline(self) -> Any:
        """The cached (loading on first use) diffusers pipeline for this config."""
        return self._entry().pipe

    # ---- generation ---------------------------------------------------------------------------

    def format_prompt(self, question: str) -> str:
        if "{question}" not in self.prompt_template:
            raise ValueError("prompt_template must contain '{question}'")
        return self.prompt_template.replace("{question}", question)

    @staticmethod
    def fit_prompt(pipe: Any, text: str) -> tuple[str, str]:
        """``text`` within the pipeline's text-encoder limit (CLIP: 77 tokens), shortened by
        ``shorten_prompt``'s rule instead of the tokenizer silently cutting the end."""
        tokenizer = getattr(pipe, "tokenizer", None)
        limit = getattr(tokenizer, "model_max_length", None)
        if tokenizer is None or not limit or limit > 100_000:
            return text, ""
        return shorten_prompt(text, lambda t: len(tokenizer(t).input_ids), limit)

    def generate(self, prompts: list[str], seeds: list[int]) -> list[GeneratedImage]:
        """One image per (prompt, seed), in order.  Batched by ``batch_size``; halves on OOM."""
        import torch

        prompts, seeds = list(prompts), [int(s) for s in seeds]
        if len(prompts) != len(seeds):
            raise ValueError(f"{len(prompts)} prompts but {len(seeds)} seeds")
        if not prompts:
            return []
        texts = [self.format_prompt(p) for p in prompts]
        entry = self._entry()
        fitted = [self.fit_prompt(entry.pipe, t) for t in texts]
        texts, shortened = [t for t, _ in fitted], [n for _, n in fitted]
        call_kwargs = {
            "num_inference_steps": int(self.steps),
            "guidance_scale": float(self.guidance_scale),
            "width": int(self.width),
            "height": int(self.height),
        }

        out: list[GeneratedImage | None] = [None] * len(texts)
        bs = max(1, int(self.batch_size))
        notes: list[str] = []
        i = 0
        with entry.lock:
            while i < len(texts):
                j = min(i + bs, len(texts))
                # CPU generators: initial latents are identical on every device.
                gens = [torch.Generator("cpu").manual_seed(s) for s in seeds[i:j]]
                try:
                    images = _call_pipeline(entry.pipe, texts[i:j], gens, **call_kwargs)
                except Exception as exc:
                    if not _is_oom(exc) or bs == 1:
                        raise
                    images = None
                if images is None:  # OOM: retry this chunk smaller (outside `except`, so the
                    _empty_device_cache()  # traceback's tensors are already released)
                    bs //= 2
                    notes.append(f"OOM: batch halved to {bs}")
                    log.warning("diffusion OOM; retrying with batch size %d", bs)
                    continue
                if len(images) != j - i:
                    raise RuntimeError(f"pipeline returned {len(images)} images for {j - i} prompts")
                note = "; ".join(notes)
                for k, img in enumerate(images):
                    out[i + k] = GeneratedImage(png=encode_png(img), seed=seeds[i + k], batch_size_used=j - i,
                                                note="; ".join(n for n in (shortened[i + k], note) if n),
                                                prompt=texts[i + k])
                i = j
        return [o for o in out if o is not None]


# --------------------------------------------------------------------------------------------
# the image table of a diffusers model
# --------------------------------------------------------------------------------------------


def render_diffusers(items: pd.DataFrame, spec: ModelSpec, diffusion, storage) -> pd.DataFrame:
    rows, questions, seeds = [], [], []
    for r in items.itertuples(index=False):
        row = base_row(r.problem_id, spec)
        # The resource applies the model's prompt template; the row records what was sent.
        row["prompt"] = diffusion.format_prompt(r.question)
        row["seed"] = seed_for(r.problem_id, spec.seed)
        rows.append(row)
        questions.append(r.question)
        seeds.append(row["seed"])
    if not rows:
        return pd.DataFrame(columns=IMAGE_COLUMNS)
    start = time.perf_counter()
    try:
        images = diffusion.generate(questions, seeds)
    except Exception as exc:  # a failed batch stays in the table with its reason
        for row in rows:
            row.update(status="failed", reason=f"generation error: {type(exc).__name__}: {exc}"[:500], attempts=1)
        return pd.DataFrame(rows, columns=IMAGE_COLUMNS)
    per_image = (time.perf_counter() - start) / len(rows)
    for row, image in zip(rows, images):
        sha, rel = storage.put_png(image.png)
        width, height = Image.open(io.BytesIO(image.png)).size
        row.update(status="ok", image_sha256=sha, image_path=rel, width=width, height=height,
                   attempts=1, render_seconds=round(per_image, 4), note=image.note, prompt=image.prompt or row["prompt"])
    return pd.DataFrame(rows, columns=IMAGE_COLUMNS)
