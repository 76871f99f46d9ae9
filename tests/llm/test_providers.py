"""Every role on every provider format, through litellm's whole request path over real
HTTP to the provider emulator: what each API rejects is never sent, thinking models get
an output budget they can answer in, a cut reply is its own outcome, prices, limits,
the cache key and the role settings. The closing table (role x format -> outcome) is
printed by test_every_role_on_every_provider."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import dagster as dg
import pytest

from scigen_dagster import prompts, taxonomy
from scigen_dagster.devtools.provider_emulator import LETTER_STYLES, ProviderEmulator, scigen_responder, styled_letter
from scigen_dagster.evaluation import inverse
from scigen_dagster.generation.plan import parse_plan_text
from scigen_dagster.llm import schemas
from scigen_dagster.llm.cache import ResponseCache, cache_key, default_cache_path
from scigen_dagster.llm.client import LLMClient, PriceUnknown, Request, RoleSettings, request_params
from scigen_dagster.llm.limits import TokenBucket
from scigen_dagster.resources.llm import ROLES, LLMResource, RoleConfig, llm_from_env

MODELS = {
    "openai": ("openai/gpt-5-mini", {"reasoning_effort": "low"}),
    "anthropic": ("anthropic/claude-sonnet-4-5", {"thinking_budget": 2048}),
    "gemini": ("gemini/gemini-3-flash", {"input_usd_per_mtok": 0.5, "output_usd_per_mtok": 3.0}),
}
PROBLEM = ("A 12 V battery drives a current through a 4 Ω resistor R1 in series with a 2 Ω resistor R2. "
           "Find the current in the circuit.")
OPTIONS = {"A": "4 Ω", "B": "12 V", "C": "6 V", "D": "2 A"}


def settings(provider: str, emu: ProviderEmulator, **overrides) -> RoleSettings:
    model, extra = MODELS[provider]
    return RoleSettings(model=model, api_base=emu.base_for(model), api_key="emu-key", max_retries=1,
                        backoff_s=0.01, **{**extra, **overrides})


def role_calls(role: str):
    """(requests, parser, schema) of one role, with this project's real prompts."""
    if role == "filter":
        p = prompts.load("visual_filter")
        return [Request("f", p.messages(question=PROBLEM), p.sha256)], schemas.parse_filter, \
            schemas.json_schema(schemas.FilterVerdict)
    if role == "classifier":
        p = prompts.load("classify_type")
        labels = "\n".join(f"- {t.label}" for t in taxonomy.IMAGE_TYPES if t.subject == "Physics")
        return [Request("c", p.messages(question=PROBLEM, labels=labels), p.sha256)], schemas.parse_label, \
            schemas.json_schema(schemas.TypeLabel)
    if role == "quiz_writer":
        p = prompts.load("write_quizzes")
        return [Request("q", p.messages(question=PROBLEM), p.sha256)], schemas.quiz_parser(PROBLEM), \
            schemas.json_schema(schemas.QuizSet)
    if role == "judge":
        p = prompts.load("judge")
        return [Request("j", p.messages(image_data_url=PNG, question=PROBLEM), p.sha256)], schemas.parse_judge, \
            schemas.json_schema(schemas.JudgeScores)
    if role == "answerer":
        p = prompts.load("answer_from_image")
        options = "\n".join(f"{k}. {v}" for k, v in OPTIONS.items())
        reqs = [Request(f"a{i}", p.messages(image_data_url=PNG, quiz_question=f"Which value is labelled? ({i})",
                                            options=options), p.sha256) for i in range(len(LETTER_STYLES))]
        return reqs, schemas.parse_letter, None
    if role == "grader":
        p = prompts.load("grade_answer")
        options = "\n".join(f"{k}. {v}" for k, v in OPTIONS.items())
        return [Request("g", p.messages(options=options, reply="I'd go with the one that says 12 V"), p.sha256)], \
            schemas.parse_grader, schemas.json_schema(schemas.GraderVerdict)
    if role == "planner":
        p = prompts.load("imgcoder_plan")
        return [Request("p", p.messages(image_type="Physics - Circuit", elements="- battery\n- R1", question=PROBLEM,
                                        repair=""), p.sha256)], parse_plan_text, None
    raise KeyError(role)


def _png() -> str:
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (255, 255, 255)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


PNG = _png()
ALL_ROLES = (*ROLES, "planner")


@pytest.fixture(scope="module")
def emu():
    with ProviderEmulator(scigen_responder(lambda q, opts: "B")) as server:
        yield server


def test_every_role_on_every_provider(emu, capsys):
    table = {}
    for role in ALL_ROLES:
        for provider in MODELS:
            client = LLMClient({role: settings(provider, emu)})
            requests, parse, schema = role_calls(role)
            before = emu.stats.requests
            results = client.batch(role, requests, parse, schema=schema)
            sent = results[0].sent
            outcome = {r.status for r in results}
            table[(role, provider)] = (outcome, emu.stats.requests - before, sent, client.ledger.summary())
            assert outcome == {"ok"}, (role, provider, [(r.status, r.reason, r.content[:80]) for r in results])
            if role == "answerer":
                assert {r.value for r in results} == {"B"}  # every reply style read by the rules
            if role == "grader":
                assert results[0].value.letter == "B"
    assert not emu.stats.rejected, dict(emu.stats.rejected)
    with capsys.disabled():
        print("\nrole x provider format -> outcome (requests, temperature requested->sent, budget, thinking, "
              "response_format, dropped)")
        for (role, provider), (outcome, n, sent, _) in table.items():
            print(f"  {role:11s} {provider:9s} {','.join(outcome):3s} {n:2d} req  T {sent['temperature_requested']}"
                  f"->{sent['temperature_sent']}  max_tokens {sent['max_tokens']}  effort {sent['reasoning_effort']}"
                  f"  budget {sent['thinking_budget']}  rf {sent['response_format']}  dropped {sent['dropped']}")


def test_what_each_api_rejects_is_enforced(emu):
    import litellm

    msgs = [{"role": "user", "content": "hi"}]
    with pytest.raises(Exception, match="seed: Extra inputs are not permitted"):
        litellm.completion(model="anthropic/claude-sonnet-4-5", messages=msgs, api_base=emu.anthropic_base,
                           api_key="k", seed=0, drop_params=False, num_retries=0,
                           additional_drop_params=[], allowed_openai_params=["seed"])
    with pytest.raises(Exception, match="temperature"):
        litellm.completion(model="anthropic/claude-sonnet-4-5", messages=msgs, api_base=emu.anthropic_base,
                           api_key="k", temperature=0, thinking={"type": "enabled", "budget_tokens": 2048},
                           max_tokens=4096, num_retries=0)
    import httpx  # litellm itself refuses this one, so it goes to the emulator directly

    bad = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
           "generationConfig": {"thinkingConfig": {"thinkingBudget": 100, "thinkingLevel": "low"}}}
    reply = httpx.post(emu.gemini_base + "/models/gemini-3-flash:generateContent", json=bad)
    assert reply.status_code == 400 and "thinking level" in reply.text
    reply = httpx.post(emu.gemini_base + "/models/gemini-3-flash:generateContent",
                       json={**bad, "generationConfig": {"max_output_token": 5}})
    assert reply.status_code == 400 and "Unknown name" in reply.text
    with pytest.raises(Exception, match="temperature"):
        litellm.completion(model="openai/gpt-5-mini", messages=msgs, api_base=emu.openai_base, api_key="k",
                           temperature=0, num_retries=0, drop_params=False)
    reply = httpx.post(emu.openai_base + "/chat/completions",
                       json={"model": "gpt-5-mini", "messages": msgs, "temperature": 0})
    assert reply.status_code == 400 and "Only the default (1)" in reply.text


def test_sent_settings_record_requested_and_sent_values():
    gpt5 = request_params(RoleSettings(model="openai/gpt-5-mini", temperature=0.0))
    assert "temperature" not in gpt5[0] and gpt5[1]["temperature_requested"] == 0.0 and gpt5[1]["temperature_sent"] == 1.0
    assert gpt5[0]["seed"] == 0
    claude = request_params(RoleSettings(model="anthropic/claude-sonnet-4-5", thinking_budget=8192, max_tokens=4096))
    assert "seed" not in claude[0] and claude[1]["dropped"] == ["seed"]
    assert claude[0]["thinking"] == {"type": "enabled", "budget_tokens": 8192} and claude[0]["max_tokens"] > 8192
    plain = request_params(RoleSettings(model="anthropic/claude-sonnet-4-5", temperature=0.1))
    assert plain[0]["temperature"] == 0.1
    gemini = request_params(RoleSettings(model="gemini/gemini-3-flash", thinking_budget=512))
    assert gemini[0]["reasoning_effort"] == "low" and gemini[0]["seed"] == 0
    assert RoleSettings(model="x/y").max_tokens >= 8192, "no tiny output caps by default"


def test_a_cut_reply_is_truncated_retried_once_larger_and_never_cached(emu, tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    requests, parse, _ = role_calls("answerer")
    requests = requests[:2]
    # gpt-5-mini thinks 200 tokens at effort low: 8 tokens cannot hold it, nor 32.
    client = LLMClient({"answerer": settings("openai", emu, max_tokens=8)}, cache=cache)
    before = emu.stats.requests
    results = client.batch("answerer", requests, parse)
    assert emu.stats.requests - before == 4, "one retry per item with a larger budget"
    for r in results:
        assert r.status == "truncated" and r.value is None
        assert "role answerer" in r.reason and "max_tokens=32" in r.reason and "SCIGEN_ANSWERER_MAX_TOKENS" in r.reason
    assert len(cache) == 0, "a truncated reply was cached"
    # Gemini 3 thinks 1200 tokens by default: 400 is cut, the retry at 1600 answers.
    client = LLMClient({"answerer": settings("gemini", emu, max_tokens=400)}, cache=cache)
    results = client.batch("answerer", requests, parse)
    assert [r.status for r in results] == ["ok", "ok"] and all(r.sent["max_tokens_retry"] == 1600 for r in results)
    assert client.ledger.summary()["truncated"] == 2 and len(cache) == 2


def test_a_truncated_answer_is_not_an_abstention():
    class Item:
        problem_id, quizzes_json = "p1", json.dumps([{"question": "q?", "options": OPTIONS, "correct_option": "B"}])

    class Image:
        status = "ok"

    rows = inverse.iv_rows(Item, Image, "m", lambda q, o: (None, "truncated: ...", "truncated"), "x")
    assert rows[0]["answer_status"] == "truncated" and rows[0]["abstained"] is False and rows[0]["correct"] is False


def test_unknown_price_is_cost_unknown_and_refused_under_a_budget(emu):
    requests, parse, schema = role_calls("judge")
    unpriced = settings("gemini", emu, input_usd_per_mtok=None, output_usd_per_mtok=None)
    client = LLMClient({"judge": unpriced})
    result = client.batch("judge", requests, parse, schema=schema)[0]
    summary = client.ledger.summary()
    assert result.status == "ok" and result.cost_usd is None
    assert summary["cost_unknown_models"] == ["gemini/gemini-3-flash"] and "cost unknown" in summary["warning"]
    assert summary["by_role"]["judge"]["cost_usd"] == "cost unknown"
    before = emu.stats.requests
    with pytest.raises(PriceUnknown, match=r"gemini/gemini-3-flash.*input_usd_per_mtok"):
        LLMClient({"judge": unpriced}, budget_usd=1.0).batch("judge", requests, parse, schema=schema)
    assert emu.stats.requests == before, "a call was made before the refusal"
    priced = LLMClient({"judge": settings("gemini", emu)}, budget_usd=1.0)
    r = priced.batch("judge", requests, parse, schema=schema)[0]
    assert r.status == "ok" and r.cost_usd == pytest.approx(r.prompt_tokens * 0.5e-6 + r.completion_tokens * 3e-6)
    # the resource's price table, by model id
    llm = LLMResource(judge=RoleConfig(model="gemini/gemini-3-flash", api_base=emu.gemini_base),
                      prices={"gemini/gemini-3-flash": {"input_usd_per_mtok": 0.5, "output_usd_per_mtok": 3.0}},
                      cache_path=str(emu and "/tmp/unused-cache.sqlite"))
    assert llm.role("judge").settings("judge", llm.prices).output_usd_per_mtok == 3.0


@contextlib.contextmanager
def _limits_sleep(fake_sleep):
    """The limits module's asyncio.sleep replaced by ``fake_sleep`` (which moves a fake clock)."""
    import scigen_dagster.llm.limits as limits

    real = limits.asyncio.sleep
    limits.asyncio.sleep = fake_sleep
    try:
        yield
    finally:
        limits.asyncio.sleep = real


def test_token_bucket_charges_the_whole_request_and_keeps_every_minute_under_tpm():
    now = [0.0]
    bucket = TokenBucket(600, clock=lambda: now[0])
    sent: list[tuple[float, float]] = []

    async def run():
        for _ in range(6):
            await bucket.acquire(250)
            sent.append((now[0], 250))

    async def fake_sleep(seconds):
        now[0] += seconds

    with _limits_sleep(fake_sleep):
        asyncio.run(run())
        big = TokenBucket(600, clock=lambda: now[0])
        asyncio.run(big.acquire(2500))
        assert big.tokens < 0, "a request larger than the burst is charged in full (debt)"
        t0 = now[0]
        asyncio.run(big.acquire(10))
        assert now[0] - t0 >= 60, "the next caller waits out the debt"
    for t, _ in sent:
        assert sum(a for s, a in sent if t <= s < t + 60) <= 600


def test_a_request_bucket_keeps_every_sliding_minute_at_the_limit_burst_included():
    """A server counting a sliding minute refuses the 121st request in it. The bucket's
    burst (2 at 120/min) plus a minute of refill would be 122: the window keeps it at 120,
    and the pace stays the limit's."""
    from scigen_dagster.llm.client import LLMClient

    now = [0.0]
    bucket = LLMClient({})._bucket("judge", "rpm", 120)  # the bucket the client paces requests with
    bucket._clock, bucket.updated = (lambda: now[0]), 0.0
    sent: list[float] = []

    async def run():
        for _ in range(300):
            entry = await bucket.acquire(until_settled=True)
            sent.append(now[0])
            bucket.settle(entry)  # answered at once

    async def fake_sleep(seconds):
        now[0] += seconds

    with _limits_sleep(fake_sleep):
        asyncio.run(run())
    busiest = max(sum(t <= s < t + 60 for s in sent) for t in sent)
    assert busiest == 120, busiest
    assert sent[-1] <= 300 / 120 * 60, f"300 requests took {sent[-1]:.0f} s at 120/min"


def test_a_request_in_flight_stays_in_the_window_until_60_s_after_its_reply():
    """The server counted a request somewhere between its send and its reply: at one per
    minute, a request sent at t=0 and answered at t=30 lets the next go at t=90, not 60."""
    now = [0.0]
    bucket = TokenBucket(1, clock=lambda: now[0])
    first: list = []

    async def fake_sleep(seconds):
        now[0] += min(seconds, 1.0)  # time in steps of at most 1 s (the bucket looks again after each)
        if now[0] >= 30 and first and first[0].in_flight:
            bucket.settle(first[0])  # the reply comes at t=30 (or at the first look after it)

    async def run():
        first.append(await bucket.acquire(until_settled=True))
        assert first[0].in_flight, "in flight until settled"
        await bucket.acquire()
        return now[0]

    with _limits_sleep(fake_sleep):
        second = asyncio.run(run())
    assert 90 <= second <= 90 + 2 * bucket.POLL_S, second
    assert not first[0].in_flight


def test_the_cache_key_includes_the_endpoint(tmp_path, monkeypatch):
    base = dict(provider="openai", model="openai/m", prompt_hash="h", messages=[], params={}, seed=0)
    assert cache_key(**base, endpoint="http://a:1/v1") != cache_key(**base, endpoint="http://b:1/v1")
    assert cache_key(**base, endpoint="http://A:1/v1/") == cache_key(**base, endpoint="http://a:1/v1")
    monkeypatch.setenv("SCIGEN_STORE", str(tmp_path / "store"))
    assert default_cache_path() == str(tmp_path / "store" / "llm-cache.sqlite")
    assert default_cache_path("s3://bucket/x") == ".scigen/llm-cache.sqlite"
    with ProviderEmulator(scigen_responder()) as one, ProviderEmulator(scigen_responder()) as two:
        cache = ResponseCache(tmp_path / "shared.sqlite")
        requests, parse, _ = role_calls("answerer")
        for server in (one, two):
            LLMClient({"answerer": settings("openai", server)}, cache=cache).batch("answerer", requests[:1], parse)
        assert one.stats.answered == 1 and two.stats.answered == 1, "two servers shared one answer"


def test_scigen_role_model_takes_effect_for_all_six_roles(monkeypatch, tmp_path):
    for role in ROLES:
        monkeypatch.setenv(f"SCIGEN_{role.upper()}_MODEL", f"openai/{role}-model")
        monkeypatch.setenv(f"SCIGEN_{role.upper()}_API_BASE", f"http://127.0.0.1:9/{role}")
        monkeypatch.setenv(f"SCIGEN_{role.upper()}_API_KEY_ENV", "EMU_KEY")
        monkeypatch.setenv(f"SCIGEN_{role.upper()}_CONCURRENCY", "3")
        monkeypatch.setenv(f"SCIGEN_{role.upper()}_RPM", "30")
        monkeypatch.setenv(f"SCIGEN_{role.upper()}_TPM", "9000")
    monkeypatch.setenv("EMU_KEY", "sk-emu")
    llm = llm_from_env(cache_path=str(tmp_path / "c.sqlite"))
    client = llm.client()
    for role in ROLES:
        s = client.settings(role)
        assert (s.model, s.api_base, s.api_key, s.concurrency, s.rpm, s.tpm) == (
            f"openai/{role}-model", f"http://127.0.0.1:9/{role}", "sk-emu", 3, 30.0, 9000.0)
    assert client.settings("judge").temperature == 0.1
    assert not hasattr(LLMResource(), "planner"), "the launchpad's llm.planner did nothing"
    assert "api_key_env" in RoleConfig.model_fields and "api_key" not in RoleConfig.model_fields


def test_the_roles_file(monkeypatch, tmp_path):
    path = tmp_path / "roles.yaml"
    path.write_text("roles:\n  judge:\n    MODEL: gemini/gemini-3-flash\n    API_KEY_ENV: GEMINI_API_KEY\n"
                    "    TPM: 600\n  grader:\n    model: openai/gpt-5-mini\nSCIGEN_FILTER_MODEL: openai/gpt-4o\n")
    monkeypatch.setenv("SCIGEN_ROLES", str(path))
    monkeypatch.setenv("SCIGEN_GRADER_MODEL", "openai/gpt-5")  # the environment wins over the file
    llm = llm_from_env()
    assert llm.judge.model == "gemini/gemini-3-flash" and llm.judge.api_key_env == "GEMINI_API_KEY"
    assert llm.judge.tpm == 600.0 and llm.judge.temperature == 0.1
    assert llm.grader.model == "openai/gpt-5" and llm.filter.model == "openai/gpt-4o"
    assert llm.answerer.model == "offline"
    path.write_text("roles:\n  planner:\n    MODEL: x\n")
    with pytest.raises(ValueError, match="unknown role 'planner'"):
        llm_from_env()


def test_the_launchpad_resource_is_valid_dagster_config():
    defs = dg.Definitions(resources={"llm": LLMResource(judge=RoleConfig(model="openai/gpt-5-mini",
                                                                         reasoning_effort="low"))})
    assert defs.resources["llm"].judge.reasoning_effort == "low"


@pytest.mark.parametrize("reply,letter", [
    *[(styled_letter(L, "12 V", i), L) for i in range(len(LETTER_STYLES)) for L in "BE"],
    ("A careful look at the figure shows 12 V.", None), ("I think A or B", None),
    ("Reasoning first.\n\nFinal answer: **D**", "D"), ("The correct option is (C).", "C"),
])
def test_rule_reader(reply, letter):
    assert schemas.read_letter(reply) == letter


def test_the_grader_reads_what_the_rules_cannot(emu, tmp_path):
    class Items:
        pass

    llm = LLMResource(grader=RoleConfig(model="openai/gpt-5-mini", api_base=emu.openai_base),
                      cache_path=str(tmp_path / "c.sqlite"))
    parse = inverse._answer_parser("ABCDE", with_grader=True)
    unread = parse("I'd go with the one that says 12 V")
    assert isinstance(unread, inverse._Unread)
    assert parse("**C**") == "C" and parse("NONE") is None
    options = "\n".join(f"{k}. {v}" for k, v in OPTIONS.items())
    assert asyncio.run(inverse.grade_one(llm, options, str(unread))) == "B"
    with pytest.raises(ValueError):
        inverse._answer_parser("ABCDE", with_grader=False)("I'd go with the one that says 12 V")


def test_plan_parsing_numbered_bold_headings_and_only_the_python_block():
    text = ("1. **Image Content** — a loop\n2. **Layout** — left to right\n3. **Labels** — 12 V\n"
            "4. **Drawing Considerations** — no answer\n\n```python\nprint('draw')\n```\n\n```bash\npython f.py\n```\n")
    plan = parse_plan_text(text)
    assert plan.code == "print('draw')\n" and plan.sections["Labels"] == "12 V"
    spelled = ("### Content\nx\n**Layout:** y\n#### Labeling\nz\nDrawing notes: w\n```bash\nls\n```\n```python\nok=1\n```")
    assert parse_plan_text(spelled).code == "ok=1\n"


def test_a_step_with_an_unpriced_model_warns_in_its_usage():
    from scigen_dagster.resources.llm import usage_between

    before = {"paid_calls": 0, "cache_hits": 0, "cache_misses": 0, "prompt_tokens": 0, "completion_tokens": 0,
              "cost_usd": 0.0, "by_role": {}}
    after = {**before, "paid_calls": 2, "prompt_tokens": 10, "completion_tokens": 5,
             "by_role": {"judge": {"model": "gemini/gemini-3-flash", "calls": 2, "prompt_tokens": 10,
                                   "completion_tokens": 5, "cost_usd": "cost unknown"}}}
    usage = usage_between(before, after)
    assert usage["cost_unknown_models"] == ["gemini/gemini-3-flash"] and "cost unknown" in usage["cost_usd"]
    assert "input_usd_per_mtok" in usage["warning"]
