"""The model planner of ImgCoder: the planner prompt per item, its reply parsed into the
four-part plan and the script."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scigen_dagster import prompts
from scigen_dagster.generation.plan import parse_plan_text
from scigen_dagster.llm.client import Request

if TYPE_CHECKING:  # the registry imports the generation functions of each kind
    from scigen_dagster.registry import ModelSpec


def llm_plans(pending: dict, spec: ModelSpec, llm) -> dict[str, Any]:
    """Plans from the registry model's planner: one call per item, the reply parsed into
    the four parts and the code; a repair sends the last error back with the item."""
    prompt = prompts.load("imgcoder_plan")
    client = llm.client_with(f"planner:{spec.name}", spec.planner_settings())
    requests = []
    for pid, (item, hint) in pending.items():
        repair = (f"Your previous script failed with:\n{hint}\nWrite the whole plan and script again, fixed."
                  if hint else "")
        requests.append(Request(pid, prompt.messages(
            image_type=item["image_type"], elements="\n".join(f"- {e}" for e in item["elements"]),
            question=item["question"], repair=repair), prompt.sha256))
    results = client.batch(f"planner:{spec.name}", requests, parse_plan_text)
    return {r.item_id: (r.value if r.status == "ok" else r) for r in results}
