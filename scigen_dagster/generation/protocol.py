"""The protocol a figure is made and judged under, and what it decides at generation.

Two protocols: ``strict`` (ours) and ``scigenbench`` (every choice the study made, so a
number is comparable with its paper). A run picks one with ``SCIGEN_PROTOCOL`` (or the llm
resource's ``protocol`` in the launchpad, for the evaluation). Generation choices (the
planner's prompt, its attempts and temperature, the pixel models' prompt) are generation
settings: they live on the registry entry (``protocol:``, else ``SCIGEN_GENERATION_PROTOCOL``,
else ``SCIGEN_PROTOCOL``) and enter the images' fingerprint, while evaluation choices never
do, so one set of figures can be evaluated under both protocols without being redrawn.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scigen_dagster import prompts

if TYPE_CHECKING:  # the registry imports the generation functions of each kind
    from scigen_dagster.registry import ModelSpec

STRICT, SCIGENBENCH = "strict", "scigenbench"
PROTOCOLS = (STRICT, SCIGENBENCH)
PROTOCOL_ENV = "SCIGEN_PROTOCOL"
GENERATION_PROTOCOL_ENV = "SCIGEN_GENERATION_PROTOCOL"


def protocol_name(value: str | None = None, env: tuple[str, ...] = (PROTOCOL_ENV,)) -> str:
    """``value``, else the first of ``env`` that is set, else ``strict``; anything else is an
    error naming where it came from and the choices."""
    where = "the protocol setting"
    if not value:
        for name in env:
            if os.environ.get(name, "").strip():
                value, where = os.environ[name], name
                break
    name = (value or STRICT).strip().lower()
    if name not in PROTOCOLS:
        raise ValueError(f"{where} = {value!r}: expected one of {', '.join(PROTOCOLS)} "
                         f"(scigenbench: the study's choices; strict: ours)")
    return name


@dataclass(frozen=True)
class GenerationProtocol:
    name: str
    planner_prompt: str  # the prompt file of a model planner
    planner_sees_requirements: bool  # the item's image type and required elements go to the planner
    max_attempts: int | None  # None: the registry entry's (a failed script is repaired)
    provider_default_temperature: bool  # the planner's temperature is left unsent
    pixel_prompt: str | None  # the prompt file that wraps the problem for pixel models; None: the entry's
    any_plan: bool  # the first code block is run whatever the plan around it looks like


GENERATION = {
    STRICT: GenerationProtocol(STRICT, "imgcoder_plan", True, None, False, None, False),
    # The study: the problem text only, run once, the provider's temperature, the runner
    # takes the first fenced block (src/infer/scigen/*-imgcoder.py, prompts.py).
    SCIGENBENCH: GenerationProtocol(SCIGENBENCH, "imgcoder_plan_scigenbench", False, 1, True,
                                    "illustrator_scigenbench", True),
}


def generation_protocol(spec: ModelSpec) -> GenerationProtocol:
    """The protocol a model's figures are made under: its entry's, else the environment's."""
    return GENERATION[protocol_name(spec.protocol, (GENERATION_PROTOCOL_ENV, PROTOCOL_ENV))]


def pixel_template(protocol: GenerationProtocol) -> str | None:
    """The prompt template (with ``{question}``) the protocol gives pixel models, if any."""
    return prompts.load(protocol.pixel_prompt).user if protocol.pixel_prompt else None


def apply(spec: ModelSpec) -> ModelSpec:
    """The registry entry with its protocol's generation choices made concrete, so the
    figures' fingerprint, the model's metadata and its resources all see them. Applying it
    twice gives the same entry."""
    protocol = generation_protocol(spec)
    update: dict = {"protocol": protocol.name}
    if protocol.max_attempts is not None:
        update["max_attempts"] = protocol.max_attempts
    if protocol.provider_default_temperature:
        update["temperature"] = None
    if "prompt_template" in spec.model_kind.fields and (template := pixel_template(protocol)):
        update["prompt_template"] = template
    return spec.model_copy(update=update)
