"""What the generation protocol decides: the study's planner prompt, one attempt, the
provider's temperature, the illustrator brief for pixel models; and a bad name is an error
that says where it came from."""

import pytest

from scigen_dagster import prompts
from scigen_dagster.generation import plan, protocol
from scigen_dagster.registry import ModelSpec


def test_scigenbench_makes_the_studys_generation_choices(monkeypatch):
    monkeypatch.setenv("SCIGEN_PROTOCOL", "scigenbench")
    coder = protocol.apply(ModelSpec(name="c", kind="imgcoder", planner="openai/gpt-4.1", max_attempts=3, temperature=0.2))
    assert (coder.protocol, coder.max_attempts, coder.temperature) == ("scigenbench", 1, None)
    assert coder.planner_settings().temperature is None
    pixels = protocol.apply(ModelSpec(name="p", kind="diffusers"))
    assert "{question}" in pixels.prompt_template and "neutral colours" in pixels.prompt_template
    assert protocol.apply(pixels) == pixels, "applying twice changes nothing"
    assert pixels.config_for_fingerprint()["prompt_template"] == pixels.prompt_template, "a generation setting"
    text = prompts.load("imgcoder_plan_scigenbench").messages(question="A 2 kg block.")
    assert [m["role"] for m in text] == ["user"] and "{image_type}" not in prompts.load("imgcoder_plan_scigenbench").user


def test_the_entry_and_the_generation_variable_pin_the_generation_protocol(monkeypatch):
    monkeypatch.setenv("SCIGEN_PROTOCOL", "scigenbench")
    assert protocol.apply(ModelSpec(name="c", kind="imgcoder", protocol="strict")).max_attempts == 2
    monkeypatch.setenv("SCIGEN_GENERATION_PROTOCOL", "strict")
    assert protocol.apply(ModelSpec(name="c", kind="imgcoder")).protocol == "strict"
    monkeypatch.setenv("SCIGEN_GENERATION_PROTOCOL", "paper")
    with pytest.raises(ValueError, match="SCIGEN_GENERATION_PROTOCOL = 'paper'.*strict, scigenbench"):
        protocol.apply(ModelSpec(name="c", kind="imgcoder"))


def test_the_studys_runner_takes_the_first_code_block_and_never_asks_again():
    loose = "Here is my plan: an incline.\n\n```python\nimport matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()\n```\n"
    parsed = plan.parse_any_plan(loose)
    assert isinstance(parsed, plan.FigurePlan) and "plt.show()" in parsed.code
    assert set(parsed.sections.values()) == {plan.NOT_WRITTEN}
    with pytest.raises(ValueError):
        plan.parse_plan_text(loose)  # ours asks for the four parts again
    missing = plan.parse_any_plan("I cannot draw this.")
    assert isinstance(missing, plan.NoCode) and missing.status == "failed" and "no code block" in missing.reason
