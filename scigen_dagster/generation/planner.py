"""The model planner of ImgCoder: the planner prompt per item, its reply parsed into the
four-part plan and the script."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scigen_dagster import prompts
from scigen_dagster.generation.plan import parse_any_plan, parse_plan_text
from scigen_dagster.generation.protocol import generation_protocol
from scigen_dagster.llm.client import Request

if TYPE_CHECKING:  # the registry imports the generation functions of each kind
    from scigen_dagster.registry import ModelSpec


def llm_plans(pending: dict, spec: ModelSpec, llm) -> dict[str, Any]:
    """Plans from the registry model's planner: one call per item, the reply parsed into
    the four parts and the code; a repair sends the last error back with the item.

    Under the scigenbench protocol the planner sees the problem text only, and a reply is
    never sent back: its first code block runs whatever the plan looks like (a reply with
    no code block fails the item, as the study's runner does)."""
    protocol = generation_protocol(spec)
    prompt = prompts.load(protocol.planner_prompt)
    client = llm.client_with(f"planner:{spec.name}", spec.planner_settings())
    requests = []
    for pid, (item, hint) in pending.items():
        if protocol.planner_sees_requirements:
            repair = (f"Your previous script failed with:\n{hint}\nWrite the whole plan and script again, fixed."
                      if hint else "")
            messages = prompt.messages(image_type=item["image_type"], elements="\n".join(f"- {e}" for e in item["elements"]),
                                       question=item["question"], repair=repair)
        else:
            messages = prompt.messages(question=item["question"])
        requests.append(Request(pid, messages, prompt.sha256))
    results = client.batch(f"planner:{spec.name}", requests, parse_any_plan if protocol.any_plan else parse_plan_text)
    return {r.item_id: (r.value if r.status == "ok" else r) for r in results}
