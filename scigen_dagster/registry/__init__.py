"""The model registry: which models the graph compares, read from a YAML file."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:
    from scigen_dagster.registry.kinds import ModelKind

REGISTRY_ENV = "SCIGEN_MODELS"
RESERVED_NAMES = {"hybrid": "the hybrid fine-tuning export (best model per image type)"}


class RegistryError(ValueError):
    pass


class ModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["imgcoder", "diffusers", "image_api", "reference"]
    display_name: str = ""
    enabled: bool = True
    # "strict" or "scigenbench": the protocol this model's figures are made under (the
    # planner's prompt and attempts, the pixel prompt); empty: $SCIGEN_GENERATION_PROTOCOL,
    # else $SCIGEN_PROTOCOL, else strict (generation/protocol.py)
    protocol: Literal["", "strict", "scigenbench"] = ""
    # imgcoder: "offline:rules" or a litellm model id for the planner
    planner: str = "offline:rules"
    max_attempts: int = Field(default=2, ge=1, le=5)
    api_base: str | None = None
    api_key_env: str | None = None  # the NAME of the environment variable holding the key
    temperature: float | None = 0.0  # None: the provider's default (left unsent)
    max_tokens: int = Field(default=4096, ge=64)
    # the planner's thinking (see llm.client.request_params) and prices for a model the
    # price map lacks (dollars per million tokens); rpm / tpm limit the planner's calls
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high"] | None = None
    thinking_budget: int | None = Field(default=None, ge=0)
    input_usd_per_mtok: float | None = None
    output_usd_per_mtok: float | None = None
    rpm: float | None = None
    tpm: float | None = None
    # imgcoder: the planner's first attempts through the provider's batch API (llm.batch);
    # repairs need their answer now and stay interactive
    batch: bool = False
    # diffusers
    model: str = "builtin:tiny-sd"
    steps: int = Field(default=8, ge=1)
    guidance_scale: float = 5.0
    width: int = Field(default=128, ge=16)
    height: int = Field(default=128, ge=16)
    batch_size: int = Field(default=8, ge=1)
    device: str = "auto"
    dtype: str = "auto"
    cpu_offload: bool = False
    attention_slicing: bool = False
    prompt_template: str = "{question}"
    seed: int = 0
    # image_api: `model` is a litellm image model id (openai/gpt-image-1, gemini/..., ...)
    size: str = "1024x1024"
    concurrency: int = Field(default=4, ge=1)

    @property
    def label(self) -> str:
        return self.display_name or self.name

    @property
    def model_kind(self) -> ModelKind:
        """The object that knows how this kind of model makes and shows its figures."""
        from scigen_dagster.registry.kinds import KINDS

        return KINDS[self.kind]

    def config_for_fingerprint(self) -> dict[str, Any]:
        """What decides this model's figures: its kind's fields (not how it is shown, where
        its key is read from, nor its rate limits and prices)."""
        settings = self.model_kind.settings(self)
        out = {k: v for k, v in settings.items() if k not in {
            "display_name", "api_base", "api_key_env", "rpm", "tpm", "input_usd_per_mtok", "output_usd_per_mtok",
            "batch"}}
        for name in ("reasoning_effort", "thinking_budget"):  # unset: the fingerprint of before they existed
            if out.get(name) is None:
                out.pop(name, None)
        return out

    def planner_settings(self):
        """Role settings of this model's planner; the key is read from the environment."""
        return self._api_settings(self.planner)

    def image_api_settings(self):
        return self._api_settings(self.model)

    def _api_settings(self, model: str):
        from scigen_dagster.llm.client import RoleSettings

        key = None
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise RegistryError(
                    f"model {self.name!r}: environment variable {self.api_key_env} (api_key_env) is not set")
        return RoleSettings(model=model, api_base=self.api_base, api_key=key, temperature=self.temperature,
                            max_tokens=self.max_tokens, concurrency=self.concurrency,
                            reasoning_effort=self.reasoning_effort, thinking_budget=self.thinking_budget,
                            input_usd_per_mtok=self.input_usd_per_mtok, output_usd_per_mtok=self.output_usd_per_mtok,
                            rpm=self.rpm, tpm=self.tpm, env_prefix=f"the registry entry {self.name}: ",
                            batch=self.batch)


def registry_path() -> Path | None:
    value = os.environ.get(REGISTRY_ENV)
    return Path(value) if value else None


def load_registry(path: str | Path | None = None) -> list[ModelSpec]:
    """The enabled models of the registry at ``path`` ($SCIGEN_MODELS, else the default)."""
    path = path or registry_path()
    if path is None:
        text = (resources.files("scigen_dagster") / "registry" / "models.yaml").read_text()
        where = "the default registry"
    else:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise RegistryError(f"cannot read model registry {path}: {exc}; check ${REGISTRY_ENV}") from exc
        where = str(path)
    raw = yaml.safe_load(text) or {}
    entries = raw.get("models")
    if not isinstance(entries, dict) or not entries:
        raise RegistryError(f"{where}: expected a non-empty mapping `models: {{<name>: {{kind: ...}}}}`")
    specs = []
    for name, body in entries.items():
        if name in RESERVED_NAMES:
            raise RegistryError(f"{where}: the model name {name!r} is reserved for {RESERVED_NAMES[name]}; rename it")
        try:
            specs.append(ModelSpec(name=name, **(body or {})))
        except ValidationError as exc:
            raise RegistryError(f"{where}: model {name!r} is invalid:\n{exc}") from exc
    return [s for s in specs if s.enabled]
