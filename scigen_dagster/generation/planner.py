"""The model planner of ImgCoder: the planner prompt for one item, its reply parsed into
the four-part plan and the script."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scigen_dagster import prompts
from scigen_dagster.generation.plan import parse_plan_text
from scigen_dagster.llm.client import Request

if TYPE_CHECKING:  # the registry imports the generation functions of each kind
    from scigen_dagster.registry import ModelSpec


def planner_role(spec: ModelSpec) -> str:
    return f"planner:{spec.name}"


def plan_request(item: dict, hint: str | None) -> Request:
    """The planner prompt for one item; a repair sends the last error back with it."""
    prompt = prompts.load("imgcoder_plan")
    repair = (f"Your previous script failed with:\n{hint}\nWrite the whole plan and script again, fixed."
              if hint else "")
    # A first plan may wait for a batch (batch mode); a repair's answer is needed now.
    return Request(item["problem_id"], prompt.messages(
        image_type=item["image_type"], elements="\n".join(f"- {e}" for e in item["elements"]),
        question=item["question"], repair=repair), prompt.sha256, deferrable=not hint)


async def llm_plan(item: dict, hint: str | None, spec: ModelSpec, client) -> Any:
    """The registry model's plan for one item (a FigurePlan), or the failed call's result."""
    result = await client.acall(planner_role(spec), plan_request(item, hint), parse_plan_text)
    return result.value if result.status == "ok" else result
