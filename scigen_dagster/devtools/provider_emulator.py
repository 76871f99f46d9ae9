"""An emulator of three model APIs on 127.0.0.1: OpenAI chat completions, Anthropic
messages and Gemini generateContent, for tests that drive litellm's whole request path.

It enforces what each service rejects (the 400s a new user meets first):

- OpenAI reasoning models (gpt-5*, o1/o3/o4*): ``temperature`` other than 1, and
  ``max_tokens`` (they take ``max_completion_tokens``); any unknown argument.
- Anthropic: any top-level field the Messages API does not define (``seed``), a missing
  ``max_tokens``, ``temperature`` with ``top_p`` on 4.5 models, and with extended thinking
  a ``budget_tokens`` under 1024 or not below ``max_tokens``, or a temperature other than 1.
- Gemini: an unknown ``generationConfig`` field, ``thinkingBudget`` together with
  ``thinkingLevel``, and ``thinkingBudget`` on Gemini 3 (which takes levels).

and it counts reasoning tokens against the output budget the way each service does:
OpenAI reasoning tokens and Gemini thoughts come out of ``max_completion_tokens`` /
``maxOutputTokens``, Claude's thinking out of ``max_tokens``; a reply that does not fit
comes back cut (finish reason length / ``max_tokens`` / ``MAX_TOKENS``), empty when the
reasoning alone filled the budget. Replies come from a responder that sees one normalized
request (role texts, images, whether JSON was demanded) whatever the wire format.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

# ---------------------------------------------------------------- reply styles

# How real models write "the answer is C" when asked for a single letter.
LETTER_STYLES = (
    "{L}",
    "**{L}**",
    "The answer is {L}.",
    "Option {L}",
    "\\boxed{{{L}}}",
    "{L}. {T}",
    "Looking at the figure, the correct choice is {L}.",
    "Answer: {L}",
    "({L})",
    "{L})",
)


def styled_letter(letter: str, option_text: str, index: int) -> str:
    """The ``index``-th reply style (cycling) for the choice ``letter``."""
    return LETTER_STYLES[index % len(LETTER_STYLES)].format(L=letter, T=option_text)


# ---------------------------------------------------------------- normalized request


@dataclass
class EmuRequest:
    provider: str  # openai | anthropic | gemini
    model: str
    system: str
    turns: list[tuple[str, str]]  # (role, text) after the system prompt
    images: list[bytes]
    want_json: bool  # response_format / responseMimeType asked for JSON only
    schema: dict | None
    body: dict

    @property
    def user(self) -> str:
        """The last user turn's text."""
        return next((t for r, t in reversed(self.turns) if r == "user"), "")

    @property
    def is_reask(self) -> bool:
        return any(r == "assistant" for r, _ in self.turns)


Responder = Callable[[EmuRequest], str]


def echo(req: EmuRequest) -> str:
    return json.dumps({"echo": req.user[:40]}) if req.want_json else f"echo: {req.user[:40]}"


def tokens_of(text: str) -> int:
    return len(text) // 4 + 1 if text else 0


# ---------------------------------------------------------------- model profiles


@dataclass
class Profile:
    """How much a model thinks: tokens per effort level, and the level it uses unasked."""

    reasoning: bool
    default_effort: str | None
    effort_tokens: dict[str, int]


OPENAI_EFFORT = {"none": 0, "minimal": 16, "low": 200, "medium": 600, "high": 2000}
GEMINI3_LEVEL = {"minimal": 40, "low": 300, "medium": 700, "high": 1200}


def profile(provider: str, model: str) -> Profile:
    m = model.lower()
    if provider == "openai" and re.match(r"(gpt-5|o1|o3|o4)", m):
        return Profile(True, "medium", OPENAI_EFFORT)
    if provider == "gemini" and "gemini-3" in m:
        return Profile(True, "high", GEMINI3_LEVEL)  # Gemini 3 thinks by default ("high")
    if provider == "gemini" and "gemini-2.5" in m:
        return Profile(True, "dynamic", {"dynamic": 800})
    if provider == "anthropic":
        return Profile(False, None, {})  # Claude thinks only when asked, up to budget_tokens
    return Profile(False, None, {})


THINKING_NEED = 1500  # tokens a thinking model would use on these tasks if allowed


# ---------------------------------------------------------------- the server


class ApiError(Exception):
    def __init__(self, status: int, payload: dict):
        super().__init__(json.dumps(payload))
        self.status, self.payload = status, payload


@dataclass
class EmuStats:
    requests: int = 0
    answered: int = 0
    rejected: Counter = field(default_factory=Counter)  # (provider, short reason)
    truncated: int = 0
    by_provider: Counter = field(default_factory=Counter)
    bodies: list = field(default_factory=list)  # (provider, path, body) of every request


OPENAI_ARGS = {
    "model", "messages", "temperature", "top_p", "n", "stream", "stream_options", "stop", "max_tokens",
    "max_completion_tokens", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs",
    "user", "seed", "tools", "tool_choice", "parallel_tool_calls", "response_format", "reasoning_effort",
    "service_tier", "store", "metadata", "modalities", "prediction", "verbosity", "safety_identifier",
    "prompt_cache_key",
}
ANTHROPIC_FIELDS = {
    "model", "messages", "system", "max_tokens", "metadata", "stop_sequences", "stream", "temperature", "top_p",
    "top_k", "tools", "tool_choice", "thinking", "service_tier", "container", "mcp_servers", "context_management",
    "output_format",
}
GEMINI_TOP = {"contents", "systemInstruction", "system_instruction", "generationConfig", "generation_config",
              "safetySettings", "safety_settings", "tools", "toolConfig", "tool_config", "cachedContent", "labels"}
GEMINI_GENCONFIG = {
    "temperature", "topP", "topK", "candidateCount", "maxOutputTokens", "stopSequences", "responseMimeType",
    "responseSchema", "responseJsonSchema", "_responseJsonSchema", "presencePenalty", "frequencyPenalty", "seed",
    "responseLogprobs", "logprobs", "thinkingConfig", "responseModalities", "mediaResolution", "speechConfig",
}


def _data_url_bytes(url: str) -> bytes:
    if url.startswith("data:") and "," in url:
        return base64.b64decode(url.split(",", 1)[1])
    return b""


class ProviderEmulator:
    def __init__(self, responder: Responder = echo, port: int = 0, latency_s: float = 0.0,
                 thinking_need: int = THINKING_NEED):
        self.responder = responder
        self.latency_s = latency_s
        self.thinking_need = thinking_need
        self.stats = EmuStats()
        self._lock = threading.Lock()
        emu = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    return emu._send(self, 400, {"error": {"message": "invalid JSON body"}})
                emu._route(self, self.path, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # Base URLs to give litellm as ``api_base`` for each provider.
    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def openai_base(self) -> str:
        return self.root + "/v1"

    @property
    def anthropic_base(self) -> str:
        return self.root  # litellm appends /v1/messages

    @property
    def gemini_base(self) -> str:
        return self.root + "/v1beta"  # litellm appends /models/<model>:generateContent

    def base_for(self, model_id: str) -> str:
        provider = model_id.split("/", 1)[0]
        return {"openai": self.openai_base, "anthropic": self.anthropic_base, "gemini": self.gemini_base}[provider]

    def __enter__(self) -> "ProviderEmulator":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _send(self, handler, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        try:
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route(self, handler, path: str, body: dict) -> None:
        path = path.split("?", 1)[0]
        if path.endswith("/chat/completions"):
            provider, fn = "openai", self._openai
        elif path.endswith("/messages"):
            provider, fn = "anthropic", self._anthropic
        elif ":generateContent" in path:
            provider, fn = "gemini", self._gemini
        else:
            return self._send(handler, 404, {"error": {"message": f"no route {path}"}})
        with self._lock:
            self.stats.requests += 1
            self.stats.by_provider[provider] += 1
            self.stats.bodies.append((provider, path, body))
        if self.latency_s:
            time.sleep(self.latency_s)
        try:
            payload = fn(path, body)
        except ApiError as exc:
            with self._lock:
                self.stats.rejected[(provider, _short(exc.payload))] += 1
            return self._send(handler, exc.status, exc.payload)
        with self._lock:
            self.stats.answered += 1
        self._send(handler, 200, payload)

    def _reply(self, req: EmuRequest) -> str:
        return self.responder(req)

    def _budget_split(self, answer: str, thinking: int, budget: int | None) -> tuple[str, int, bool]:
        """(visible text, thinking tokens spent, cut) for ``thinking`` reasoning tokens and
        the answer inside one output budget."""
        if budget is None:
            return answer, thinking, False
        if thinking >= budget:
            return "", budget, True
        room = budget - thinking
        need = tokens_of(answer)
        if need <= room:
            return answer, thinking, False
        return answer[: max(0, room * 4 - 4)], thinking, True

    # ------------------------------------------------------------ OpenAI

    def _openai(self, path: str, body: dict) -> dict:
        def bad(message: str, param: str | None = None, code: str = "invalid_request_error") -> ApiError:
            return ApiError(400, {"error": {"message": message, "type": "invalid_request_error", "param": param,
                                            "code": code}})

        model = body.get("model", "")
        unknown = sorted(set(body) - OPENAI_ARGS)
        if unknown:
            raise bad(f"Unrecognized request argument supplied: {unknown[0]}", unknown[0])
        prof = profile("openai", model)
        if prof.reasoning:
            if "temperature" in body and body["temperature"] != 1:
                raise bad(f"Unsupported value: 'temperature' does not support {body['temperature']} with this "
                          "model. Only the default (1) value is supported.", "temperature", "unsupported_value")
            if "max_tokens" in body:
                raise bad("Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                          "'max_completion_tokens' instead.", "max_tokens", "unsupported_parameter")
        elif "reasoning_effort" in body:
            raise bad("Unrecognized request argument supplied: reasoning_effort", "reasoning_effort")
        rf = body.get("response_format") or {}
        if rf and rf.get("type") not in ("text", "json_object", "json_schema"):
            raise bad(f"Invalid value: {rf.get('type')!r}", "response_format.type")
        system, turns, images = "", [], []
        for m in body.get("messages", []):
            content = m.get("content")
            parts = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
            text = ""
            for p in parts:
                if p.get("type") == "text":
                    text += p.get("text", "")
                elif p.get("type") == "image_url":
                    url = p["image_url"]["url"] if isinstance(p["image_url"], dict) else p["image_url"]
                    images.append(_data_url_bytes(url))
            if m.get("role") in ("system", "developer"):
                system += text
            else:
                turns.append((m.get("role"), text))
        req = EmuRequest("openai", model, system, turns, images, rf.get("type") in ("json_object", "json_schema"),
                         (rf.get("json_schema") or {}).get("schema"), body)
        answer = self._reply(req)
        thinking = prof.effort_tokens.get(body.get("reasoning_effort") or prof.default_effort or "", 0) \
            if prof.reasoning else 0
        thinking = min(thinking, self.thinking_need) if prof.reasoning else 0
        budget = body.get("max_completion_tokens", body.get("max_tokens"))
        text, spent, cut = self._budget_split(answer, thinking, budget)
        if cut:
            with self._lock:
                self.stats.truncated += 1
        pt = sum(tokens_of(t) for _, t in turns) + tokens_of(system) + 85 * len(images)
        ct = spent + tokens_of(text)
        return {
            "id": f"chatcmpl-emu-{self.stats.requests}", "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "length" if cut else "stop"}],
            "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct,
                      "completion_tokens_details": {"reasoning_tokens": spent}},
        }

    # ------------------------------------------------------------ Anthropic

    def _anthropic(self, path: str, body: dict) -> dict:
        def bad(message: str) -> ApiError:
            return ApiError(400, {"type": "error", "error": {"type": "invalid_request_error", "message": message}})

        model = body.get("model", "")
        unknown = sorted(set(body) - ANTHROPIC_FIELDS)
        if unknown:
            raise bad(f"{unknown[0]}: Extra inputs are not permitted")
        if "max_tokens" not in body:
            raise bad("max_tokens: Field required")
        if "temperature" in body and "top_p" in body and "4-5" in model:
            raise bad("`temperature` and `top_p` cannot both be specified for this model. Please use only one.")
        thinking = body.get("thinking") or {}
        spent_budget = 0
        if thinking.get("type") == "enabled":
            budget = thinking.get("budget_tokens")
            if not isinstance(budget, int) or budget < 1024:
                raise bad("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
            if budget >= body["max_tokens"]:
                raise bad("`max_tokens` must be greater than `thinking.budget_tokens`.")
            if "temperature" in body and body["temperature"] != 1:
                raise bad("`temperature` may only be set to 1 when thinking is enabled.")
            if body.get("tool_choice", {}).get("type") in ("any", "tool"):
                raise bad("Thinking may not be enabled when tool_choice forces tool use.")
            spent_budget = min(budget, self.thinking_need)
        system = body.get("system") or ""
        if isinstance(system, list):
            system = "".join(b.get("text", "") for b in system)
        turns, images = [], []
        for m in body.get("messages", []):
            content = m.get("content")
            blocks = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
            text = ""
            for b in blocks:
                if b.get("type") == "text":
                    text += b.get("text", "")
                elif b.get("type") == "image":
                    src = b.get("source", {})
                    if src.get("type") != "base64":
                        raise bad("messages: image source must be base64 here")
                    images.append(base64.b64decode(src.get("data", "")))
            turns.append((m.get("role"), text))
        if not turns or turns[0][0] != "user":
            raise bad("messages: first message must use the \"user\" role")
        of = body.get("output_format") or {}
        req = EmuRequest("anthropic", model, system, turns, images, of.get("type") == "json_schema",
                         of.get("schema"), body)
        answer = self._reply(req)
        text, spent, cut = self._budget_split(answer, spent_budget, body["max_tokens"])
        if cut:
            with self._lock:
                self.stats.truncated += 1
        content = []
        if spent:
            content.append({"type": "thinking", "thinking": "Let me look at the problem. " * 4,
                            "signature": "emu-signature"})
        if text or not spent:
            content.append({"type": "text", "text": text})
        pt = sum(tokens_of(t) for _, t in turns) + tokens_of(system) + 1600 * len(images) // 2
        return {
            "id": f"msg_emu_{self.stats.requests}", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": "max_tokens" if cut else "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": pt, "output_tokens": spent + tokens_of(text)},
        }

    # ------------------------------------------------------------ Gemini

    def _gemini(self, path: str, body: dict) -> dict:
        def bad(message: str) -> ApiError:
            return ApiError(400, {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})

        model = path.rsplit("/models/", 1)[-1].split(":", 1)[0]
        unknown = sorted(set(body) - GEMINI_TOP)
        if unknown:
            raise bad(f"Invalid JSON payload received. Unknown name \"{unknown[0]}\": Cannot find field.")
        # The JSON API takes proto field names in lowerCamel or snake_case alike.
        config = _camel(body.get("generationConfig") or body.get("generation_config") or {})
        if isinstance(config.get("thinkingConfig"), dict):
            config["thinkingConfig"] = _camel(config["thinkingConfig"])
        unknown = sorted(set(config) - GEMINI_GENCONFIG)
        if unknown:
            raise bad(f"Invalid JSON payload received. Unknown name \"{unknown[0]}\" at 'generation_config': "
                      "Cannot find field.")
        prof = profile("gemini", model)
        tc = config.get("thinkingConfig") or {}
        if "thinkingBudget" in tc and "thinkingLevel" in tc:
            raise bad("You can only set one of thinking budget and thinking level.")
        if "gemini-3" in model and "thinkingBudget" in tc and tc["thinkingBudget"] == 0:
            raise bad("Thinking can't be disabled for this model.")
        thinking = 0
        if prof.reasoning:
            if "thinkingLevel" in tc:
                level = tc["thinkingLevel"].lower()
                if level not in prof.effort_tokens:
                    raise bad(f"Invalid thinking level {tc['thinkingLevel']!r}.")
                thinking = prof.effort_tokens[level]
            elif "thinkingBudget" in tc:
                thinking = tc["thinkingBudget"] if tc["thinkingBudget"] >= 0 else prof.effort_tokens.get(
                    prof.default_effort, 0)
            else:
                thinking = prof.effort_tokens.get(prof.default_effort or "", 0)
            thinking = min(thinking, self.thinking_need)
        sys_block = body.get("systemInstruction") or body.get("system_instruction") or {}
        system = "".join(p.get("text", "") for p in sys_block.get("parts", []))
        turns, images = [], []
        for c in body.get("contents", []):
            text = ""
            for p in c.get("parts", []):
                if "text" in p:
                    text += p["text"]
                elif "inline_data" in p or "inlineData" in p:
                    images.append(base64.b64decode((p.get("inline_data") or p.get("inlineData"))["data"]))
            turns.append(({"model": "assistant"}.get(c.get("role"), "user"), text))
        want_json = config.get("responseMimeType") == "application/json"
        schema = config.get("responseJsonSchema") or config.get("responseSchema")
        req = EmuRequest("gemini", model, system, turns, images, want_json, schema, body)
        answer = self._reply(req)
        text, spent, cut = self._budget_split(answer, thinking, config.get("maxOutputTokens"))
        if cut:
            with self._lock:
                self.stats.truncated += 1
        parts = [{"text": text}] if text else []
        candidate: dict[str, Any] = {"finishReason": "MAX_TOKENS" if cut else "STOP", "index": 0}
        if parts:
            candidate["content"] = {"role": "model", "parts": parts}
        else:
            candidate["content"] = {"role": "model"}
        pt = sum(tokens_of(t) for _, t in turns) + tokens_of(system) + 258 * len(images)
        usage = {"promptTokenCount": pt, "candidatesTokenCount": tokens_of(text), "thoughtsTokenCount": spent,
                 "totalTokenCount": pt + tokens_of(text) + spent}
        if not text:
            usage.pop("candidatesTokenCount")
        return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model,
                "responseId": f"emu-{self.stats.requests}"}


def _camel(d: dict) -> dict:
    return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): v for k, v in d.items()}


def _short(payload: dict) -> str:
    err = payload.get("error") or {}
    return str(err.get("message", payload))[:80]


# ---------------------------------------------------------------- a model of this project's roles

AnswerKey = Callable[[str, dict[str, str]], "str | None"]


def _stable(text: str) -> int:
    import hashlib

    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def _tag(text: str, name: str) -> str:
    m = re.search(rf"<{name}>\s*(.*?)\s*</{name}>", text, re.S)
    return m.group(1) if m else ""


def parse_options(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^([A-E])\. (.*)$", _tag(text, "options"), re.M)}


def scigen_responder(answer_key: AnswerKey | None = None, unreadable_every: int = 0) -> Responder:
    """A stand-in for a capable model in every role of this project, recognized by its
    prompt: the filter keeps, the classifier picks a listed label, the quiz writer quotes
    the problem, the planner writes a four-part plan with numbered bold headings ("1.
    **Image Content** — ...") and a python script (the rule planner's) followed by a
    ```bash block, the judge reasons and ends with JSON, the answerer answers with
    ``answer_key`` (else "A") in a reply style that varies per question, and the grader
    reads which option a free-form reply chose. With ``unreadable_every`` = n, every n-th
    answer is free-form ("I'd go with the one that says 12 V") that only a grader reads."""

    def respond(req: EmuRequest) -> str:
        system, user = req.system, req.user
        if "screen science problems" in system:
            verdict = {"keep": True, "reason_category": "keep", "reason": "A concrete setting with values."}
            return json.dumps(verdict) if req.want_json else "The setting is concrete.\n" + json.dumps(verdict)
        if "label science problems" in system:
            labels = re.findall(r"^- (.+)$", system, re.M)
            return json.dumps({"label": labels[0] if labels else "unclassifiable"})
        if "write quizzes" in system:
            problem = _tag(user, "problem")
            words = problem.split()
            snippet = " ".join(words[: min(4, len(words))])
            quiz = {"question": "Which phrase of the problem does the figure show?",
                    "options": {"A": snippet, "B": snippet + " (not)", "C": "nothing of the kind", "D": "another setting"},
                    "correct_option": "A", "evidence_snippet": snippet}
            return json.dumps({"quizzes": [quiz, {**quiz, "question": "Which phrase is labelled in the figure?"}]})
        if "draw figures for science textbooks" in system:
            return _plan_reply(req)
        if "review scientific figures" in system:
            scores = {"Correctness_Fidelity": 2, "Layout_Precision": 1, "Readability_Occlusion": 2,
                      "Scientific_Plausibility": 2, "Expressiveness_Richness": 1}
            if req.want_json:
                return json.dumps(scores)
            return "Values are labelled. Layout is fine. No overlap. Conventions ok. Mostly complete.\n" + json.dumps(scores)
        if "read answers to multiple-choice" in system:
            options = parse_options(user)
            reply = _tag(user, "reply")
            hits = [k for k, v in options.items() if v and v in reply]
            return json.dumps({"letter": hits[0] if len(hits) == 1 else "NONE"})
        if "single option letter" in system:
            question, options = _tag(user, "question"), parse_options(user)
            letter = answer_key(question, options) if answer_key else "A"
            if letter is None:
                return "NONE"
            n = _stable(question + json.dumps(options, sort_keys=True))
            if unreadable_every and n % unreadable_every == 0 and options.get(letter):
                return f"I'd go with the one that says {options[letter]}"
            return styled_letter(letter, options.get(letter, ""), n)
        return echo(req)

    return respond


def _plan_reply(req: EmuRequest) -> str:
    from scigen_dagster.generation import rules

    user = req.user
    image_type = (re.search(r"^Image type: (.*)$", user, re.M) or [None, ""])[1].strip()
    item = {"question": _tag(user, "problem"), "image_type": image_type, "problem_id": str(_stable(user))}
    hint = user.split("Your previous script failed with:", 1)[1][:400] if "Your previous script failed" in user else None
    plan = rules.plan_figure(item, repair_hint=hint)
    s = plan.sections
    return (
        "Here is the plan for the figure.\n\n"
        f"1. **Image Content** — {s['Image Content']}\n"
        f"2. **Layout** — {s['Layout']}\n"
        f"3. **Labels** — {s['Labels']}\n"
        f"4. **Drawing Considerations** — {s['Drawing Considerations']}\n\n"
        f"```python\n{plan.code.rstrip()}\n```\n\n"
        "To run it:\n```bash\npython figure.py\n```\n"
    )
