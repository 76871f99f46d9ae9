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
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, TypeVar

from scigen_dagster.llm.cache import ResponseCache, cache_key
from scigen_dagster.llm.limits import Pause, TokenBucket

T = TypeVar("T")

# Errors worth another try; anything else (auth, bad request) fails the item at once.
TRANSIENT = ("RateLimitError", "InternalServerError", "ServiceUnavailableError", "Timeout",
             "APIConnectionError", "APIError", "BadGatewayError", "JSONDecodeError")


@dataclass(frozen=True)
class RoleSettings:
    model: str
    api_base: str | None = None
    api_key: str | None = None
    temperature: float = 0.0
    max_tokens: int = 1024
    timeout_s: float = 60.0
    concurrency: int = 8
    rpm: float | None = None
    tpm: float | None = None
    max_retries: int = 4
    schema_retries: int = 2
    backoff_s: float = 0.5
    seed: int | None = 0

    @property
    def provider(self) -> str:
        return self.model.split("/", 1)[0] if "/" in self.model else "openai"

    def params(self) -> dict[str, Any]:
        """What decides a reply, for the cache key (never the key or the endpoint)."""
        return {"temperature": self.temperature, "max_tokens": self.max_tokens}


@dataclass
class Request:
    item_id: str
    messages: list[dict[str, Any]]
    prompt_hash: str


@dataclass
class CallResult(Generic[T]):
    item_id: str
    status: str  # ok | failed | skipped
    value: T | None = None
    content: str = ""
    reason: str = ""
    cached: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    attempts: int = 0


@dataclass
class Ledger:
    """Tokens and dollars per role; a budget that stops dispatching before it is crossed."""

    budget_usd: float | None = None
    spent_usd: float = 0.0
    reserved_usd: float = 0.0
    paid_calls: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    by_role: dict[str, dict[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reserve(self, estimate: float) -> bool:
        with self._lock:
            if self.budget_usd is not None and self.spent_usd + self.reserved_usd + estimate > self.budget_usd:
                return False
            self.reserved_usd += estimate
            return True

    def settle(self, estimate: float, role: str, cost: float, prompt_tokens: int, completion_tokens: int) -> None:
        with self._lock:
            self.reserved_usd -= estimate
            self.spent_usd += cost
            self.paid_calls += 1
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens
            r = self.by_role.setdefault(role, {"calls": 0, "cost_usd": 0.0, "tokens": 0})
            r["calls"] += 1
            r["cost_usd"] += cost
            r["tokens"] += prompt_tokens + completion_tokens

    def release(self, estimate: float) -> None:
        with self._lock:
            self.reserved_usd -= estimate

    def summary(self) -> dict[str, Any]:
        return {"paid_calls": self.paid_calls, "cache_hits": self.cache_hits, "cache_misses": self.cache_misses,
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "cost_usd": round(self.spent_usd, 6), "budget_usd": self.budget_usd, "by_role": self.by_role}


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
def token_prices(model: str) -> tuple[float, float]:
    """(input, output) dollars per token from litellm's price map; (0, 0) for a model
    it does not list, such as a self-hosted server. Looked up once per model, because
    litellm's own per-call cost helpers cost milliseconds each."""
    import litellm

    for name in (model, model.split("/", 1)[-1]):
        info = litellm.model_cost.get(name)
        if info:
            return float(info.get("input_cost_per_token") or 0.0), float(info.get("output_cost_per_token") or 0.0)
    return 0.0, 0.0


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


def _estimate_cost(settings: RoleSettings, messages: list[dict[str, Any]]) -> float:
    """An upper bound for the budget check: the prompt bound plus max_tokens."""
    price_in, price_out = token_prices(settings.model)
    return prompt_token_bound(messages) * price_in + settings.max_tokens * price_out


class LLMClient:
    def __init__(self, roles: dict[str, RoleSettings], cache: ResponseCache | None = None,
                 budget_usd: float | None = None):
        self.roles = roles
        self.cache = cache
        self.ledger = Ledger(budget_usd=budget_usd)
        self._pause = Pause()
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def settings(self, role: str) -> RoleSettings:
        try:
            return self.roles[role]
        except KeyError:
            raise KeyError(f"no model configured for role {role!r}; configured roles: {sorted(self.roles)}") from None

    def _scrub(self, text: str, settings: RoleSettings) -> str:
        if settings.api_key:
            text = text.replace(settings.api_key, "***")
        return text

    def _bucket(self, role: str, kind: str, per_minute: float) -> TokenBucket:
        key = (role, kind)
        if key not in self._buckets:
            self._buckets[key] = TokenBucket(per_minute)
        return self._buckets[key]

    async def _gate(self, role: str, settings: RoleSettings, messages: list[dict[str, Any]]) -> None:
        """Wait for the role's request and token buckets and for any Retry-After pause."""
        if settings.rpm:
            await self._bucket(role, "rpm", settings.rpm).acquire()
        if settings.tpm:
            await self._bucket(role, "tpm", settings.tpm).acquire(prompt_token_bound(messages) + settings.max_tokens)
        await self._pause.wait()

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

    async def _send_image(self, role: str, settings: RoleSettings, messages: list[dict[str, Any]],
                          size: str) -> tuple[str, int, int, float]:
        """One generated image as base64 PNG text (what the cache stores)."""
        import litellm

        await self._gate(role, settings, messages)
        response = await asyncio.wait_for(
            litellm.aimage_generation(prompt=messages[-1]["content"], n=1, size=size, **self._endpoint(settings)),
            timeout=settings.timeout_s + 5)
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
        try:
            cost = float(litellm.completion_cost(completion_response=response, call_type="image_generation"))
        except Exception:  # a model missing from the price map costs nothing
            cost = 0.0
        return b64, 0, 0, cost

    async def _send(self, role: str, settings: RoleSettings, messages: list[dict[str, Any]]) -> tuple[str, int, int, float]:
        import litellm

        await self._gate(role, settings, messages)
        kwargs: dict[str, Any] = {**self._endpoint(settings), "messages": messages, "num_retries": 0,
                                  **settings.params()}
        if settings.seed is not None:
            kwargs["seed"] = settings.seed
        response = await asyncio.wait_for(litellm.acompletion(**kwargs), timeout=settings.timeout_s + 5)
        content = response.choices[0].message.content or ""
        usage = getattr(response, "usage", None)
        pt, ct = (getattr(usage, "prompt_tokens", 0) or 0), (getattr(usage, "completion_tokens", 0) or 0)
        price_in, price_out = token_prices(settings.model)
        return content, pt, ct, pt * price_in + ct * price_out

    async def _complete_once(self, role: str, settings: RoleSettings, request: Request,
                             messages: list[dict[str, Any]], result: CallResult, image_size: str | None = None) -> str:
        """One reply for ``messages``: from the cache, or paid for (with retries).
        With ``image_size`` the call is an image generation and the reply is base64 PNG."""
        params = settings.params() if image_size is None else {"image_size": image_size}
        key = cache_key(provider=settings.provider, model=settings.model, prompt_hash=request.prompt_hash,
                        messages=messages, params=params, seed=settings.seed)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            self.ledger.cache_hits += 1
            result.cached = True
            return hit["content"]
        self.ledger.cache_misses += 1
        estimate = _estimate_cost(settings, messages)
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
                        self._send(role, settings, messages) if image_size is None
                        else self._send_image(role, settings, messages, image_size))
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
                self.ledger.settle(estimate, role, cost, pt, ct)
                estimate = 0.0
                result.prompt_tokens += pt
                result.completion_tokens += ct
                result.cost_usd += cost
                if self.cache is not None:
                    self.cache.put(key, model=settings.model, role=role, prompt_hash=request.prompt_hash,
                                   content=content, prompt_tokens=pt, completion_tokens=ct, cost_usd=cost)
                return content
            raise last if last else RuntimeError("no attempt made")
        finally:
            if estimate:
                self.ledger.release(estimate)

    async def acall(self, role: str, request: Request, parse: Callable[[str], T] | None = None) -> CallResult[T]:
        settings = self.settings(role)
        result: CallResult[T] = CallResult(item_id=request.item_id, status="failed")
        messages = list(request.messages)
        try:
            for round_ in range(settings.schema_retries + 1):
                content = await self._complete_once(role, settings, request, messages, result)
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
        except _BudgetExceeded:
            result.status, result.reason = "skipped", "skipped: budget"
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

    async def _bounded(self, role: str, requests: list[Request], call) -> list[CallResult]:
        """``call(request)`` for every request, at most the role's concurrency at once."""
        semaphore = asyncio.Semaphore(self.settings(role).concurrency)

        async def one(request: Request) -> CallResult:
            async with semaphore:
                return await call(request)

        return list(await asyncio.gather(*(one(r) for r in requests)))

    def image_batch(self, role: str, requests: list[Request], size: str) -> list[CallResult[bytes]]:
        """Synchronous entry point for image generation."""
        return asyncio.run(self._bounded(role, requests, lambda r: self.aimage(role, r, size)))

    async def abatch(self, role: str, requests: list[Request], parse: Callable[[str], T] | None = None) -> list[CallResult[T]]:
        return await self._bounded(role, requests, lambda r: self.acall(role, r, parse))

    def batch(self, role: str, requests: list[Request], parse: Callable[[str], T] | None = None) -> list[CallResult[T]]:
        """Synchronous entry point for asset code."""
        return asyncio.run(self.abatch(role, requests, parse))


class _BudgetExceeded(Exception):
    pass
