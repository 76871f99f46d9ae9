"""Structured outputs: one schema per task, and parsers that turn a model's reply into a
validated object or raise ValueError with a message worth sending back to the model."""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from scigen_dagster.taxonomy import LABELS, UNCLASSIFIABLE

Score = Literal[0, 1, 2]


class JudgeScores(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    Correctness_Fidelity: Score
    Layout_Precision: Score
    Readability_Occlusion: Score
    Scientific_Plausibility: Score
    Expressiveness_Richness: Score


class FilterVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep: bool
    reason_category: Literal["keep", "needs_missing_context", "lacks_essential_data", "non_visual_task",
                             "abstract_concept"]
    reason: str = ""


class TypeLabel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str

    @field_validator("label")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in LABELS and value != UNCLASSIFIABLE:
            raise ValueError(f"label {value!r} is not one of the 25 image types or 'unclassifiable'")
        return value


class Quiz(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=3)
    options: dict[Literal["A", "B", "C", "D"], str]
    correct_option: Literal["A", "B", "C", "D"]
    evidence_snippet: str = Field(min_length=1)

    @field_validator("options")
    @classmethod
    def _four_distinct(cls, value: dict[str, str]) -> dict[str, str]:
        if sorted(value) != ["A", "B", "C", "D"] or len(set(value.values())) != 4:
            raise ValueError("options must be four distinct texts under A, B, C, D")
        return value


class QuizSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quizzes: list[Quiz] = Field(min_length=1, max_length=5)


def last_json_object(text: str) -> dict:
    """The last top-level JSON object in a reply (fenced or bare), after any reasoning."""
    decoder = json.JSONDecoder()
    found: list[dict] = []
    pos = 0
    while (start := text.find("{", pos)) != -1:
        try:
            obj, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            pos = start + 1
            continue
        if isinstance(obj, dict):
            found.append(obj)
        pos = end  # skip the inside of an object already read, so nested dicts never win
    if not found:
        raise ValueError("no JSON object found in the reply")
    return found[-1]


def _validated(model: type[BaseModel], text: str):
    try:
        return model.model_validate(last_json_object(text))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "reply"
        raise ValueError(f"{where}: {first['msg']}") from None


def parse_judge(text: str) -> JudgeScores:
    return _validated(JudgeScores, text)


def parse_filter(text: str) -> FilterVerdict:
    return _validated(FilterVerdict, text)


def parse_label(text: str) -> TypeLabel:
    return _validated(TypeLabel, text)


def quiz_parser(problem: str):
    """A parser that also checks every evidence snippet is quoted from ``problem``."""

    def parse(text: str) -> QuizSet:
        quizzes = _validated(QuizSet, text)
        for i, quiz in enumerate(quizzes.quizzes):
            if quiz.evidence_snippet not in problem:
                raise ValueError(f"quizzes.{i}.evidence_snippet is not an exact quote of the problem")
        return quizzes

    return parse


def parse_letter(text: str, letters: str = "ABCD") -> str | None:
    """A single option letter; None for an explicit abstention (NONE)."""
    stripped = text.strip().strip(".").strip()
    if stripped.upper() == "NONE":
        return None
    m = re.fullmatch(rf"\(?([{letters}])\)?", stripped, re.I) or re.match(rf"^(?:answer\s*[:\-]?\s*)?\(?([{letters}])\)?[\s.:)]", stripped + " ", re.I)
    if not m:
        raise ValueError(f"reply must be one letter of {', '.join(letters)} or NONE, got {stripped[:40]!r}")
    return m.group(1).upper()
