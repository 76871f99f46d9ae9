"""CLIP score of a figure against its problem text, with CLIP ViT-B/16 from a local folder.

The study reports a CLIP score (``openai/clip-vit-base-patch16``, the text cut at 77
tokens) through torchmetrics' ``CLIPScore``; the definition is torchmetrics':
``100 * max(cos(E_image, E_text), 0)`` per pair, and a model's score is the mean over its
pairs, as the study averages its per-image values.

Nothing is downloaded: the weights are a folder that ``transformers.CLIPModel`` loads with
``from_pretrained(folder, local_files_only=True)`` (a snapshot of
openai/clip-vit-base-patch16 holds config.json, the weights and the tokenizer files),
named by ``SCIGEN_CLIP_WEIGHTS``. Without it every output says "not computed", never a
number.

Preprocessing is CLIP's own image processor: the shortest side resized to 224 (bicubic),
a centre crop of 224 x 224, pixel values rescaled once from 0..255 to 0..1 and normalised
with CLIP's mean and std. The text is tokenized once, cut at 77 tokens with the
end-of-text token kept last (CLIP pools the text at that token).

How the study's own numbers differ (``src/eval/t2i_metric.py``): it squashes each figure
to 224 x 224 (``T.Resize((224, 224))``, no crop) and hands ``CLIPScore`` the output of
``T.ToTensor()``, floats already in 0..1; the CLIP processor rescales them by 1/255 a
second time, so every image reaches the network as an almost black, almost constant
picture and its score barely depends on the figure (25.01-25.21 for every model in its
table). Its text is cut at 77 tokens, decoded back to a string and tokenized again. Our
numbers are therefore not comparable with the study's CLIP column, by design.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

CLIP_ENV = "SCIGEN_CLIP_WEIGHTS"
MAX_TOKENS = 77
NOT_CONFIGURED = (f"not computed: set {CLIP_ENV}=<folder> (a local CLIP ViT-B/16 folder that "
                  "transformers.CLIPModel.from_pretrained loads, e.g. a snapshot of openai/clip-vit-base-patch16)")
# ViT-B/16 as the study names it: 224 px input, 16 px patches, 12 layers of width 768.
VIT_B_16 = {"image_size": 224, "patch_size": 16, "hidden_size": 768, "num_hidden_layers": 12}


class ClipWeightsError(ValueError):
    pass


def clip_weights() -> tuple[Path | None, str]:
    """The configured CLIP folder and a hash of its files, or (None, why the CLIP score is
    not computed)."""
    value = os.environ.get(CLIP_ENV, "")
    if not value:
        return None, NOT_CONFIGURED
    path = Path(value)
    if not (path / "config.json").is_file():
        return None, f"not computed: {CLIP_ENV}={value} is not a folder with a CLIP config.json"
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return path, _folder_sha(str(path.resolve()), tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files))


@functools.lru_cache(maxsize=4)
def _folder_sha(root: str, files: tuple[tuple[str, int, int], ...]) -> str:
    """sha256 over every file's relative name and content: hashed once per folder state."""
    digest = hashlib.sha256()
    for name, _, _ in files:
        digest.update(os.path.relpath(name, root).encode() + b"\0")
        with open(name, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _image_processor(image_size: int):
    """CLIP's image processor with CLIP's settings (not the folder's file, so a folder
    saved without one, or with a stale one, is preprocessed the same way)."""
    try:  # transformers 5 names the PIL implementation apart from the torchvision one
        from transformers import CLIPImageProcessorPil as Processor
    except ImportError:  # transformers 4: the one implementation is PIL / numpy based
        from transformers import CLIPImageProcessor as Processor
    return Processor(size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size})


def _pooled(output):
    # transformers 4 returns the projected features; 5 returns an output whose
    # pooler_output holds them.
    return output if hasattr(output, "norm") else output.pooler_output


class ClipScorer:
    """A CLIP model, its tokenizer and CLIP's preprocessing, loaded once from a folder."""

    def __init__(self, folder: str | Path):
        import torch
        from transformers import AutoTokenizer, CLIPModel

        folder = Path(folder)
        try:
            self.model = CLIPModel.from_pretrained(folder, local_files_only=True).eval().requires_grad_(False)
            self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ClipWeightsError(
                f"CLIP weights {folder}: not a CLIP folder that CLIPModel and its tokenizer load offline "
                f"({str(exc).splitlines()[0]}); set {CLIP_ENV} to a snapshot of openai/clip-vit-base-patch16") from exc
        vision = self.model.config.vision_config
        self.image_size = int(vision.image_size)
        self.processor = _image_processor(self.image_size)
        shape = {k: getattr(vision, k) for k in VIT_B_16}
        self.architecture = ("ViT-B/16" if shape == VIT_B_16 else
                             "not ViT-B/16 (" + ", ".join(f"{k} {v}" for k, v in shape.items()) + ")")
        self._torch = torch

    def pixel_values(self, images: Sequence[np.ndarray]):
        """RGB arrays (H, W, 3), 0..255 -> the network's input: uint8 PIL images go in, so
        the processor's one rescale by 1/255 is the only one."""
        pil = [Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8)) for rgb in images]
        return self.processor(images=pil, return_tensors="pt")["pixel_values"]

    def text_inputs(self, texts: Sequence[str]):
        """Token ids cut at 77 (start and end-of-text tokens included, the end one kept)."""
        return self.tokenizer(list(texts), truncation=True, max_length=MAX_TOKENS, padding=True,
                              return_tensors="pt")

    def scores(self, images: Sequence[np.ndarray], texts: Sequence[str], batch: int = 16) -> np.ndarray:
        """``100 * max(cos, 0)`` for each (image, text) pair."""
        if len(images) != len(texts):
            raise ValueError(f"{len(images)} images but {len(texts)} texts: CLIP scores pairs")
        torch = self._torch
        out = []
        with torch.no_grad():
            for start in range(0, len(images), batch):
                pixels = self.pixel_values(images[start:start + batch])
                tokens = self.text_inputs(texts[start:start + batch])
                img = _pooled(self.model.get_image_features(pixel_values=pixels))
                txt = _pooled(self.model.get_text_features(input_ids=tokens["input_ids"],
                                                           attention_mask=tokens["attention_mask"]))
                cos = torch.nn.functional.cosine_similarity(img.double(), txt.double(), dim=-1)
                out.append((100 * cos.clamp(min=0)).numpy())
        return np.concatenate(out) if out else np.zeros(0)
