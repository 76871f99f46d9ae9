"""A model-backed step streams the items of every partition of the run through one set of
slots (over real HTTP, the devtools stub timing what it serves): calls of different
partitions are in flight together up to the role's limit and never beyond; each
partition's table is the one the stage computes alone, with its own usage; a rerun
reuses every table; and a run killed mid-step, resumed, pays again only for what was in
flight at the kill."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from scigen_dagster.assets.steps import prepare_step, run_step, run_steps
from scigen_dagster.devtools.openai_stub import OpenAIStub, StubConfig, stub_png
from scigen_dagster.engines.ocr import OcrReader
from scigen_dagster.evaluation import inverse, judge
from scigen_dagster.resources.llm import LLMResource, RoleConfig
from scigen_dagster.resources.storage import StorageResource

REPO = Path(__file__).resolve().parents[2]
ITEMS, IMAGES, IV, JUDGE = "benchmark_items", "images/m", "iv_results/m", "judge_scores/m"


def seed_store(root: Path, partitions: list[str], per_partition: int = 2) -> StorageResource:
    """Items with two quizzes each and a rendered figure each, per partition."""
    storage = StorageResource(root=str(root))
    for key in partitions:
        items, images = [], []
        for i in range(per_partition):
            pid = f"{key}:{i}"
            quizzes = [{"question": f"[{key}] quiz {q} of {pid}?", "options": {"A": "1 kg", "B": "2 kg", "C": "3 kg"},
                        "correct_option": "B", "evidence_snippet": "2 kg"} for q in range(2)]
            items.append({"problem_id": pid, "question": f"problem {pid}", "answer": "2", "image_type": key,
                          "elements_json": "[]", "quizzes_json": json.dumps(quizzes), "reference_image": ""})
            sha, rel = storage.put_png(stub_png(pid))
            images.append({"problem_id": pid, "status": "ok", "image_sha256": sha, "image_path": rel})
        storage.write_table(ITEMS, pd.DataFrame(items), key)
        storage.write_table(IMAGES, pd.DataFrame(images), key)
    return storage


class CountingStub(OpenAIStub):
    """The stub, also counting every request it receives by its whole conversation (a
    received request is billed even when the client died waiting for it)."""

    def __init__(self, config: StubConfig):
        super().__init__(config)
        self.received: Counter = Counter()

    def _handle(self, handler, body) -> None:
        with self._lock:
            self.received[hashlib.sha256(json.dumps(body.get("messages"), sort_keys=True).encode()).hexdigest()] += 1
        super()._handle(handler, body)


def partition_of(messages) -> str:
    text = json.dumps(messages[-1]["content"])
    return text.split("[", 1)[1].split("]", 1)[0]


def answer_b(messages) -> str:
    return "B"


def iv_step(storage, llm, keys, stream=inverse.iv_work):
    ocr = OcrReader()
    return run_step(None, storage, IV, keys, inverse.iv_table,
                    inputs=lambda key: [(ITEMS, key), (IMAGES, key)],
                    arguments=lambda key: {"items": storage.read_table(ITEMS, key),
                                           "images": storage.read_table(IMAGES, key), "model": "m", "storage": storage},
                    engines={"ocr": ocr, "llm": llm}, config=inverse.answerer_settings(llm, ocr),
                    meter=llm.usage, stream=stream)


def overlap(timings: list) -> tuple[int, int]:
    """(most requests in flight at once, most partitions in flight at once) as served."""
    events = sorted([(a, 1, tag) for tag, a, _ in timings] + [(b, -1, tag) for tag, _, b in timings])
    live, parts, most, most_parts = 0, Counter(), 0, 0
    for _, step, tag in events:
        live += step
        parts[tag] += step
        most = max(most, live)
        most_parts = max(most_parts, sum(1 for v in parts.values() if v > 0))
    return most, most_parts


def test_calls_of_every_partition_share_the_slots_up_to_the_limit(tmp_path):
    keys = ["physics.mechanical", "physics.circuit", "math.plane_geometric"]
    storage = seed_store(tmp_path / "store", keys)
    with OpenAIStub(StubConfig(latency_s=0.3, responder=answer_b, tag=partition_of)) as stub:
        llm = LLMResource(answerer=RoleConfig(model="openai/stub-answerer", api_base=stub.url, concurrency=8),
                          cache_path=str(tmp_path / "cache.sqlite"))
        step = iv_step(storage, llm, keys)
        timings = list(stub.stats.timings)
        # One partition per quiz (2 items x 2 quizzes x seen and blind = 8 calls each).
        most, most_parts = overlap(timings)
        assert len(timings) == 24
        assert most == 8, f"{most} calls in flight at most with a limit of 8 over 24 calls"
        assert most_parts >= 2, "no two partitions had calls in flight together: partitions ran one after another"

        for outcome in step.outcomes:
            assert not outcome.reused
            assert outcome.usage["paid_calls"] == 8, f"{outcome.partition}: usage {outcome.usage}"
            assert outcome.usage["by_role"]["answerer"]["calls"] == 8
            alone = inverse.iv_table(storage.read_table(ITEMS, outcome.partition),
                                     storage.read_table(IMAGES, outcome.partition), "m", storage, OcrReader(), llm)
            pd.testing.assert_frame_equal(outcome.frame, alone)
            pd.testing.assert_frame_equal(storage.read_table(IV, outcome.partition), alone)
        assert stub.stats.answered == 24, "computing a partition alone again was not answered from the cache"

        again = iv_step(storage, llm, keys)
        assert [o.reused for o in again.outcomes] == [True] * 3
        assert stub.stats.answered == 24


def role_of(messages) -> str:
    return "judge" if "review scientific figures" in str(messages[0].get("content", "")) else "answerer"


def judge_or_answer(messages) -> str:
    if role_of(messages) == "judge":
        return json.dumps({"Correctness_Fidelity": 2, "Layout_Precision": 1, "Readability_Occlusion": 2,
                           "Scientific_Plausibility": 2, "Expressiveness_Richness": 1})
    return "B"


def test_judge_and_inverse_validation_stream_at_the_same_time_each_role_within_its_limit(tmp_path):
    """The evaluation step of a model (run_steps): the judge's calls and the answerer's
    are in flight together, neither role beyond its own limit, and each step's usage
    counts its own calls only although the two ran interleaved."""
    keys = ["physics.mechanical", "physics.circuit", "math.plane_geometric"]
    storage = seed_store(tmp_path / "store", keys)
    with OpenAIStub(StubConfig(latency_s=0.3, responder=judge_or_answer, tag=role_of)) as stub:
        llm = LLMResource(judge=RoleConfig(model="openai/stub-judge", api_base=stub.url, concurrency=2),
                          answerer=RoleConfig(model="openai/stub-answerer", api_base=stub.url, concurrency=4),
                          cache_path=str(tmp_path / "cache.sqlite"))
        ocr = OcrReader()

        def common(table: str) -> dict:
            return {"inputs": lambda key: [(ITEMS, key), (IMAGES, key)],
                    "arguments": lambda key: {"items": storage.read_table(ITEMS, key),
                                              "images": storage.read_table(IMAGES, key), "model": "m",
                                              "storage": storage},
                    "engines": {"ocr": ocr, "llm": llm}, "meter": llm.usage}

        judged, answered = run_steps([
            prepare_step(None, storage, JUDGE, keys, judge.judge_table, stream=judge.judge_work,
                         config=[judge.judge_settings(llm), ocr.describe()], **common(JUDGE)),
            prepare_step(None, storage, IV, keys, inverse.iv_table, stream=inverse.iv_work,
                         config=inverse.iv_settings(llm, ocr), **common(IV)),
        ])
        timings = list(stub.stats.timings)

    judge_calls = [t for t in timings if t[0] == "judge"]
    answer_calls = [t for t in timings if t[0] == "answerer"]
    assert len(judge_calls) == 6 and len(answer_calls) == 24  # 6 figures; 6 x 2 quizzes x seen and blind
    both = sum(1 for _, a, b in judge_calls for _, c, d in answer_calls if a < d and c < b)
    assert both > 0, "no judge call was in flight while an answerer call was: the steps ran one after the other"
    assert overlap(judge_calls)[0] == 2, "the judge went beyond (or never reached) its limit of 2"
    assert overlap(answer_calls)[0] == 4, "the answerer went beyond (or never reached) its limit of 4"
    first_answer, last_answer = min(c for _, c, _ in answer_calls), max(d for _, _, d in answer_calls)
    assert min(a for _, a, _ in judge_calls) < last_answer and first_answer < max(b for _, _, b in judge_calls)

    assert judged.usage["paid_calls"] == 6 and set(judged.usage["by_role"]) == {"judge"}, judged.usage
    assert answered.usage["paid_calls"] == 24 and set(answered.usage["by_role"]) == {"answerer"}, answered.usage
    for key, outcome in zip(keys, judged.outcomes):
        assert outcome.usage["paid_calls"] == 2 and not outcome.reused
        assert (storage.read_table(JUDGE, key)["Correctness_Fidelity"] == 2).all()
    for key, outcome in zip(keys, answered.outcomes):
        assert outcome.usage["paid_calls"] == 8
        pd.testing.assert_frame_equal(storage.read_table(IV, key), outcome.frame)


@pytest.mark.parametrize("stream", [inverse.iv_work, None], ids=["streamed", "per-partition"])
def test_a_partition_waiting_for_a_batch_is_not_written(tmp_path, stream):
    """Batch mode: a call left to a batch keeps its partition's table unwritten, streamed
    or computed partition by partition."""
    keys = ["physics.mechanical", "physics.circuit"]
    storage = seed_store(tmp_path / "store", keys)
    with OpenAIStub(StubConfig(responder=answer_b)) as stub:
        llm = LLMResource(answerer=RoleConfig(model="openai/gpt-4o-mini", api_base=stub.url, batch=True),
                          cache_path=str(tmp_path / "cache.sqlite"))
        step = iv_step(storage, llm, keys, stream=stream)
        assert stub.stats.answered == 0, "batch mode sent a call interactively"
    assert step.waiting == keys
    assert all(storage.table_fingerprint(IV, k) is None for k in keys), "a waiting partition's table was written"
    assert len(llm.client().batches.pending) == 16  # 2 partitions x 2 items x 2 quizzes x seen and blind


RESUME = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from test_streaming_steps import iv_step
from scigen_dagster.resources.llm import LLMResource, RoleConfig
from scigen_dagster.resources.storage import StorageResource
url, root, cache = sys.argv[1], sys.argv[2], sys.argv[3]
keys = sys.argv[5].split(",")
llm = LLMResource(answerer=RoleConfig(model="openai/stub-answerer", api_base=url, concurrency=4), cache_path=cache)
step = iv_step(StorageResource(root=root), llm, keys)
print("reused", ",".join(o.partition for o in step.outcomes if o.reused), flush=True)
"""


@pytest.mark.parametrize("kill_after_tables", [2])
def test_a_step_killed_mid_stream_resumes_paying_only_for_the_calls_in_flight(tmp_path, kill_after_tables):
    keys = ["physics.mechanical", "physics.circuit", "math.plane_geometric", "biology.genetics",
            "chemistry.spectra", "universal.plot_chart"]
    root = tmp_path / "store"
    storage = seed_store(root, keys, per_partition=3)
    script = tmp_path / "resume.py"
    script.write_text(RESUME)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    with CountingStub(StubConfig(latency_s=0.25, responder=answer_b, tag=partition_of)) as stub:
        cmd = [sys.executable, str(script), stub.url, str(root), str(tmp_path / "cache.sqlite"),
               str(Path(__file__).parent), ",".join(keys)]
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while (sum(storage.table_fingerprint(IV, k) is not None for k in keys) < kill_after_tables
                   and proc.poll() is None and time.monotonic() < deadline):
                time.sleep(0.02)
            assert proc.poll() is None, f"the first run ended before the kill: {proc.stderr.read()[-2000:]}"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        written = [k for k in keys if storage.table_fingerprint(IV, k) is not None]
        assert kill_after_tables <= len(written) < len(keys), f"tables at the kill: {written}"
        time.sleep(0.6)  # what was in flight at the kill is answered (and billed) by now
        received_first = Counter(stub.received)

        rerun = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        reused = rerun.stdout.strip().splitlines()[-1].removeprefix("reused ").split(",")

    assert set(written) <= set(reused), f"tables written before the kill {written} were recomputed ({reused} reused)"
    total = len(keys) * 3 * 2 * 2
    received = stub.received
    assert len(received) == total, f"{len(received)} distinct calls of {total}"
    twice = {k: n for k, n in received.items() if n > 1}
    assert all(n == 2 for n in twice.values()) and len(twice) <= 4, (
        f"{len(twice)} calls paid twice; only the calls in flight at the kill (at most the limit, 4) may be: {twice}")
    assert set(twice) <= set(received_first), "a call paid twice was not one the first run had sent"
    assert 0 < sum(received_first.values()) < total, "the kill did not come mid-step"
