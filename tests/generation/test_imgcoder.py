"""ImgCoder with a model planner over HTTP: buggy code first, the repair second."""

import json

import pandas as pd
import pytest

from scigen_dagster.devtools.openai_stub import OpenAIStub, StubConfig
from scigen_dagster.generation.imgcoder import render_imgcoder
from scigen_dagster.registry import ModelSpec
from scigen_dagster.resources.llm import LLMResource
from scigen_dagster.resources.sandbox import SandboxResource
from scigen_dagster.resources.storage import StorageResource

PLAN = """## Image Content
A block on an incline.
## Layout
Incline from lower left to upper right.
## Labels
m = 2 kg
## Drawing Considerations
Do not show the acceleration.
```python
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(6, 6))
ax.plot([0, 4], [0, 2], color="black")
ax.text(2, 1.3, "m = 2 kg")
ax.set_aspect("equal")
ax.axis("off")
{bug}
fig.savefig("figure.png", dpi=100, bbox_inches="tight")
```"""


def responder(messages):
    text = json.dumps(messages[-1]["content"])
    return PLAN.format(bug="" if "previous script failed" in text else "undefined_helper()")


@pytest.fixture
def item_frame():
    return pd.DataFrame([{
        "problem_id": "t:1", "question": "A block of mass m = 2 kg slides down an incline.", "answer": "4.9 m/s^2",
        "image_type": "Physics - Mechanical", "elements_json": json.dumps(["block labelled m = 2 kg"]),
        "quizzes_json": "[]",
    }])


def test_the_repair_round_fixes_buggy_code(tmp_path, item_frame):
    spec = ModelSpec(name="stub_coder", kind="imgcoder", planner="openai/stub-coder", max_attempts=2)
    with OpenAIStub(StubConfig(responder=responder)) as stub, SandboxResource(workers=1) as sandbox:
        spec = spec.model_copy(update={"api_base": stub.url})
        llm = LLMResource(cache_path=str(tmp_path / "cache.sqlite"))
        rows = render_imgcoder(item_frame, spec, sandbox, StorageResource(root=str(tmp_path)), llm)
        assert stub.stats.answered == 2, "one plan, then one repair"
    row = rows.iloc[0]
    assert row["status"] == "ok" and row["attempts"] == 2, row.to_dict()
    assert "NameError" in row["exec_log"] and "undefined_helper" not in row["code"]
    assert list(json.loads(row["plan_json"])) == ["Image Content", "Layout", "Labels", "Drawing Considerations"]
    assert row["prompt"].startswith("openai/stub-coder|imgcoder_plan@")


def test_a_planner_that_keeps_failing_ends_failed_with_the_reason(tmp_path, item_frame):
    spec = ModelSpec(name="stub_coder", kind="imgcoder", planner="openai/stub-coder", max_attempts=2)
    with OpenAIStub(StubConfig(responder=lambda m: PLAN.format(bug="1/0"))) as stub, SandboxResource(workers=1) as sandbox:
        spec = spec.model_copy(update={"api_base": stub.url})
        rows = render_imgcoder(item_frame, spec, sandbox, StorageResource(root=str(tmp_path)),
                               LLMResource(cache_path=str(tmp_path / "cache.sqlite")))
    row = rows.iloc[0]
    assert row["status"] == "failed" and row["attempts"] == 2
    assert "ZeroDivisionError" in row["reason"]
