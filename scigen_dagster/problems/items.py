"""Benchmark items: the problems of one partition with their required visual elements and
multiple-choice quizzes (the source's own, the `quiz_writer` role's, or the rule writer's)."""

from __future__ import annotations

import json

import pandas as pd

from scigen_dagster import taxonomy
from scigen_dagster.problems import quizzes as quiz_writer

ITEM_COLUMNS = [
    "problem_id", "question", "answer", "image_type", "subject", "elements_json",
    "quizzes_json", "quiz_source", "multimodal_question", "reference_image",
]


def items_for_partition(corpus_df: pd.DataFrame, labels: pd.DataFrame, key: str,
                        llm=None) -> pd.DataFrame:
    subject, _ = taxonomy.subject_type_for_key(key)
    ids = labels.loc[labels["partition_key"] == key, "problem_id"]
    part = corpus_df[corpus_df["problem_id"].isin(ids)].sort_values("problem_id")
    written = quiz_writer.llm_quizzes(llm, part) if llm is not None and not llm.is_offline("quiz_writer") else {}
    rows = []
    for r in part.itertuples(index=False):
        elements = json.loads(r.elements_json) or quiz_writer.write_elements(r.question)
        quizzes = json.loads(r.quizzes_json)
        quiz_source = "source"
        if not quizzes and r.problem_id in written:
            quizzes, quiz_source = written[r.problem_id]
        elif not quizzes:
            quizzes = quiz_writer.write_quizzes(r.question, r.problem_id)
            quiz_source = f"offline:{quiz_writer.QUIZ_WRITER_VERSION}" if quizzes else "none"
        rows.append(
            {
                "problem_id": r.problem_id,
                "question": r.question,
                "answer": r.answer,
                "image_type": taxonomy.label_for_key(key),
                "subject": subject,
                "elements_json": json.dumps(elements, ensure_ascii=False),
                "quizzes_json": json.dumps(quizzes, ensure_ascii=False),
                "quiz_source": quiz_source,
                "multimodal_question": r.multimodal_question,
                "reference_image": r.reference_image,
            }
        )
    return pd.DataFrame(rows, columns=ITEM_COLUMNS)
