"""The image table every model writes: its columns, and the row an item starts from."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the registry imports the generation functions of each kind
    from scigen_dagster.registry import ModelSpec


IMAGE_COLUMNS = [
    "problem_id", "model", "status", "reason", "image_sha256", "image_path", "width", "height",
    "attempts", "plan_json", "code", "exec_log", "render_seconds", "text_labels_json",
    "overlapping_text_pairs", "prompt", "seed", "note", "answer_leak", "leak_terms", "protocol",
]


def item_dict(row: Any) -> dict[str, Any]:
    return {
        "problem_id": row.problem_id,
        "question": row.question,
        "answer": row.answer,
        "image_type": row.image_type,
        "elements": json.loads(row.elements_json),
        "quizzes": json.loads(row.quizzes_json),
    }


def base_row(problem_id: str, spec: ModelSpec) -> dict[str, Any]:
    return {c: None for c in IMAGE_COLUMNS} | {
        "problem_id": problem_id, "model": spec.name, "reason": "", "attempts": 0,
        "plan_json": "", "code": "", "exec_log": "", "text_labels_json": "[]",
        "overlapping_text_pairs": None, "prompt": "", "note": "",
        "protocol": spec.protocol or None,  # the generation protocol (resolved by generation.protocol.apply)
    }
