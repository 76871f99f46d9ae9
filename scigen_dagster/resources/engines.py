"""The shared engines as resources: the zero-shot taxonomy classifier and the OCR reader.

Configuration only; the engines live in :mod:`scigen_dagster.engines`. Heavy models load
lazily, once per process, so a run that reuses every stored table never loads them.
"""

from __future__ import annotations

import dagster as dg

from scigen_dagster.engines.classifier import DEFAULT_MAX_SEQ_LENGTH, TaxonomyClassifier
from scigen_dagster.engines.ocr import OcrReader


class TaxonomyClassifierResource(dg.ConfigurableResource):
    """Image-type classifier on a sentence-embedding model shipped in a pip package
    (all-MiniLM-L6-v2): zero-shot, or calibrated on the labelled items of a labelled source.
    ``model_path`` points at another local model."""

    model_path: str = ""
    min_score: float = 0.12
    batch_size: int = 64
    # "auto" runs bf16 where the CPU has it (3-4x faster); a handful of near-tie items can
    # flip against fp32, so the precision is part of the version stored with every label.
    dtype: str = "auto"
    # Word pieces read per problem: 256 reads the tables and data at the end of long
    # problems (+0.01 type and subject top-1 calibrated, +0.02 zero-shot on the dev split);
    # 128 labels about 1.2-1.7x faster. Part of the version stored with every label.
    max_seq_length: int = DEFAULT_MAX_SEQ_LENGTH

    def classifier(self) -> TaxonomyClassifier:
        return TaxonomyClassifier(self.model_path, self.min_score, self.batch_size, self.dtype,
                                  self.max_seq_length)


class OcrResource(dg.ConfigurableResource):
    """OCR of figures (rapidocr, models shipped in the package), cached by figure content."""

    # One single-threaded onnxruntime session per worker: measured here, two of those
    # read twice as many figures per second as one session with two intra-op threads.
    workers: int = 2

    def reader(self) -> OcrReader:
        return OcrReader(self.workers)
