"""Every text and vision call of the pipeline goes through here, by role.

One place decides what a run costs and whether a crash loses money: replies are cached
per item (a paid answer is never paid again), calls are dispatched concurrently under a
concurrency limit and request/token buckets, 429s pause every caller for the server's
Retry-After, transient errors back off exponentially with jitter, structured replies are
validated and re-asked with the validation error, and a ledger stops dispatching before a
budget would be crossed. Secrets never leave the call: reasons are scrubbed of the key.
"""

from __future__ import annotations

import asyncio
import functools
import random
import re
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, TypeVar

from scigen_dagster.llm.batch import BatchQueue, BatchStore, request_body, unsupported
from scigen_dagster.llm.cache import ResponseCache, cache_key
from scigen_dagster.llm.ledger import Ledger
from scigen_dagster.llm.limits import Pause, Slots, TokenBucket

T = TypeVar("T")

# Errors worth another try; anything else (auth, bad request) fails the item at once.
TRANSIENT = ("RateLimitError", "InternalServerError", "ServiceUnavailableError", "Timeout",
             "APIConnectionError", "APIError", "BadGatewayError", "JSONDecodeError")


# An output budget a thinking model can answer in (its reasoning tokens are counted in it).
DEFAULT_MAX_TOKENS = 16384
# A reply cut by the length limit is asked once more with this many times the budget.
TRUNCATION_GROWTH = 4
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high")


@dataclass(frozen=True)
class RoleSettings:
    model: str
    api_base: str | None = None
    api_key: str | None = None
    temperature: float = 0.0
    max_tokens: int = DEFAULT_MAX_TOKENS
    timeout_s: float = 120.0
    concurrency: int = 8
    rpm: float | None = None
    tpm: float | None = None
    max_retries: int = 4
    schema_retries: int = 2
    backoff_s: float = 0.5
    seed: int | None = 0
    # Thinking: an effort level (litellm's reasoning_effort) or a token budget, passed the
    # way each provider takes it (see request_params).
    reasoning_effort: str | None = None
    thinking_budget: int | None = None
    # Dollars per million tokens, for a model litellm's price map does not list (or to
    # override it); None: the price map's, else "cost unknown".
    input_usd_per_mtok: float | None = None
    output_usd_per_mtok: float | None = None
    # response_format (JSON schema / JSON object) where the provider takes it.
    structured_output: bool = True
    # Which settings source configured the role (for the launchpad and error messages).
    env_prefix: str = ""
    # Batch mode: a reply not in the cache is left to the provider's batch API (llm.batch).
    batch: bool = False

    @property
    def provider(self) -> str:
        return self.model.split("/", 1)[0] if "/" in self.model else "openai"

    def params(self) -> dict[str, Any]:
        """What decides a reply, for the cache key (never the key): what is actually sent."""
        sent, record = request_params(self)
        return {k: v for k, v in record.items() if k not in ("dropped",)}


def _model_name(settings: RoleSettings) -> str:
    return settings.model.split("/", 1)[1] if "/" in settings.model else settings.model


@functools.lru_cache(maxsize=None)
def _capabilities(model: str) -> tuple[frozenset[str], bool, bool]:
    """(supported OpenAI-style params, is a reasoning model, takes a JSON schema) from
    litellm's own tables for ``model`` ("provider/name")."""
    import litellm

    provider, name = model.split("/", 1) if "/" in model else ("openai", model)
    try:
        supported = litellm.get_supported_openai_params(model=name, custom_llm_provider=provider) or []
    except Exception:  # noqa: BLE001 - an unknown provider: send the minimal set
        supported = ["temperature", "max_tokens"]
    try:
        reasoning = bool(litellm.supports_reasoning(model=model))
    except Exception:  # noqa: BLE001
        reasoning = False
    try:
        schema = bool(litellm.supports_response_schema(model=name, custom_llm_provider=provider))
    except Exception:  # noqa: BLE001
        schema = False
    return frozenset(supported), reasoning, schema


def _openai_fixed_temperature(settings: RoleSettings) -> bool:
    """OpenAI reasoning models (gpt-5, o-series) take only the default temperature (1)."""
    _, reasoning, _ = _capabilities(settings.model)
    name = _model_name(settings).lower()
    return settings.provider in ("openai", "azure") and (reasoning or bool(re.match(r"(gpt-5|o1|o3|o4)", name))) \
        and settings.reasoning_effort != "none"


def _effort_for_budget(budget: int) -> str:
    return "low" if budget <= 1024 else "medium" if budget <= 4096 else "high"


def request_params(settings: RoleSettings, max_tokens: int | None = None,
                   response_format: dict | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the litellm keyword arguments of one call, the record of what was requested and
    sent). Only parameters the provider takes are sent: ``seed`` where supported, the
    temperature a reasoning model accepts, the thinking setting in the provider's form, and
    an output budget that leaves room for thinking (Anthropic: above the thinking budget)."""
    supported, reasoning, takes_schema = _capabilities(settings.model)
    provider = settings.provider
    budget = max_tokens or settings.max_tokens
    sent: dict[str, Any] = {}
    dropped: list[str] = []
    thinking_on = False
    if settings.reasoning_effort is not None:
        if settings.reasoning_effort not in REASONING_EFFORTS:
            raise ValueError(f"reasoning_effort {settings.reasoning_effort!r}: expected one of {REASONING_EFFORTS}")
        if "reasoning_effort" in supported:
            sent["reasoning_effort"] = settings.reasoning_effort
            thinking_on = settings.reasoning_effort != "none"
        else:
            dropped.append("reasoning_effort")
    if settings.thinking_budget is not None and "reasoning_effort" not in sent:
        if provider == "anthropic" or (provider == "gemini" and "gemini-3" not in settings.model):
            sent["thinking"] = {"type": "enabled", "budget_tokens": int(settings.thinking_budget)}
            thinking_on = True
            if provider == "anthropic":
                budget = max(budget, int(settings.thinking_budget) + 1024)
        elif "reasoning_effort" in supported:  # gpt-5 / o-series, Gemini 3: levels, not budgets
            sent["reasoning_effort"] = _effort_for_budget(int(settings.thinking_budget))
            thinking_on = True
        else:
            dropped.append("thinking_budget")
    # The temperature the model accepts: OpenAI reasoning models and Claude with thinking
    # take only 1 (left unsent: the server's default).
    temperature_sent: float | None = settings.temperature
    if _openai_fixed_temperature(settings) or (provider == "anthropic" and thinking_on):
        temperature_sent = 1.0
    elif "temperature" not in supported:
        temperature_sent = None
        dropped.append("temperature")
    if temperature_sent is not None and not (temperature_sent == 1.0 and settings.temperature != 1.0):
        sent["temperature"] = temperature_sent
    sent["max_tokens"] = budget
    if settings.seed is not None:
        if "seed" in supported:
            sent["seed"] = settings.seed
        else:
            dropped.append("seed")
    if response_format is not None:
        sent["response_format"] = response_format
    record = {
        "provider": provider, "temperature_requested": settings.temperature, "temperature_sent": temperature_sent,
        "max_tokens": budget, "seed": sent.get("seed"), "reasoning_effort": sent.get("reasoning_effort"),
        "thinking_budget": (sent.get("thinking") or {}).get("budget_tokens"),
        "response_format": (response_format or {}).get("type"), "dropped": dropped,
    }
    return sent, record


def response_format_for(settings: RoleSettings, schema: dict | None, name: str = "reply") -> dict | None:
    """The response_format of a call whose reply must match ``schema``: a JSON schema where
    the provider takes one, a JSON object where only that is accepted, else None (the
    prompt asks for JSON and a bad reply is re-asked). Anthropic forces a tool call for
    it, which extended thinking refuses, so Claude always gets prompt-JSON."""
    if schema is None or not settings.structured_output or settings.provider == "anthropic":
        return None
    supported, _, takes_schema = _capabilities(settings.model)
    if "response_format" not in supported:
        return None
    if takes_schema:
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}
    return {"type": "json_object"}


@dataclass
class Request:
    item_id: str
    messages: list[dict[str, Any]]
    prompt_hash: str
    deferrable: bool = True  # False: its answer is needed now (a repair), never left to a batch


@dataclass
class CallResult(Generic[T]):
    item_id: str
    status: str  # ok | failed | skipped | truncated (cut by the output budget: not an answer) | deferred (to a batch)
    value: T | None = None
    content: str = ""
    reason: str = ""
    cached: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0  # None: the model's price is unknown
    attempts: int = 0
    sent: dict[str, Any] = field(default_factory=dict)  # requested and sent settings
    # The tokens of the reply itself, paid now or when it was cached (what the call costs
    # whoever paid for it): a protocol's cost reads these.
    reply_prompt_tokens: int = 0
    reply_completion_tokens: int = 0


def _retry_after(exc: BaseException) -> float | None:
    for headers in (getattr(getattr(exc, "response", None), "headers", None),
                    getattr(exc, "litellm_response_headers", None)):
        if headers:
            value = headers.get("retry-after") or headers.get("Retry-After")
            if value:
                try:
                    return float(value)
                except ValueError:
                    return None
    return None


@functools.lru_cache(maxsize=None)
def token_prices(model: str) -> tuple[float, float] | None:
    """(input, output) dollars per token from litellm's price map; None for a model it
    does not list or lists at $0 (a self-hosted server, a model newer than the map):
    "cost unknown", never a silent $0. Looked up once per model, because litellm's own
    per-call cost helpers cost milliseconds each."""
    import litellm

    for name in (model, model.split("/", 1)[-1]):
        info = litellm.model_cost.get(name)
        if info:
            price_in = float(info.get("input_cost_per_token") or 0.0)
            price_out = float(info.get("output_cost_per_token") or 0.0)
            if price_in or price_out:
                return price_in, price_out
    return None


def role_prices(settings: RoleSettings) -> tuple[float, float] | None:
    """The role's own price table (dollars per million tokens) where set, else the map's."""
    if settings.input_usd_per_mtok is not None or settings.output_usd_per_mtok is not None:
        return (float(settings.input_usd_per_mtok or 0.0) / 1e6, float(settings.output_usd_per_mtok or 0.0) / 1e6)
    return token_prices(settings.model)


class PriceUnknown(ValueError):
    """A budget is set and a role's model has no price: refused before the first call."""


IMAGE_TOKENS = 1500  # a generous bound for one image at <= 1024 px in current vision models


def prompt_token_bound(messages: list[dict[str, Any]]) -> int:
    """An upper bound on prompt tokens: ASCII at 4 characters a token, every other
    character (CJK, Greek) at one token per UTF-8 byte (a byte-level tokenizer never needs
    more), and a fixed allowance per image instead of the length of its base64 text."""
    text, images = [], 0
    for message in messages:
        content = message.get("content")
        for part in content if isinstance(content, list) else [content]:
            if isinstance(part, dict) and part.get("type") == "image_url":
                images += 1
            else:
                text.append(part.get("text", "") if isinstance(part, dict) else str(part or ""))
    joined = "".join(text)
    non_ascii = [ch for ch in joined if ord(ch) > 127]
    non_ascii_bytes = len("".join(non_ascii).encode("utf-8"))
    return (len(joined) - len(non_ascii)) // 4 + non_ascii_bytes + images * IMAGE_TOKENS + 8 * len(messages) + 1


def _estimate_cost(settings: RoleSettings, messages: list[dict[str, Any]], max_tokens: int | None = None) -> float:
    """An upper bound for the budget check: the prompt bound plus the output budget."""
    prices = role_prices(settings)
    if prices is None:
        return 0.0
    price_in, price_out = prices
    return prompt_token_bound(messages) * price_in + (max_tokens or settings.max_tokens) * price_out


class _Truncated(Exception):
    """A reply cut by the output budget, or empty after reasoning: paid for, never cached."""

    def __init__(self, max_tokens: int, reasoning_tokens: int, finish_reason: str, paid: tuple[int, int, float | None]):
        super().__init__(f"max_tokens {max_tokens}, reasoning {reasoning_tokens}, finish {finish_reason}")
        self.max_tokens, self.reasoning_tokens, self.finish_reason, self.paid = (
            max_tokens, reasoning_tokens, finish_reason, paid)


class LLMClient:
    def __init__(self, roles: dict[str, RoleSettings], cache: ResponseCache | None = None,
                 budget_usd: float | None = None, shared_limits: dict[str, str] | None = None,
                 batch_store: BatchStore | None = None):
        self.roles = roles
        self.cache = cache
        # Batch mode's queue of deferred requests and the store's batch tables (llm.batch).
        self.batches = BatchQueue(batch_store) if batch_store is not None else None
        # PostgreSQL connection settings: rpm / tpm shared by every worker of a deployment
        self.shared_limits = shared_limits
        self.ledger = Ledger(budget_usd=budget_usd)
        self._pause = Pause()
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._loop_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Slots]] = (
            weakref.WeakKeyDictionary())

    def settings(self, role: str) -> RoleSettings:
        try:
            return self.roles[role]
        except KeyError:
            raise KeyError(f"no model configured for role {role!r}; configured roles: {sorted(self.roles)}") from None

    def _scrub(self, text: str, settings: RoleSettings) -> str:
        if settings.api_key:
            text = text.replace(settings.api_key, "***")
        return text

    def _bucket(self, role: str, kind: str, per_minute: float):
        key = (role, kind)
        if key not in self._buckets:
            if self.shared_limits:
                from scigen_dagster.llm.cache import endpoint_identity
                from scigen_dagster.llm.shared import PostgresWindow

                s = self.settings(role)
                name = f"{role}|{s.model}|{endpoint_identity(s.api_base)}|{kind}"
                self._buckets[key] = PostgresWindow(self.shared_limits, name, per_minute)
            else:
                self._buckets[key] = TokenBucket(per_minute)
        return self._buckets[key]

    async def _gate(self, role: str, settings: RoleSettings, messages: list[dict[str, Any]],
                    max_tokens: int | None = None) -> list[tuple[Any, Any]]:
        """Wait for the role's request and token buckets and for any Retry-After pause.
        The token bucket is charged the whole request (prompt bound + output budget).
        Returns what :meth:`_settle` hands back to the buckets once the reply has come."""
        taken: list[tuple[Any, Any]] = []
        try:
            if settings.rpm:
                bucket = self._bucket(role, "rpm", settings.rpm)
                taken.append((bucket, await bucket.acquire(1.0, until_settled=True)))
            if settings.tpm:
                bucket = self._bucket(role, "tpm", settings.tpm)
                amount = prompt_token_bound(messages) + (max_tokens or settings.max_tokens)
                taken.append((bucket, await bucket.acquire(amount, until_settled=True)))
            await self._pause.wait()
        except BaseException:  # cancelled while waiting: what was taken leaves the window as if answered
            self._settle(taken)
            raise
        return taken

    @staticmethod
    def _settle(taken: list[tuple[Any, Any]]) -> None:
        """The reply (or the error) has come: the buckets date the request from now."""
        for bucket, entry in taken:
            bucket.settle(entry)

    @staticmethod
    def _endpoint(settings: RoleSettings) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": settings.model, "timeout": settings.timeout_s}
        if settings.api_base:
            kwargs["api_base"] = settings.api_base
        if settings.api_key:
            kwargs["api_key"] = settings.api_key
        elif settings.api_base:
            # Self-hosted OpenAI-compatible servers (vLLM, Ollama) take no key, but the
            # OpenAI client refuses to send a request without one.
            kwargs["api_key"] = "no-key"
        return kwargs

    def check_prices(self, role: str) -> None:
        """With a budget set, a model whose price is unknown is refused before any call."""
        settings = self.settings(role)
        if self.ledger.budget_usd is not None and role_prices(settings) is None:
            where = settings.env_prefix or f"the `{role.split(':')[0]}` role of the llm resource"
            raise PriceUnknown(
                f"role {role!r}: model {settings.model!r} has no price in litellm's price map and budget_usd is set, "
                f"so the budget could not be enforced. Add its prices (dollars per million tokens) as "
                f"input_usd_per_mtok / output_usd_per_mtok to {where}, or to the llm resource's `prices` table "
                f"under {settings.model!r}.")

    async def _send_image(self, role: str, settings: RoleSettings, messages: list[dict[str, Any]],
                          size: str) -> tuple[str, int, int, float | None]:
        """One generated image as base64 PNG text (what the cache stores)."""
        import litellm

        taken = await self._gate(role, settings, messages)
        try:
            response = await asyncio.wait_for(
                litellm.aimage_generation(prompt=messages[-1]["content"], n=1, size=size, **self._endpoint(settings)),
                timeout=settings.timeout_s + 5)
        finally:
            self._settle(taken)
        data = response.data[0]
        b64 = getattr(data, "b64_json", None) or (data.get("b64_json") if isinstance(data, dict) else None)
        url = getattr(data, "url", None) or (data.get("url") if isinstance(data, dict) else None)
        if not b64 and url:  # some providers answer with a short-lived link instead of the bytes
            import base64

            import httpx

            async with httpx.AsyncClient(timeout=settings.timeout_s) as http:
                b64 = base64.b64encode((await http.get(url)).raise_for_status().content).decode()
        if not b64:
            raise ValueError("the image API returned neither b64_json nor a url")
        cost: float | None
        try:
            cost = float(litellm.completion_cost(completion_response=response, call_type="image_generation")) or None
        except Exception:  # noqa: BLE001 - a model missing from the price map: cost unknown
            cost = None
        return b64, 0, 0, cost

    async def _send(self, role: str, settings: RoleSettings, messages: list[dict[str, Any]],
                    max_tokens: int, response_format: dict | None) -> tuple[str, int, int, float | None]:
        import litellm

        taken = await self._gate(role, settings, messages, max_tokens)
        try:
            params, _ = request_params(settings, max_tokens, response_format)
            kwargs: dict[str, Any] = {**self._endpoint(settings), "messages": messages, "num_retries": 0, **params}
            response = await asyncio.wait_for(litellm.acompletion(**kwargs), timeout=settings.timeout_s + 5)
        finally:
            self._settle(taken)
        choice = response.choices[0]
        content = choice.message.content or ""
        usage = getattr(response, "usage", None)
        pt, ct = (getattr(usage, "prompt_tokens", 0) or 0), (getattr(usage, "completion_tokens", 0) or 0)
        details = getattr(usage, "completion_tokens_details", None)
        reasoning = getattr(details, "reasoning_tokens", 0) or 0
        prices = role_prices(settings)
        cost = None if prices is None else pt * prices[0] + ct * prices[1]
        finish = str(getattr(choice, "finish_reason", "") or "")
        if finish in ("length", "max_tokens", "MAX_TOKENS") or (not content.strip() and reasoning):
            raise _Truncated(params["max_tokens"], reasoning, finish, (pt, ct, cost))
        return content, pt, ct, cost

    async def _complete_once(self, role: str, settings: RoleSettings, request: Request,
                             messages: list[dict[str, Any]], result: CallResult, image_size: str | None = None,
                             response_format: dict | None = None) -> str:
        """One reply for ``messages``: from the cache, or paid for (with retries).
        With ``image_size`` the call is an image generation and the reply is base64 PNG.
        A reply cut by the output budget is paid for, never cached, and asked once more
        with a larger budget; cut again, it raises _Truncated."""
        if image_size is None:
            _, record = request_params(settings, None, response_format)
            params = {k: v for k, v in record.items() if k != "dropped"}
            result.sent = record
        else:
            params = {"image_size": image_size}
        key = cache_key(provider=settings.provider, model=settings.model, prompt_hash=request.prompt_hash,
                        messages=messages, params=params, seed=settings.seed, endpoint=settings.api_base)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            self.ledger.hit()
            result.cached = True
            result.reply_prompt_tokens += int(hit.get("prompt_tokens") or 0)
            result.reply_completion_tokens += int(hit.get("completion_tokens") or 0)
            if self.batches is not None and (row := self.batches.store.consume(key)) is not None:
                self.ledger.settle_batch(role, row["cost_usd"], row["prompt_tokens"], row["completion_tokens"],
                                         settings.model)
            return hit["content"]
        max_tokens = settings.max_tokens if image_size is None else 0
        if image_size is None:
            max_tokens = request_params(settings, None, response_format)[0]["max_tokens"]
            if self._defer(role, settings, request, key, messages, max_tokens, response_format):
                self.ledger.defer()
                raise _Deferred()
        self.ledger.miss()
        grown = False
        while True:
            try:
                return await self._paid(role, settings, request, messages, result, key, image_size,
                                        response_format, max_tokens)
            except _Truncated as cut:
                self.ledger.cut()
                if grown:
                    raise
                grown = True
                max_tokens = max_tokens * TRUNCATION_GROWTH
                result.sent = {**result.sent, "max_tokens_retry": max_tokens,
                               "truncated_first": {"max_tokens": cut.max_tokens, "reasoning_tokens": cut.reasoning_tokens}}

    def _defer(self, role: str, settings: RoleSettings, request: Request, key: str, messages: list[dict[str, Any]],
               max_tokens: int, response_format: dict | None) -> bool:
        """Whether batch mode takes this uncached request (see llm.batch)."""
        if not (settings.batch and request.deferrable and self.batches is not None):
            return False
        why = unsupported(settings)
        if why is not None:
            self.ledger.refuse_batch(role, why)
            return False
        return self.batches.defer(key, role, request.prompt_hash,
                                lambda: request_body(settings, messages, max_tokens, response_format))

    def submit_deferred(self, asset: str, partitions: list) -> list[str]:
        """Submit what the step deferred, one batch per role; returns the batch ids."""
        from scigen_dagster.llm.batch import submit

        deferred = self.batches.take() if self.batches is not None else []
        return asyncio.run(submit(self, deferred, asset, partitions)) if deferred else []

    def _slots(self, role: str) -> Slots:
        """The role's in-flight slots on the running loop: every call of the role made on
        that loop (one batch, or one stream over a whole step) shares them."""
        per_loop = self._loop_slots.setdefault(asyncio.get_running_loop(), {})
        if role not in per_loop:
            per_loop[role] = Slots(self.settings(role).concurrency)
        return per_loop[role]

    async def _paid(self, *args: Any) -> str:
        # A slot is held from the budget reservation to the last retry: at most the role's
        # concurrency in flight, and a queued call reserves nothing.
        async with self._slots(args[0]).hold():
            return await self._paid_in_slot(*args)

    async def _paid_in_slot(self, role: str, settings: RoleSettings, request: Request, messages: list[dict[str, Any]],
                            result: CallResult, key: str, image_size: str | None, response_format: dict | None,
                            max_tokens: int) -> str:
        estimate = _estimate_cost(settings, messages, max_tokens or None)
        while not self.ledger.reserve(estimate):
            # Calls in flight hold reservations at their upper bound and settle far below
            # it; wait for them before deciding the budget is spent.
            if self.ledger.reserved_usd <= 1e-12:
                raise _BudgetExceeded()
            await asyncio.sleep(0.01)
        last: BaseException | None = None
        try:
            for attempt in range(settings.max_retries + 1):
                result.attempts += 1
                try:
                    content, pt, ct, cost = await (
                        self._send(role, settings, messages, max_tokens, response_format) if image_size is None
                        else self._send_image(role, settings, messages, image_size))
                except _Truncated as cut:
                    pt, ct, cost = cut.paid
                    self._charge(estimate, role, settings, result, pt, ct, cost)
                    estimate = 0.0
                    raise
                except BaseException as exc:  # noqa: BLE001 - classified below
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    last = exc
                    name = type(exc).__name__
                    if not (isinstance(exc, asyncio.TimeoutError) or any(t in name for t in TRANSIENT)):
                        raise
                    wait = _retry_after(exc)
                    if wait is not None:
                        self._pause.hold(wait)
                    elif attempt < settings.max_retries:
                        await asyncio.sleep(settings.backoff_s * 2**attempt * (0.5 + random.random()))
                    continue
                self._charge(estimate, role, settings, result, pt, ct, cost)
                estimate = 0.0
                if self.cache is not None:
                    self.cache.put(key, model=settings.model, role=role, prompt_hash=request.prompt_hash,
                                   content=content, prompt_tokens=pt, completion_tokens=ct, cost_usd=cost or 0.0)
                return content
            raise last if last else RuntimeError("no attempt made")
        finally:
            if estimate:
                self.ledger.release(estimate)

    def _charge(self, estimate: float, role: str, settings: RoleSettings, result: CallResult,
                pt: int, ct: int, cost: float | None) -> None:
        self.ledger.settle(estimate, role, cost, pt, ct, settings.model)
        result.prompt_tokens += pt
        result.completion_tokens += ct
        result.reply_prompt_tokens += pt
        result.reply_completion_tokens += ct
        result.cost_usd = None if cost is None or result.cost_usd is None else result.cost_usd + cost

    @staticmethod
    def _truncated_reason(role: str, settings: RoleSettings, cut: _Truncated) -> str:
        prefix = settings.env_prefix or f"SCIGEN_{role.split(':')[0].upper()}_"
        var = f"{prefix}max_tokens" if prefix.startswith("the registry") else f"{prefix}MAX_TOKENS"
        return (f"truncated: role {role}, model {settings.model}: the reply was cut at max_tokens={cut.max_tokens} "
                f"(reasoning used {cut.reasoning_tokens}, finish {cut.finish_reason or 'empty'}) even after one retry "
                f"with a larger budget; fix: raise max_tokens ({var}) or lower reasoning_effort / thinking_budget")

    async def acall(self, role: str, request: Request, parse: Callable[[str], T] | None = None,
                    schema: dict | None = None) -> CallResult[T]:
        """One item's reply: from the cache, or paid for in one of the role's slots on the
        running loop (so any number of items may await calls at once). The per-item entry
        point of a stream; ``batch`` is this for a list."""
        self.check_prices(role)
        settings = self.settings(role)
        result: CallResult[T] = CallResult(item_id=request.item_id, status="failed")
        messages = list(request.messages)
        response_format = response_format_for(settings, schema)
        try:
            for round_ in range(settings.schema_retries + 1):
                content = await self._complete_once(role, settings, request, messages, result,
                                                    response_format=response_format)
                result.content = content
                if parse is None:
                    result.status, result.value = "ok", content  # type: ignore[assignment]
                    return result
                try:
                    result.value = parse(content)
                    result.status = "ok"
                    return result
                except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
                    error = str(exc).splitlines()[0][:300]
                    result.reason = f"invalid reply: {error}"
                    messages = messages + [
                        {"role": "assistant", "content": content},
                        {"role": "user", "content": f"Your reply could not be used: {error}. "
                                                    "Answer again in exactly the requested format."},
                    ]
            return result
        except _Truncated as cut:
            result.status, result.reason = "truncated", self._truncated_reason(role, settings, cut)
            return result
        except _BudgetExceeded:
            result.status, result.reason = "skipped", "skipped: budget"
            return result
        except _Deferred:
            result.status, result.reason = "deferred", "deferred: left to a batch, no reply yet"
            return result
        except Exception as exc:  # noqa: BLE001 - every item ends ok, failed or skipped
            result.status = "failed"
            result.reason = self._scrub(f"{type(exc).__name__}: {exc}", settings)[:500]
            return result

    async def aimage(self, role: str, request: Request, size: str) -> CallResult[bytes]:
        """A generated image (PNG bytes) for the prompt in ``request``, cached and metered
        like every chat call."""
        import base64

        settings = self.settings(role)
        result: CallResult[bytes] = CallResult(item_id=request.item_id, status="failed")
        try:
            b64 = await self._complete_once(role, settings, request, list(request.messages), result, image_size=size)
            result.value, result.status = base64.b64decode(b64), "ok"
        except _BudgetExceeded:
            result.status, result.reason = "skipped", "skipped: budget"
        except Exception as exc:  # noqa: BLE001 - every item ends ok, failed or skipped
            result.reason = self._scrub(f"{type(exc).__name__}: {exc}", settings)[:500]
        return result

    @staticmethod
    async def _all(requests: list[Request], call) -> list[CallResult]:
        """``call(request)`` for every request; the role's slots bound what is in flight."""
        return list(await asyncio.gather(*(call(r) for r in requests)))

    def image_batch(self, role: str, requests: list[Request], size: str) -> list[CallResult[bytes]]:
        """Synchronous entry point for image generation."""
        if requests:
            self.check_prices(role)
        return asyncio.run(self._all(requests, lambda r: self.aimage(role, r, size)))

    async def abatch(self, role: str, requests: list[Request], parse: Callable[[str], T] | None = None,
                     schema: dict | None = None) -> list[CallResult[T]]:
        if requests:
            self.check_prices(role)
        return await self._all(requests, lambda r: self.acall(role, r, parse, schema))

    def batch(self, role: str, requests: list[Request], parse: Callable[[str], T] | None = None,
              schema: dict | None = None) -> list[CallResult[T]]:
        """Synchronous entry point for asset code. ``schema`` (a JSON schema of the reply)
        is sent as response_format where the provider takes it."""
        return asyncio.run(self.abatch(role, requests, parse, schema))

    def sent_settings(self, role: str, schema: dict | None = None) -> dict[str, Any]:
        """What a call of ``role`` requests and sends (temperature, budget, thinking, seed)."""
        settings = self.settings(role)
        return {"model": settings.model, **request_params(settings, None, response_format_for(settings, schema))[1]}


class _BudgetExceeded(Exception):
    pass


class _Deferred(Exception):
    """A call left to a batch (batch mode): no reply yet."""
