"""The training formats: VeRL's multimodal RL rows and HF-datasets-compatible rows."""

from __future__ import annotations

import json

import pandas as pd


def _prompt_text(row) -> str:
    return (row.multimodal_question or row.question).strip()


def verl_rows(chosen: pd.DataFrame, storage, data_source: str) -> pd.DataFrame:
    """VeRL's multimodal RL format: the image placeholder precedes the question; each row
    names the model that made its figure (a hybrid set mixes several)."""
    rows = []
    for i, r in enumerate(chosen.itertuples(index=False)):
        rows.append({
            "data_source": data_source,
            "prompt": [{"role": "user", "content": "<image>" + _prompt_text(r)}],
            "images": [{"bytes": storage.read_bytes(r.image_path), "path": r.image_path}],
            "ability": r.subject.lower(),
            "reward_model": {"style": "rule", "ground_truth": r.answer},
            "extra_info": {"index": i, "problem_id": r.problem_id, "image_type": r.image_type, "model": r.model,
                           "image_sha256": r.image_sha256, "verified_by": r.verified_by, "split": "train"},
        })
    return pd.DataFrame(rows, columns=["data_source", "prompt", "images", "ability", "reward_model", "extra_info"])


_STRING = {"dtype": "string", "_type": "Value"}
# How `datasets` should read the HF file's columns: the image decodes as an Image.
HF_FEATURES = {"problem_id": _STRING, "image": {"_type": "Image"}, "question": _STRING, "answer": _STRING,
               "subject": _STRING, "image_type": _STRING, "model": _STRING,
               "elements": {"feature": _STRING, "_type": "List"}}


def hf_schema_metadata() -> dict[bytes, bytes]:
    """The Parquet schema entry `datasets` reads its features from."""
    return {b"huggingface": json.dumps({"info": {"features": HF_FEATURES}}).encode()}


def hf_rows(chosen: pd.DataFrame, storage) -> pd.DataFrame:
    """Columns that `datasets` reads as (Image, string...) features."""
    rows = [{
        "problem_id": r.problem_id, "image": {"bytes": storage.read_bytes(r.image_path), "path": r.image_path},
        "question": _prompt_text(r), "answer": r.answer, "subject": r.subject, "image_type": r.image_type,
        "model": r.model, "verified_by": r.verified_by, "elements": json.loads(r.elements_json),
    } for r in chosen.itertuples(index=False)]
    return pd.DataFrame(rows, columns=["problem_id", "image", "question", "answer", "subject", "image_type",
                                       "model", "verified_by", "elements"])
