"""The four kinds of model the graph compares, one object each.

A kind knows everything that differs between them: the function that produces its
figures, the resources that function needs and how they become its arguments, the
Dagster kinds and pool of its image asset, how it is described, and whether it is the
ceiling (the benchmark's own figures: evaluated like any model, never exported, and not
compared with itself). Nothing outside the registry asks which kind a model is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scigen_dagster.generation.diffusers import render_diffusers
from scigen_dagster.generation.image_api import render_image_api
from scigen_dagster.generation.imgcoder import imgcoder_items, render_imgcoder
from scigen_dagster.generation.reference import copy_reference_figures

if TYPE_CHECKING:
    from scigen_dagster.registry import ModelSpec

GPU_POOL = "gpu"  # Dagster pool of the steps that hold a GPU: one such step per card at a time


@dataclass(frozen=True)
class ModelKind:
    name: str
    produce: Callable[..., Any]  # (items, spec, storage, **arguments) -> image table
    dagster_kinds: frozenset[str]
    figures: str  # what the rows of its image table carry, for the asset description
    pool: str | None = None
    is_ceiling: bool = False
    writes_code: bool = False  # plans, scripts, repairs and render times in its table
    fields: tuple[str, ...] = ()  # the registry fields that configure this kind
    # produce's item-level form: one coroutine function per item (same arguments), so a
    # step streams every item of every partition; None: a partition is made at once.
    produce_items: Callable[..., list] | None = None

    def settings(self, spec: ModelSpec) -> dict[str, Any]:
        """The model's registry entry with only the fields of its kind (what the UI shows)."""
        return {"name": spec.name, "kind": self.name, "display_name": spec.label,
                **{f: getattr(spec, f) for f in self.fields}}

    def resource_keys(self, spec: ModelSpec) -> dict[str, str]:
        """``produce``'s arguments -> the resource keys they come from."""
        return {}

    def model_resources(self, spec: ModelSpec) -> dict[str, str]:
        """Resources of this model alone: resource key -> what builds it ("diffusion": the
        model's diffusers settings); shared ones (sandbox, llm) are not listed."""
        return {}

    def arguments(self, spec: ModelSpec, resources: Any) -> dict[str, Any]:
        """``produce``'s arguments from the run's resources (engines, not their configs)."""
        return {arg: getattr(resources, key) for arg, key in self.resource_keys(spec).items()}

    def describe(self, spec: ModelSpec) -> str:
        """One line naming what decides this model's figures (dataset cards, manifests)."""
        raise NotImplementedError

    @property
    def exported(self) -> bool:
        return not self.is_ceiling  # real figures are never training data

    @property
    def has_reference_metrics(self) -> bool:
        return not self.is_ceiling  # real figures compared with themselves would score perfectly


def _protocol(spec: ModelSpec) -> str:
    """The generation protocol in a model's one-line description (once it is resolved)."""
    return f", {spec.protocol} protocol" if spec.protocol else ""


class ImgCoderKind(ModelKind):
    def resource_keys(self, spec: ModelSpec) -> dict[str, str]:
        return {"sandbox": "sandbox", "llm": "llm"}

    def arguments(self, spec: ModelSpec, resources: Any) -> dict[str, Any]:
        return {"sandbox": resources.sandbox.renderer(), "llm": resources.llm}

    def describe(self, spec: ModelSpec) -> str:
        return f"imgcoder, planner {spec.planner}, max_attempts {spec.max_attempts}{_protocol(spec)}"


class DiffusersKind(ModelKind):
    @staticmethod
    def diffusion_key(spec: ModelSpec) -> str:
        return f"diffusion_{spec.name}"

    def resource_keys(self, spec: ModelSpec) -> dict[str, str]:
        return {"diffusion": self.diffusion_key(spec)}

    def model_resources(self, spec: ModelSpec) -> dict[str, str]:
        return {self.diffusion_key(spec): "diffusion"}

    def arguments(self, spec: ModelSpec, resources: Any) -> dict[str, Any]:
        return {"diffusion": getattr(resources, self.diffusion_key(spec)).generator()}

    def describe(self, spec: ModelSpec) -> str:
        return (f"diffusers {spec.model}, {spec.steps} steps, guidance {spec.guidance_scale}, {spec.width}x{spec.height}"
                f"{_protocol(spec)}")


class ImageApiKind(ModelKind):
    def resource_keys(self, spec: ModelSpec) -> dict[str, str]:
        return {"llm": "llm"}

    def describe(self, spec: ModelSpec) -> str:
        return f"image API {spec.model}, size {spec.size}{_protocol(spec)}"


class ReferenceKind(ModelKind):
    def describe(self, spec: ModelSpec) -> str:
        return "the benchmark's reference figures (never exported)"


KINDS: Mapping[str, ModelKind] = {kind.name: kind for kind in (
    ImgCoderKind("imgcoder", render_imgcoder, frozenset({"python", "matplotlib"}),
                 "the four-part plan, the code, attempts and execution log", writes_code=True,
                 produce_items=imgcoder_items,
                 fields=("protocol", "planner", "max_attempts", "api_base", "api_key_env", "temperature", "max_tokens",
                         "reasoning_effort", "thinking_budget", "concurrency", "rpm", "tpm",
                         "input_usd_per_mtok", "output_usd_per_mtok", "batch")),
    DiffusersKind("diffusers", render_diffusers, frozenset({"pytorch", "diffusers"}),
                  "the prompt and the seed", pool=GPU_POOL,
                  fields=("protocol", "model", "steps", "guidance_scale", "width", "height", "batch_size", "device", "dtype",
                          "cpu_offload", "attention_slicing", "prompt_template", "seed")),
    ImageApiKind("image_api", render_image_api, frozenset({"python", "api"}), "the prompt",
                 fields=("protocol", "model", "size", "prompt_template", "api_base", "api_key_env", "concurrency", "rpm", "tpm",
                         "input_usd_per_mtok", "output_usd_per_mtok")),
    ReferenceKind("reference", copy_reference_figures, frozenset({"python"}),
                  "the benchmark's real reference figures, for the ceiling row", is_ceiling=True),
)}
