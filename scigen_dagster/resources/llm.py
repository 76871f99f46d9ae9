"""Model access for every text and vision step, one role per step, through litellm.

A role whose model is ``offline`` uses the embedded backend of that step (rules, the
MiniLM classifier, OCR); any other value is a litellm model id ("gemini/gemini-3-flash",
"openai/gpt-4o", "hosted_vllm/Qwen3-VL" with an ``api_base``...). Keys come only from
environment variables, named per role and resolved by Dagster's EnvVar, so they never
appear in run config, logs, metadata, the cache or exports. Every role is configured
the same ways: SCIGEN_<ROLE>_MODEL, _API_BASE, _API_KEY_ENV, _CONCURRENCY, _RPM, _TPM (and
_MAX_TOKENS, _TEMPERATURE, _REASONING_EFFORT, _THINKING_BUDGET, _INPUT/_OUTPUT_USD_PER_MTOK),
a YAML file that SCIGEN_ROLES points at, or the launchpad's `llm` resource.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Optional

import dagster as dg
import yaml
from pydantic import PrivateAttr

from scigen_dagster.generation.protocol import PROTOCOL_ENV, protocol_name
from scigen_dagster.llm.batch import BatchStore
from scigen_dagster.llm.cache import ResponseCache, default_cache_path
from scigen_dagster.llm.client import DEFAULT_MAX_TOKENS, LLMClient, RoleSettings
from scigen_dagster.llm.shared import PostgresResponseCache, pg_settings_from_env

OFFLINE = "offline"
# Every role of the llm resource. The ImgCoder planner is not one: each registry model
# names its own (`planner:` with api_base / api_key_env in models.yaml).
ROLES = ("filter", "classifier", "quiz_writer", "judge", "answerer", "grader")
ROLES_ENV = "SCIGEN_ROLES"
# The settings every role takes, as SCIGEN_<ROLE>_<NAME> and as keys of the SCIGEN_ROLES
# file (upper or lower case), with the type each is read as.
ROLE_SETTINGS: dict[str, type] = {
    "MODEL": str, "API_BASE": str, "API_KEY_ENV": str, "CONCURRENCY": int, "RPM": float, "TPM": float,
    "TEMPERATURE": float, "MAX_TOKENS": int, "TIMEOUT_S": float, "REASONING_EFFORT": str,
    "THINKING_BUDGET": int, "INPUT_USD_PER_MTOK": float, "OUTPUT_USD_PER_MTOK": float, "BATCH": bool,
}
# The roles whose answers no step needs at once: their calls may go to a provider's batch
# API (llm.batch). The filter, classifier and quiz writer feed the next step directly.
BATCH_ROLES = ("judge", "answerer")


class RoleConfig(dg.Config):
    model: str = OFFLINE
    api_base: Optional[str] = None
    # The NAME of the environment variable holding the key (as in the model registry);
    # its value is read when the client is built and never stored, logged or shown.
    api_key_env: Optional[str] = None
    temperature: float = 0.0
    max_tokens: int = DEFAULT_MAX_TOKENS  # thinking models spend reasoning tokens out of this
    timeout_s: float = 120.0
    concurrency: int = 8
    rpm: Optional[float] = None
    tpm: Optional[float] = None
    max_retries: int = 4
    schema_retries: int = 2
    reasoning_effort: Optional[str] = None  # none | minimal | low | medium | high
    thinking_budget: Optional[int] = None  # tokens (Claude, Gemini 2.5); a level elsewhere
    input_usd_per_mtok: Optional[float] = None  # a price for a model the price map lacks
    output_usd_per_mtok: Optional[float] = None
    structured_output: bool = True  # response_format where the provider takes it
    # Batch mode (judge, answerer): uncached calls go to the provider's batch API at its
    # batch price; the step waits and the llm_batches sensor requests it again.
    batch: bool = False

    def settings(self, role: str = "", prices: dict | None = None) -> RoleSettings:
        if self.batch and role and role not in BATCH_ROLES:
            raise ValueError(f"role {role}: batch mode is for the roles whose answers no step needs at once "
                             f"({', '.join(BATCH_ROLES)}, and a planner's first attempts via its registry entry); "
                             f"unset SCIGEN_{role.upper()}_BATCH / `batch` for {role}")
        key = None
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise ValueError(f"role {role or '?'}: environment variable {self.api_key_env} (api_key_env) is not set")
        fields = {name: getattr(self, name) for name in type(self).model_fields if name != "api_key_env"}
        table = (prices or {}).get(role) or (prices or {}).get(self.model) or {}
        for name in ("input_usd_per_mtok", "output_usd_per_mtok"):
            if fields[name] is None and table.get(name) is not None:
                fields[name] = float(table[name])
        return RoleSettings(**fields, api_key=key, env_prefix=f"SCIGEN_{role.upper()}_" if role else "")


class LLMResource(dg.ConfigurableResource):
    """Per-role model settings, the response cache and the budget of a run.

    Roles: filter, classifier, quiz_writer, judge, answerer, grader (the grader reads the
    answerer's replies the rule reader cannot). ``prices`` is a user price table, per role
    or per model id: ``{"gemini/gemini-3-flash": {"input_usd_per_mtok": 0.5,
    "output_usd_per_mtok": 3.0}}``. ``protocol`` is the evaluation protocol of the run:
    ``strict`` (ours) or ``scigenbench`` (the study's choices); empty: $SCIGEN_PROTOCOL, else
    strict (evaluation/protocol.py). It changes what the judge and the answerer are sent
    and how their replies count, never the figures."""

    judge: RoleConfig = RoleConfig(temperature=0.1)  # the study's judge runs at 0.1
    answerer: RoleConfig = RoleConfig()
    filter: RoleConfig = RoleConfig()
    classifier: RoleConfig = RoleConfig()
    quiz_writer: RoleConfig = RoleConfig()
    grader: RoleConfig = RoleConfig()
    # Empty: <SCIGEN_STORE>/llm-cache.sqlite (see llm.cache.default_cache_path).
    cache_path: str = ""
    budget_usd: Optional[float] = None
    prices: dict[str, dict[str, float]] = {}
    protocol: str = ""

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
        table = self.prices.get(role) or self.prices.get(settings.model) or {}
        if settings.input_usd_per_mtok is None and settings.output_usd_per_mtok is None and table:
            settings = dataclasses.replace(settings, input_usd_per_mtok=table.get("input_usd_per_mtok"),
                                           output_usd_per_mtok=table.get("output_usd_per_mtok"))
        client.roles[role] = settings
        return client

    def client(self) -> LLMClient:
        """One client per resource instance: one cache connection and one ledger per run."""
        if self._client is None:
            roles = {r: self.role(r).settings(r, self.prices) for r in ROLES if not self.is_offline(r)}
            # The production profile (SCIGEN_PG_HOST set): one cache and one set of limits
            # for every worker and pod, in the deployment's PostgreSQL.
            pg = pg_settings_from_env()
            cache = PostgresResponseCache(pg) if pg else ResponseCache(self.cache_path or default_cache_path())
            # Batch mode's tables live in the local cache's file (not in the shared PostgreSQL).
            batches = None if pg else BatchStore(cache.path)
            if pg and any(s.batch for s in roles.values()):
                raise ValueError("batch mode keeps its batch tables next to the local response cache; with the "
                                 "shared PostgreSQL cache (SCIGEN_PG_HOST) it is not available: unset `batch`")
            self._client = LLMClient(roles, cache=cache, budget_usd=self.budget_usd, shared_limits=pg,
                                     batch_store=batches)
        return self._client


def _coerce(role: str, name: str, value, where: str):
    kind = ROLE_SETTINGS[name]
    if kind is bool:
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"{where}: {role} {name} = {value!r} is not a yes/no (1/0, true/false)")
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {role} {name} = {value!r} is not a {kind.__name__}") from None


def roles_file(path: str | Path | None = None) -> dict[str, dict]:
    """The SCIGEN_ROLES file: ``roles: {judge: {MODEL: ..., API_KEY_ENV: ...}}``, keys as
    the environment variables' names (SCIGEN_JUDGE_MODEL, or MODEL under the role; either
    case). Unknown roles or settings are errors that name them."""
    path = path or os.environ.get(ROLES_ENV)
    if not path:
        return {}
    try:
        raw = yaml.safe_load(Path(path).read_text()) or {}
    except OSError as exc:
        raise ValueError(f"cannot read roles file {path}: {exc}; check ${ROLES_ENV}") from exc
    body = None
    if isinstance(raw, dict) and isinstance(raw.get("roles", {}), dict):
        body = {**{k: v for k, v in raw.items() if k != "roles"}, **(raw.get("roles") or {})}
    if not isinstance(body, dict):
        raise ValueError(f"{path}: expected a mapping `roles: {{<role>: {{MODEL: ...}}}}`")
    out: dict[str, dict] = {}
    for key, value in body.items():
        if isinstance(value, dict):  # roles: {judge: {MODEL: ...}}
            role = str(key).lower()
            items = {str(k).upper().removeprefix(f"SCIGEN_{role.upper()}_"): v for k, v in value.items()}
        else:  # SCIGEN_JUDGE_MODEL: ... at the top level
            m = re.fullmatch(r"SCIGEN_([A-Z_]+?)_(" + "|".join(ROLE_SETTINGS) + ")", str(key).upper())
            if not m:
                raise ValueError(f"{path}: {key!r} is not SCIGEN_<ROLE>_<SETTING>")
            role, items = m.group(1).lower(), {m.group(2): value}
        if role not in ROLES:
            raise ValueError(f"{path}: unknown role {role!r}; roles are {', '.join(ROLES)}")
        for name, v in items.items():
            if name not in ROLE_SETTINGS:
                raise ValueError(f"{path}: role {role}: unknown setting {name!r}; settings are "
                                 f"{', '.join(ROLE_SETTINGS)}")
            out.setdefault(role, {})[name] = _coerce(role, name, v, str(path))
    return out


def role_from_env(role: str, file: dict | None = None, **defaults) -> RoleConfig:
    """A role configured by SCIGEN_<ROLE>_MODEL / _API_BASE / _API_KEY_ENV / _CONCURRENCY /
    _RPM / _TPM (and the other ROLE_SETTINGS), over the SCIGEN_ROLES file, over ``defaults``.

    The key's variable is named, never read here: the client reads it when it is built.
    """
    prefix = f"SCIGEN_{role.upper()}_"
    values = dict(defaults)
    merged = dict((file if file is not None else roles_file()).get(role, {}))
    for name in ROLE_SETTINGS:
        if (raw := os.environ.get(prefix + name)) not in (None, ""):
            merged[name] = _coerce(role, name, raw, prefix + name)
    for name, value in merged.items():
        values[name.lower()] = value
    return RoleConfig(**values)


ROLE_DEFAULTS: dict[str, dict] = {"judge": {"temperature": 0.1}}


def llm_from_env(**overrides) -> LLMResource:
    """The llm resource of the code location: every role from SCIGEN_<ROLE>_* and the
    SCIGEN_ROLES file (offline where neither names a model)."""
    file = roles_file()
    roles = {r: role_from_env(r, file, **ROLE_DEFAULTS.get(r, {})) for r in ROLES}
    budget = os.environ.get("SCIGEN_LLM_BUDGET_USD")
    protocol = protocol_name() if os.environ.get(PROTOCOL_ENV, "").strip() else ""  # a bad value fails at load
    return LLMResource(**roles, **({"budget_usd": float(budget)} if budget else {}),
                       **({"protocol": protocol} if protocol else {}), **overrides)


def usage_between(before: dict, after: dict) -> dict:
    """What a step spent: the difference of two ledger summaries (calls, cache, tokens, $),
    with "cost unknown" and the warning when a model of the step had no price."""
    keys = ("paid_calls", "cache_hits", "cache_misses", "prompt_tokens", "completion_tokens", "cost_usd")
    out = {k: round(after.get(k, 0) - before.get(k, 0), 6) for k in keys}
    out["truncated"] = after.get("truncated", 0) - before.get("truncated", 0)
    for k in ("batch_calls", "deferred"):  # batch mode: replies billed at the batch price, calls still waiting
        if after.get(k, 0) - before.get(k, 0):
            out[k] = after.get(k, 0) - before.get(k, 0)
    refused = {r: why for r, why in (after.get("batch_refused") or {}).items()
               if r not in (before.get("batch_refused") or {})}
    if refused:
        out["batch_refused"] = refused
    by_role = {}
    for role, now in (after.get("by_role") or {}).items():
        was = (before.get("by_role") or {}).get(role, {})
        batch_calls = now.get("batch_calls", 0) - was.get("batch_calls", 0)
        if now["calls"] == was.get("calls", 0) and not batch_calls:
            continue
        row = {"model": now.get("model", ""), "calls": now["calls"] - was.get("calls", 0),
               "prompt_tokens": now["prompt_tokens"] - was.get("prompt_tokens", 0),
               "completion_tokens": now["completion_tokens"] - was.get("completion_tokens", 0)}
        if batch_calls:
            row["batch_calls"] = batch_calls
        row["cost_usd"] = ("cost unknown" if "cost unknown" in (now["cost_usd"], was.get("cost_usd"))
                           else round(now["cost_usd"] - was.get("cost_usd", 0.0), 6))
        by_role[role] = row
    if by_role:
        out["by_role"] = by_role
    new_unknown = sorted({r["model"] for r in by_role.values() if r["cost_usd"] == "cost unknown"})
    if new_unknown:
        out["cost_unknown_models"] = new_unknown
        out["cost_usd"] = f"{out['cost_usd']} + cost unknown"
        out["warning"] = (f"cost unknown for {', '.join(new_unknown)} (not in litellm's price map): add "
                          "input_usd_per_mtok / output_usd_per_mtok (SCIGEN_<ROLE>_INPUT_USD_PER_MTOK, the llm "
                          "resource's `prices`, or the registry entry)")
    return out
