"""A diffusers model as a Dagster resource: its settings as run configuration.

The pipeline itself (loading once per process, batch-invariant generation, OOM
handling, deterministic PNGs) is :class:`scigen_dagster.generation.diffusers.DiffusionGenerator`;
GPU steps share the ``gpu`` pool so two runs never fight for one card.
"""

from __future__ import annotations

from dagster import ConfigurableResource

from scigen_dagster.engines.tiny_diffusion import TINY_MODEL_ID
from scigen_dagster.generation.diffusers import DiffusionGenerator


class DiffusionResource(ConfigurableResource):
    """Settings of one diffusers text-to-image model (see DiffusionGenerator).

    ``model``: a Hub id, a local folder, or ``builtin:tiny-sd`` (an untrained tiny
    StableDiffusion built under ``cache_dir`` on first use, then loaded via ``from_pretrained``).
    """

    model: str = TINY_MODEL_ID
    cache_dir: str = ".scigen/models"
    device: str = "auto"  # auto -> cuda, mps, cpu
    dtype: str = "auto"  # auto -> fp16 on cuda, fp32 elsewhere; or fp32 / fp16 / bf16
    steps: int = 8
    guidance_scale: float = 5.0
    width: int = 128
    height: int = 128
    batch_size: int = 8
    cpu_offload: bool = False
    attention_slicing: bool = False
    local_files_only: bool = True
    prompt_template: str = "{question}"
    batch_invariant: bool = True  # byte-identical images regardless of batch size

    def generator(self) -> DiffusionGenerator:
        return DiffusionGenerator(**{name: getattr(self, name) for name in type(self).model_fields})
