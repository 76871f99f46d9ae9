"""What the evaluation protocol decides: what the judge and the answerer are sent, at which
temperature, with which prompt, and how their replies count.

``strict`` (ours) shuffles the options with a seed fixed per quiz (the released answer keys
lean towards C and B), lets the answerer abstain, runs a blind control, and counts a failed
or missing figure as not faithful. ``scigenbench`` makes every choice the study's way
(SciGenBench: src/eval/llm_as_judge.py, quiz.py, quiz_seephys.py, ve_infer.py, run.py): the
study's rubric, options in stored order, no abstention, a grading step by the answerer's
own model, the full-question check for scigen items, and the study's denominators
(:mod:`scigen_dagster.evaluation.scores`). The run's protocol comes from the llm
resource's ``protocol`` (the launchpad), else ``SCIGEN_PROTOCOL``, else strict.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from scigen_dagster import prompts
from scigen_dagster.generation.protocol import PROTOCOLS, SCIGENBENCH, STRICT, protocol_name

__all__ = ["PROTOCOLS", "SCIGENBENCH", "STRICT", "EvaluationProtocol", "evaluation_protocol", "split_of"]


@dataclass(frozen=True)
class EvaluationProtocol:
    name: str
    judge_prompt: str
    judge_temperature: float | None  # None: the judge role's own
    judge_image_max_side: int | None  # None: the figure at full resolution
    judge_fenced_json: bool  # only a fenced ```json block is read, a missing key is 0, no response_format
    answer_prompt: str
    shuffle_options: bool  # False: options in stored order
    abstention: bool  # the answerer may reply NONE
    blind_control: bool  # every quiz also asked with no image
    answerer_temperature: float | None  # None: the answerer role's own
    grade_every_reply: bool  # a text-only grading call decides each quiz (else the rule reader, then the grader role)
    full_question: bool  # scigen items' multimodal_question answered from the figure and graded
    study_denominators: bool  # never-rendered and failed-call images left out (scores.py)
    option_separator: str  # "A. text" (ours) or "A: text" (the study's)
    rgb_images: bool  # figures flattened to RGB before they are sent (the study's scripts)
    answer_jpeg_quality: int | None  # the answerer's figure as JPEG of this quality (the study's), else PNG


EVALUATION = {
    STRICT: EvaluationProtocol(
        STRICT, judge_prompt="judge", judge_temperature=None, judge_image_max_side=1024, judge_fenced_json=False,
        answer_prompt="answer_from_image", shuffle_options=True, abstention=True, blind_control=True,
        answerer_temperature=None, grade_every_reply=False, full_question=False, study_denominators=False,
        option_separator=". ", rgb_images=False, answer_jpeg_quality=None),
    SCIGENBENCH: EvaluationProtocol(
        SCIGENBENCH, judge_prompt="judge_scigenbench", judge_temperature=0.1, judge_image_max_side=None,
        judge_fenced_json=True, answer_prompt="answer_scigenbench", shuffle_options=False, abstention=False,
        blind_control=False, answerer_temperature=0.0, grade_every_reply=True, full_question=True,
        study_denominators=True, option_separator=": ", rgb_images=True, answer_jpeg_quality=95),
}

# The prompts of the scigenbench answer path besides the answer prompt itself.
GRADE_PROMPT = "grade_scigenbench"
FULL_QUESTION_PROMPT = "full_question_scigenbench"
FULL_QUESTION_GRADE_PROMPT = "grade_full_question_scigenbench"


def evaluation_protocol(llm: Any) -> EvaluationProtocol:
    """The run's evaluation protocol: the llm resource's ``protocol``, else $SCIGEN_PROTOCOL."""
    return EVALUATION[protocol_name(getattr(llm, "protocol", None) or None)]


def settings(protocol: EvaluationProtocol, *prompt_names: str) -> dict[str, Any]:
    """What identifies the protocol in a fingerprint: its choices and its prompts' hashes."""
    return dataclasses.asdict(protocol) | {"prompts": {n: prompts.load(n).sha256 for n in prompt_names}}


# What separates a SciGenBench item's subset from its id in the corpus (sources.py:
# "<source>:scigen-<id>", "<source>:seephys-<id>").
SPLITS = ("scigen", "seephys")
OTHER_SPLIT = "corpus"  # items of any other source (the sample corpus, JSONL / Parquet files)


def split_of(problem_id: str) -> str:
    """The study's subset an item belongs to: scigen, seephys, or corpus for other sources.
    The study reports scigen and seephys apart; so do both protocols here."""
    local = str(problem_id).split(":", 1)[-1]
    head = local.split("-", 1)[0]
    return head if head in SPLITS and "-" in local else OTHER_SPLIT


_KEEP = object()  # keep the base role's temperature


def client_role(llm: Any, protocol: EvaluationProtocol, role: str, *, base: str | None = None,
                temperature: Any = _KEEP) -> str:
    """The client role a call is made under. Ours uses the llm resource's roles as they are;
    another protocol gets its own role (``answerer@scigenbench``) with the base role's model
    and endpoint at the protocol's temperature (``None``: the provider's default, left
    unsent), so the ledger shows each protocol's calls and cost apart."""
    if protocol.name == STRICT:
        return role
    name = f"{role}@{protocol.name}"
    source = llm.client().settings(base or role)
    if temperature is not _KEEP:
        source = dataclasses.replace(source, temperature=temperature)
    llm.client_with(name, source)
    return name


def call_usage(llm: Any, *calls: tuple[str, Any]) -> dict[str, Any]:
    """What the calls behind one row took, ``calls`` being (client role, CallResult or
    None) pairs: calls, tokens and dollars at each role's price, paid now or served from
    the cache alike (so a protocol's cost does not depend on what happened to be cached);
    the cost is None when a model has no price."""
    from scigen_dagster.llm.client import role_prices

    out: dict[str, Any] = {"llm_calls": 0, "llm_tokens": 0, "llm_cost_usd": 0.0}
    for role, result in calls:
        if result is None:
            continue
        prices = role_prices(llm.client().settings(role))
        pt, ct = result.reply_prompt_tokens, result.reply_completion_tokens
        out["llm_calls"] += 1
        out["llm_tokens"] += pt + ct
        out["llm_cost_usd"] = (None if prices is None or out["llm_cost_usd"] is None
                               else round(out["llm_cost_usd"] + pt * prices[0] + ct * prices[1], 8))
    return out
