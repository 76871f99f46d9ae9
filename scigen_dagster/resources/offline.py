"""The embedded-default model backends as resources: the zero-shot taxonomy classifier
and the OCR reader / answerer. Heavy models load lazily, once per process, so a run
that reuses every stored table never loads them."""

from __future__ import annotations

import functools
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any

import dagster as dg

from .. import taxonomy
from .storage import StorageResource


class TaxonomyClassifierResource(dg.ConfigurableResource):
    """Zero-shot image-type classifier on a sentence-embedding model shipped in a pip
    package (all-MiniLM-L6-v2). ``model_path`` points at another local model."""

    model_path: str = ""
    min_score: float = 0.12
    batch_size: int = 64
    # "auto" runs bf16 where the CPU has it (3-4x faster); a handful of near-tie items can
    # flip against fp32, so the precision is part of the version stored with every label.
    dtype: str = "auto"

    def _classifier(self):
        return _shared_classifier(self.model_path or None, self.min_score, self.dtype)

    def version(self) -> str:
        from ..offline.classifier import description_embeddings_hash, resolve_dtype

        digest = description_embeddings_hash(model_path=self.model_path or None)[:16]
        return f"minilm-zero-shot:{digest}:min{self.min_score}:{resolve_dtype(self.dtype, 'cpu')}"

    def classify(self, texts: list[str], subject_hints: list[str] | None = None):
        """Predictions for ``texts``; a subject hint restricts the candidates to the types
        of that subject (SeePhys items are all physics, whatever their wording)."""
        allowed = [
            [t.label for t in taxonomy.IMAGE_TYPES if t.subject == hint] if hint else None
            for hint in (subject_hints or [None] * len(texts))
        ]
        return self._classifier().classify(texts, batch_size=self.batch_size, allowed=allowed)


@functools.lru_cache(maxsize=4)
def _shared_classifier(model_path: str | None, min_score: float, dtype: str):
    """One classifier (and one model load) per process and configuration."""
    from ..offline.classifier import EmbeddingTypeClassifier

    return EmbeddingTypeClassifier(model_path=model_path, min_score=min_score, dtype=dtype)


_ocr_local = threading.local()


def thread_ocr_engine():
    """An OCR engine per thread (an engine serialises its calls)."""
    engine = getattr(_ocr_local, "engine", None)
    if engine is None:
        import logging

        from ..offline.ocr import OcrEngine

        logging.getLogger("RapidOCR").setLevel(logging.ERROR)  # "no text found" is an answer, not a warning
        engine = _ocr_local.engine = OcrEngine(threads=1)
    return engine


OCR_VERSION = "rapidocr-v1"


class OcrResource(dg.ConfigurableResource):
    """OCR of figures (rapidocr, models shipped in the package) with a content-addressed
    cache: a figure is read once, whichever asset or run asks first."""

    # One single-threaded onnxruntime session per worker: measured here, two of those
    # read twice as many figures per second as one session with two intra-op threads.
    workers: int = 2

    @staticmethod
    def _cache_rel(image_sha: str) -> str:
        return f"cache/ocr/{OCR_VERSION}/{image_sha[:2]}/{image_sha}.json"

    def tokens(self, storage: StorageResource, image_sha: str, image_rel: str) -> list[Any]:
        from ..offline.ocr import OcrToken

        cache = self._cache_rel(image_sha)
        if storage.exists(cache):
            return [OcrToken(t["text"], t["score"], tuple(map(tuple, t["box"]))) for t in storage.read_json(cache)]
        tokens = thread_ocr_engine().read(storage.read_bytes(image_rel))
        storage.write_json(cache, [asdict(t) for t in tokens])
        return tokens

    def prefetch(self, storage: StorageResource, images: list[tuple[str, str]]) -> int:
        """OCR every (sha, path) not yet cached, ``workers`` at a time; returns how many."""
        todo = sorted({(sha, rel) for sha, rel in images if not storage.exists(self._cache_rel(sha))})
        if todo:
            with ThreadPoolExecutor(max_workers=max(1, self.workers)) as pool:
                list(pool.map(lambda pair: self.tokens(storage, *pair), todo))
        return len(todo)

    def answer(self, tokens: list[Any], question: str, options: dict[str, str]) -> tuple[str | None, str]:
        from ..offline.ocr import OcrAnswerer

        result = OcrAnswerer().answer(tokens, question, options)
        return result.letter, result.evidence

    @staticmethod
    def texts(tokens: list[Any]) -> list[str]:
        return [t.text for t in tokens]

    def describe(self) -> str:
        return json.dumps({"answerer": "offline:ocr-match", "ocr": OCR_VERSION})
