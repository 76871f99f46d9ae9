"""The visualizability filter: transparent rules, each with a reason category, and the
model path (the `filter` role) for the problems the rules do not settle.

A problem is worth drawing when its setting can be shown in one figure from the text
alone. The study's filter drops four kinds of problem; these rules catch the clear cases
of each and keep everything else (a false keep costs one figure, a false drop loses a
problem silently, so the rules err on keeping).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from scigen_dagster import prompts
from scigen_dagster.llm import schemas
from scigen_dagster.llm.client import Request

FILTER_VERSION = "rules-v1"

KEEP = "keep"
NEEDS_CONTEXT = "needs_missing_context"
LACKS_DATA = "lacks_essential_data"
NON_VISUAL_TASK = "non_visual_task"
ABSTRACT = "abstract_concept"
PASS_THROUGH = "benchmark_item"
REASON_CATEGORIES = (KEEP, PASS_THROUGH, NEEDS_CONTEXT, LACKS_DATA, NON_VISUAL_TASK, ABSTRACT)

_MISSING_CONTEXT = re.compile(
    r"\b(the (figure|diagram|graph|table|image|picture) (above|below|shown)|"
    r"(shown|given|depicted) (in|on) the (figure|diagram|graph|image|table|picture)|"
    r"(refer|according) to the (figure|diagram|passage|table)|see (the )?(figure|fig\.)|"
    r"in the previous (problem|question|part)|from part \(?[a-d]\)?)",
    re.I,
)
_NON_VISUAL = re.compile(
    r"\b(prove that|show that|write (a|an) (program|function|code|essay|proof)|"
    r"(python|java|c\+\+) (code|program|function)|implement (a|an|the) (function|algorithm)|"
    r"translate the following|summari[sz]e the|define the term)\b",
    re.I,
)
_ABSTRACT = re.compile(
    r"^\s*(what is (meant by|the (definition|significance|importance|history))|why do (scientists|we)|"
    r"discuss|explain (the concept|why|what)|describe the (role|importance|history)|"
    r"what are the (advantages|disadvantages|benefits|ethical))",
    re.I,
)
_CONCRETE = re.compile(r"\d|[A-Z]{1,2}\d?\b|[=<>°Ω]|\b(triangle|circle|circuit|lens|block|cell|graph|molecule)\b")


@dataclass(frozen=True)
class FilterDecision:
    keep: bool
    reason_category: str
    reason: str


def decide(question: str, *, has_type: bool = False, has_quizzes: bool = False) -> FilterDecision:
    """Keep or drop one problem, with a reason a person can check."""
    if has_type and has_quizzes:
        return FilterDecision(True, PASS_THROUGH, "benchmark item with image type and quizzes")
    if has_quizzes:
        # Curated quizzes test a figure; a benchmark item without a type is still drawable.
        return FilterDecision(True, PASS_THROUGH, "benchmark item with quizzes")
    text = question.strip()
    if m := _NON_VISUAL.search(text):
        return FilterDecision(False, NON_VISUAL_TASK, f"asks for a non-visual task: {m.group(0)!r}")
    if m := _MISSING_CONTEXT.search(text):
        return FilterDecision(False, NEEDS_CONTEXT, f"refers to context the text lacks: {m.group(0)!r}")
    if m := _ABSTRACT.search(text):
        return FilterDecision(False, ABSTRACT, f"asks about an abstract concept: {m.group(0).strip()!r}")
    if len(text.split()) < 8 or not _CONCRETE.search(text):
        return FilterDecision(False, LACKS_DATA, "too short or no concrete entity or value to draw")
    return FilterDecision(True, KEEP, "describes a concrete setting")


def filter_table(corpus_df: pd.DataFrame, llm=None) -> pd.DataFrame:
    decisions = [
        decide(q, has_type=bool(t), has_quizzes=qz != "[]")
        for q, t, qz in zip(corpus_df["question"], corpus_df["image_type"], corpus_df["quizzes_json"])
    ]
    version = FILTER_VERSION
    if llm is not None and not llm.is_offline("filter"):
        prompt = prompts.load("visual_filter")
        version = f"{llm.model_id('filter')}|{prompt.ref}"
        todo = [i for i, d in enumerate(decisions) if d.reason_category != PASS_THROUGH]
        requests = [Request(corpus_df["problem_id"].iat[i], prompt.messages(question=corpus_df["question"].iat[i]),
                            prompt.sha256) for i in todo]
        for i, r in zip(todo, llm.client().batch("filter", requests, schemas.parse_filter,
                                                     schema=schemas.json_schema(schemas.FilterVerdict))):
            # A failed call keeps the problem: losing a valid problem silently is worse
            # than drawing one figure too many, and the reason says what happened.
            decisions[i] = (FilterDecision(r.value.keep, r.value.reason_category, r.value.reason)
                            if r.status == "ok" else
                            FilterDecision(True, "unfiltered", f"filter call {r.status}: {r.reason}"))
    return pd.DataFrame(
        {
            "problem_id": corpus_df["problem_id"].to_numpy(),
            "keep": [d.keep for d in decisions],
            "reason_category": [d.reason_category for d in decisions],
            "reason": [d.reason for d in decisions],
            "filter_version": version,
        }
    )
