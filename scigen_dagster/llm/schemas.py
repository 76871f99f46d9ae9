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


_LETTER_FORMS = (
    # a bare letter, "(C)", "C)", "C.", "**C**", "\\boxed{C}", with an optional "Answer:" lead
    r"^(?:(?:final\s+)?answer\s*[:\-]?\s*)?(?:\*\*|__)?\s*(?:\\boxed\{{\s*)?\(?(?P<l>[{L}])\)?\s*\}}?"
    r"\s*(?:\*\*|__)?\s*[.:)]?$",
    # "C. 12 V" / "C) 12 V" / "C: 12 V": a letter followed by its option text
    r"^(?:\*\*)?\(?(?P<l>[{L}])(?:\*\*)?\s*[.):]\s+\S",
    # "The answer is C.", "the correct choice is (C)", "Option C", "answer: **C**"
    r"(?:answer|choice|option)\s*(?:is|would be|:)?\s*[:\-]?\s*(?:option\s+)?(?:\*\*|__)?\s*\(?"
    r"(?P<l>[{L}])\)?(?:\*\*|__)?\s*(?:[.,;:!)]|$)",
    # "\\boxed{C}" anywhere
    r"\\boxed\{{\s*(?:\\text\{{)?\s*(?P<l>[{L}])\s*\}}",
)


def read_letter(text: str, letters: str = "ABCDE", options: dict[str, str] | None = None) -> str | None:
    """The option letter of an unambiguous reply, or None when the rules cannot tell.

    Read: a bare letter (A-E), bold, boxed, "Answer: C", "The answer is C.", "Option C",
    "C. <text>" (a letter followed by its option text) and "the correct choice is C"; a
    reply whose only content is one option's exact text. Never read: a word that starts
    with a letter ("A careful look..."), or a reply naming two different letters."""
    stripped = (text or "").strip()
    if not stripped:
        return None
    found: set[str] = set()
    lines = [ln.strip() for ln in stripped.splitlines() if ln.strip()]
    candidates = [stripped, lines[-1]] if lines else [stripped]
    for form in _LETTER_FORMS[:2]:
        for cand in candidates:
            m = re.match(form.format(L=letters), cand, re.I if "answer" in form else 0)
            if m:
                found.add(m.group("l").upper())
    if not found:
        for form in _LETTER_FORMS[2:]:
            for m in re.finditer(form.format(L=letters), stripped, re.I):
                letter = m.group("l")
                # "option a" lowercase only counts when it is clearly a letter: uppercase
                if letter.isupper():
                    found.add(letter)
    if not found and options:
        norm = stripped.strip(" .*").lower()
        exact = [k for k, v in options.items() if str(v).strip().lower() == norm]
        if len(exact) == 1:
            found.add(exact[0])
    if len(found) == 1:
        return found.pop()
    return None


def is_abstention(text: str) -> bool:
    return (text or "").strip().strip(".*").strip().upper() in ("NONE", "NONE OF THE ABOVE", "CANNOT TELL")


def parse_letter(text: str, letters: str = "ABCDE") -> str | None:
    """A single option letter by the rule reader; None for an explicit abstention (NONE).
    Raises ValueError (sent back to the model as a re-ask) when the rules cannot tell."""
    if is_abstention(text):
        return None
    letter = read_letter(text, letters)
    if letter is None:
        stripped = (text or "").strip()
        raise ValueError(f"reply must name one option letter of {', '.join(letters)} or NONE, got {stripped[:40]!r}")
    return letter


class GraderVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    letter: Literal["A", "B", "C", "D", "E", "NONE"]


def parse_grader(text: str) -> GraderVerdict:
    return _validated(GraderVerdict, text)


def json_schema(model: type[BaseModel]) -> dict:
    """The JSON schema of a reply model, for response_format."""
    return model.model_json_schema()
