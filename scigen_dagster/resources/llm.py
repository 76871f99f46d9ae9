"""Model access for every text and vision step, one role per step, through litellm.

A role whose model is ``offline`` uses the embedded backend of that step (rules, the
MiniLM classifier, OCR); any other value is a litellm model id ("gemini/gemini-3-flash",
"openai/gpt-4o", "hosted_vllm/Qwen3-VL" with an ``api_base``...). Keys come only from
environment variables, named per role and resolved by Dagster's EnvVar, so they never
appear in run config, logs, metadata, the cache or exports.
"""

from __future__ import annotations

import os
from typing import Optional

import dagster as dg
from pydantic import PrivateAttr

from scigen_dagster.llm.cache import ResponseCache
from scigen_dagster.llm.client import LLMClient, RoleSettings

OFFLINE = "offline"
ROLES = ("filter", "classifier", "quiz_writer", "planner", "judge", "answerer", "grader")


class RoleConfig(dg.Config):
    model: str = OFFLINE
    api_base: Optional[str] = None
    api_key: Optional[str] = None  # set it with dg.EnvVar("..."), never a literal
    temperature: float = 0.0
    max_tokens: int = 1024
    timeout_s: float = 60.0
    concurrency: int = 8
    rpm: Optional[float] = None
    tpm: Optional[float] = None
    max_retries: int = 4
    schema_retries: int = 2

    def settings(self) -> RoleSettings:
        # RoleSettings has every field of RoleConfig (plus client-side ones with defaults).
        return RoleSettings(**{name: getattr(self, name) for name in type(self).model_fields})


class LLMResource(dg.ConfigurableResource):
    """Per-role model settings, the response cache and the budget of a run."""

    judge: RoleConfig = RoleConfig(temperature=0.1)  # the study's judge runs at 0.1
    answerer: RoleConfig = RoleConfig(max_tokens=8)
    planner: RoleConfig = RoleConfig(max_tokens=4096)
    filter: RoleConfig = RoleConfig()
    classifier: RoleConfig = RoleConfig()
    quiz_writer: RoleConfig = RoleConfig()
    grader: RoleConfig = RoleConfig()
    cache_path: str = ".scigen/llm-cache.sqlite"
    budget_usd: Optional[float] = None

    _client: Optional[LLMClient] = PrivateAttr(default=None)

    def role(self, name: str) -> RoleConfig:
        if name not in ROLES:
            raise KeyError(f"unknown role {name!r}; roles are {ROLES}")
        return getattr(self, name)

    def is_offline(self, name: str) -> bool:
        return self.role(name).model == OFFLINE

    def model_id(self, name: str) -> str:
        return self.role(name).model

    def usage(self) -> dict:
        """The ledger so far (all zeros while every role is offline)."""
        if self._client is None and all(self.is_offline(r) for r in ROLES):
            return {"paid_calls": 0, "cache_hits": 0, "cache_misses": 0, "prompt_tokens": 0,
                    "completion_tokens": 0, "cost_usd": 0.0}
        return self.client().ledger.summary()

    def client_with(self, role: str, settings: RoleSettings) -> LLMClient:
        """The run's client with one more role (a registry model's own planner), sharing
        the cache, the ledger and the budget with every other role."""
        client = self.client()
        client.roles[role] = settings
        return client

    def client(self) -> LLMClient:
        """One client per resource instance: one cache connection and one ledger per run."""
        if self._client is None:
            roles = {r: self.role(r).settings() for r in ROLES if not self.is_offline(r)}
            self._client = LLMClient(roles, cache=ResponseCache(self.cache_path), budget_usd=self.budget_usd)
        return self._client


def role_from_env(role: str, **defaults) -> RoleConfig:
    """A role configured by SCIGEN_<ROLE>_MODEL / _API_BASE / _API_KEY_ENV.

    The key's variable is passed as an EnvVar, so Dagster resolves it at run time and
    never stores or shows its value.
    """
    prefix = f"SCIGEN_{role.upper()}_"
    values = dict(defaults)
    if model := os.environ.get(prefix + "MODEL"):
        values["model"] = model
    if base := os.environ.get(prefix + "API_BASE"):
        values["api_base"] = base
    if key_env := os.environ.get(prefix + "API_KEY_ENV"):
        values["api_key"] = dg.EnvVar(key_env)
    return RoleConfig(**values)


def usage_between(before: dict, after: dict) -> dict:
    """What a step spent: the difference of two ledger summaries (calls, cache, tokens, $)."""
    keys = ("paid_calls", "cache_hits", "cache_misses", "prompt_tokens", "completion_tokens", "cost_usd")
    return {k: round(after[k] - before[k], 6) for k in keys}
