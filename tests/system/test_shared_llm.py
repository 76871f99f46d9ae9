"""The production profile's shared model state in a real PostgreSQL: one response cache
for every pod (a reply paid by one worker is a hit for another) and rate limits shared
by every worker (two clients naming the same bucket never exceed it together)."""

import os

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from test_production import postgres  # noqa: F401 - the throwaway PostgreSQL cluster fixture

from scigen_dagster.devtools.provider_emulator import ProviderEmulator, scigen_responder
from scigen_dagster.llm.client import LLMClient, Request, RoleSettings
from scigen_dagster.llm.shared import PostgresResponseCache, PostgresWindow, pg_settings_from_env
from scigen_dagster.resources.llm import LLMResource, RoleConfig

pytestmark = pytest.mark.slow


@pytest.fixture
def pg(postgres, monkeypatch):  # noqa: F811
    for k, v in postgres.env.items():
        monkeypatch.setenv(k, v)
    return pg_settings_from_env()


def test_two_workers_share_one_window(pg):
    a, b = PostgresWindow(pg, "judge|m||tpm", 1000), PostgresWindow(pg, "judge|m||tpm", 1000)
    assert a.try_take(600) == 0
    wait = b.try_take(600)
    assert 50 < wait <= 60, "the second worker saw the first one's tokens"
    assert b.try_take(300) == 0
    assert PostgresWindow(pg, "judge|m||rpm", 1000).try_take(900) == 0, "buckets are separate by name"


def test_the_cache_is_shared_across_workers_and_limits_are_shared(pg, tmp_path):
    with ProviderEmulator(scigen_responder()) as emu:
        llm = LLMResource(judge=RoleConfig(model="openai/gpt-5-mini", api_base=emu.openai_base, rpm=100),
                          cache_path=str(tmp_path / "unused.sqlite"))
        client = llm.client()
        assert isinstance(client.cache, PostgresResponseCache) and client.shared_limits == pg
        reqs = [Request(f"r{i}", [{"role": "user", "content": f"hello {i}"}], "ph") for i in range(3)]
        assert all(r.status == "ok" for r in client.batch("judge", reqs))
        assert isinstance(client._buckets[("judge", "rpm")], PostgresWindow)
        # another worker (a fresh process's client) pays nothing for the same requests
        other = LLMClient({"judge": RoleSettings(model="openai/gpt-5-mini", api_base=emu.openai_base)},
                          cache=PostgresResponseCache(pg), shared_limits=pg)
        assert all(r.cached for r in other.batch("judge", reqs))
        assert emu.stats.answered == 3
        assert not (tmp_path / "unused.sqlite").exists(), "the production profile wrote a local cache"
