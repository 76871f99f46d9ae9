"""The model planner of ImgCoder: the planner prompt for one item, its reply parsed into
the four-part plan and the script."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scigen_dagster import prompts
from scigen_dagster.generation.plan import parse_any_plan, parse_plan_text
from scigen_dagster.generation.protocol import generation_protocol
from scigen_dagster.llm.client import Request

if TYPE_CHECKING:  # the registry imports the generation functions of each kind
    from scigen_dagster.registry import ModelSpec


def planner_role(spec: ModelSpec) -> str:
    return f"planner:{spec.name}"


def plan_request(item: dict, hint: str | None, spec: ModelSpec) -> Request:
    """The planner prompt for one item under the model's generation protocol; a repair
    sends the last error back with the item. Under the scigenbench protocol the planner
    sees the problem text only (no required elements, no image type), and a reply is never
    sent back (one attempt)."""
    protocol = generation_protocol(spec)
    prompt = prompts.load(protocol.planner_prompt)
    if protocol.planner_sees_requirements:
        repair = (f"Your previous script failed with:\n{hint}\nWrite the whole plan and script again, fixed."
                  if hint else "")
        messages = prompt.messages(image_type=item["image_type"], elements="\n".join(f"- {e}" for e in item["elements"]),
                                   question=item["question"], repair=repair)
    else:
        messages = prompt.messages(question=item["question"])
    # A first plan may wait for a batch (batch mode); a repair's answer is needed now.
    return Request(item["problem_id"], messages, prompt.sha256, deferrable=not hint)


async def llm_plan(item: dict, hint: str | None, spec: ModelSpec, client) -> Any:
    """The registry model's plan for one item (a FigurePlan), or the failed call's result.
    Under scigenbench a reply's first code block runs whatever the plan looks like (a reply
    with no code block fails the item, as the study's runner does)."""
    parse = parse_any_plan if generation_protocol(spec).any_plan else parse_plan_text
    result = await client.acall(planner_role(spec), plan_request(item, hint, spec), parse)
    return result.value if result.status == "ok" else result
