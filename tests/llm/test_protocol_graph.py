"""The whole graph with SCIGEN_PROTOCOL=scigenbench, over real HTTP to the provider emulator
(litellm's own request path), on a small SciGenBench-format corpus. What the server
received is inspected: the planner sees no required elements and no image type and is never
asked for a repair, answer requests offer no abstention and show the options in stored
order, every reply is graded by a text-only call, and an always-right answerer gives R_inv
1.0 over the rendered figures; the leaderboard's protocol column says scigenbench. Then the
same figures are evaluated under our protocol without being redrawn."""

import json
import re

import dagster as dg
import pandas as pd
import pytest

from scigen_dagster.definitions import build_definitions
from scigen_dagster.devtools.provider_emulator import ProviderEmulator
from scigen_dagster.evaluation import scores
from scigen_dagster.registry import ModelSpec
from scigen_dagster.resources.llm import LLMResource, RoleConfig

PARTITION = "physics.mechanical"
PLANNER, JUDGE, ANSWERER = "openai/gpt-4.1", "openai/gpt-4.1-mini", "openai/gpt-4o-mini"
OPTIONS = {"A": "2 kg", "B": "5 kg", "C": "8 kg", "D": "11 kg"}
FIVE = {"A": "10 N", "B": "20 N", "C": "30 N", "D": "40 N", "E": "50 N"}
ITEMS = [
    {"id": i, "question": f"A block of {m} rests on a 30 degree incline with friction coefficient 0.{i}. "
                          "Find the friction force.",
     "image_type": "Physics - Mechanical", "answer": f"{i} N", "elements": ["block", "incline", "30 degree angle"],
     "multimodal_question": "Read the mass and the angle off the figure and find the friction force.",
     "quizzes": [{"question": f"What mass is labelled on block {i}?", "options": OPTIONS, "correct_option": "C",
                  "evidence_snippet": m},
                 {"question": f"What weight is drawn for block {i}?", "options": FIVE, "correct_option": "E",
                  "evidence_snippet": "50 N"}]}
    for i, m in ((1, "8 kg"), (2, "8 kg"), (3, "8 kg"))
]
SCRIPT = """import matplotlib.pyplot as plt
import matplotlib.patches as patches

def draw_diagram():
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.set_aspect('equal')
    ax.axis('off')
    ax.add_patch(patches.Polygon([[0, 0], [4, 0], [4, 2.3]], fill=False))
    ax.add_patch(patches.Rectangle((2, 1.2), 0.8, 0.5, angle=30, fill=False))
    ax.text(2.2, 2.0, "8 kg")
    ax.text(3.2, 0.2, "30 deg")
    ax.set_xlim(-0.5, 4.5)
    ax.set_ylim(-0.5, 3)
    plt.tight_layout()
    plt.show()

if __name__ == "__main__":
    draw_diagram()
"""
CORRECT = {q["question"]: q["options"][q["correct_option"]] for item in ITEMS for q in item["quizzes"]}


def responder(req):
    """A capable model in every role of the study's prompts (one user message each)."""
    user = req.user
    if "turns science problems into figures" in user:
        return ("1. **Image Content** — an incline and a block\n2. **Layout** — incline left to right\n"
                "3. **Labels** — 8 kg, 30 deg\n4. **Drawing Considerations** — no friction value\n\n"
                f"```python\n{SCRIPT}```\n")
    if "strict expert who grades" in user:
        return "Clear and complete.\n```json\n" + json.dumps(
            {"Correctness_Fidelity": 2, "Layout_Precision": 2, "Readability_Occlusion": 2,
             "Scientific_Plausibility": 1, "Expressiveness_Richness": 1}) + "\n```"
    if "You grade answers strictly" in user:
        said = re.search(r'Student reply: "(.*)"', user).group(1)
        right = re.search(r"Correct option: (\w)", user).group(1)
        return json.dumps({"is_correct": int(said.strip() == right), "reasoning": "compared the letters"})
    if "expert grader" in user:
        return "The values agree.\nFinal Judgment: \\boxed{A} - CORRECT"
    if "letter of the correct option" in user:  # always right: the stored correct option's letter
        question = user.split("Question:\n", 1)[1].split("\nOptions:", 1)[0]
        options = dict(re.findall(r"^([A-E]): (.*)$", user, re.M))
        return next(k for k, v in options.items() if v == CORRECT[question])
    if "give your answer" in user:
        return "The friction force is about 20 N."
    # ours (the strict protocol's prompts have a system message)
    if "single option letter" in req.system:
        options = dict(re.findall(r"^([A-E])\. (.*)$", user, re.M))
        question = re.search(r"<question>\s*(.*?)\s*</question>", user, re.S).group(1)
        return next((k for k, v in options.items() if v == CORRECT[question]), "NONE") if req.images else "NONE"
    if "review scientific figures" in req.system:
        return '{"Correctness_Fidelity": 2, "Layout_Precision": 2, "Readability_Occlusion": 2, ' \
               '"Scientific_Plausibility": 2, "Expressiveness_Richness": 2}'
    raise AssertionError(f"unexpected request: {user[:200]!r}")


def _run(defs, instance):
    return defs.resolve_job_def("scigen_all").execute_in_process(partition_key=PARTITION, instance=instance)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("protocol-store")
    data = tmp_path_factory.mktemp("scigenbench-data")
    (data / "scigen.json").write_text(json.dumps(ITEMS))
    (data / "sources.yaml").write_text(f"sources:\n  - {{name: bench, kind: scigenbench, path: {data}}}\n")
    mp = pytest.MonkeyPatch()
    mp.setenv("SCIGEN_SOURCES", str(data / "sources.yaml"))
    mp.setenv("SCIGEN_PROTOCOL", "scigenbench")
    with ProviderEmulator(responder) as emu:
        def llm(protocol=""):
            return LLMResource(judge=RoleConfig(model=JUDGE, api_base=emu.openai_base, temperature=0.7),
                               answerer=RoleConfig(model=ANSWERER, api_base=emu.openai_base, temperature=0.5),
                               cache_path=str(root / "llm-cache.sqlite"), protocol=protocol)

        spec = ModelSpec(name="imgcoder_gpt", kind="imgcoder", planner=PLANNER, api_base=emu.openai_base,
                         max_attempts=3, temperature=0.2)
        instance = dg.DagsterInstance.ephemeral()
        study = _run(build_definitions(models=[spec], store_root=str(root), llm=llm()), instance)
        bodies = [b for _, _, b in emu.stats.bodies]
        study_tables = _tables(root)
        # The same figures under ours: the generation protocol is pinned, the evaluation switched.
        mp.setenv("SCIGEN_GENERATION_PROTOCOL", "scigenbench")
        before = len(emu.stats.bodies)
        ours = _run(build_definitions(models=[spec], store_root=str(root), llm=llm("strict")), instance)
        yield {"root": root, "study": study, "ours": ours, "bodies": bodies, "tables": study_tables,
               "ours_bodies": [b for _, _, b in emu.stats.bodies[before:]], "emu": emu}
    mp.undo()


def _tables(root) -> dict:
    return {family: pd.read_parquet(root / "tables" / family / "imgcoder_gpt" / f"{PARTITION}.parquet")
            for family in ("images", "judge_scores", "iv_results")} | {
        "leaderboard": pd.read_parquet(root / "tables" / "leaderboard.parquet")}


def _text(body) -> str:
    content = body["messages"][-1]["content"]
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


def _kind(body) -> str:
    text = _text(body)
    for marker, kind in (("turns science problems into figures", "planner"), ("strict expert who grades", "judge"),
                         ("You grade answers strictly", "grade"), ("expert grader", "full_grade"),
                         ("letter of the correct option", "answer"), ("give your answer", "full")):
        if marker in text:
            return kind
    return "ours"


def test_the_run_succeeds_and_nothing_was_refused(run):
    assert run["study"].success and run["ours"].success
    assert not run["emu"].stats.rejected, dict(run["emu"].stats.rejected)


def test_planner_requests_carry_the_problem_only_and_no_repair_is_sent(run):
    planner = [b for b in run["bodies"] if _kind(b) == "planner"]
    assert len(planner) == len(ITEMS), "one planner call per item: no repair request"
    for body in planner:
        text = _text(body)
        assert [m["role"] for m in body["messages"]] == ["user"], "one user message, no system prompt"
        assert "Required elements" not in text and "Image type" not in text and "30 degree angle" not in text
        assert "previous script failed" not in text
        assert "temperature" not in body, "the provider's default temperature (left unsent)"
    images = run["tables"]["images"]
    assert (images["status"] == "ok").all() and (images["attempts"] == 1).all()
    assert (images["protocol"] == "scigenbench").all()


def test_answer_requests_offer_no_abstention_and_show_options_in_stored_order(run):
    answers = [b for b in run["bodies"] if _kind(b) == "answer"]
    assert len(answers) == 2 * len(ITEMS), "every quiz once, and no blind control"
    for body in answers:
        text = _text(body)
        assert "NONE" not in text
        options = re.findall(r"^([A-E]): (.*)$", text, re.M)
        stored = OPTIONS if "mass" in text else FIVE
        assert options == list(stored.items()), "stored order, 'A: text'"
        assert body["temperature"] == 0
        parts = body["messages"][0]["content"]
        assert [p["type"] for p in parts] == ["text", "image_url"], "the text, then the figure"
    grades = [b for b in run["bodies"] if _kind(b) == "grade"]
    assert len(grades) == len(answers) and all(isinstance(b["messages"][0]["content"], str) for b in grades), \
        "one text-only grading call per reply"
    assert all(b["model"] == "gpt-4o-mini" and b["temperature"] == 0 for b in grades), "the answerer's model, at 0"
    judge = [b for b in run["bodies"] if _kind(b) == "judge"]
    assert len(judge) == len(ITEMS) and all(b["temperature"] == 0.1 and "response_format" not in b for b in judge)


def test_an_always_right_answerer_gives_r_inv_one_over_the_rendered_figures(run):
    iv = run["tables"]["iv_results"]
    summary = scores.iv_summary(iv)
    assert summary["R_inv"] == 1.0 and summary["iv_images"] == len(ITEMS)
    assert summary["question_acc"] == 1.0 and summary["full_question_acc"] == 1.0
    assert (iv["protocol"] == "scigenbench").all() and set(iv["check"]) == {"quiz", "full_question"}
    quizzes = iv[iv["check"] == "quiz"]
    assert (quizzes["shown_answer"] == quizzes["original_answer"]).all() and quizzes["correct"].all()


def test_the_leaderboard_says_scigenbench_and_each_protocol_shows_its_cost(run):
    board = run["tables"]["leaderboard"]
    assert set(board["protocol"]) == {"scigenbench"}
    overall = board[board["scope"] == "overall"].iloc[0]
    assert overall["R_inv"] == 1.0 and overall["eval_calls"] == 3 + 3 * 2 * 2 + 3 * 2
    assert overall["eval_cost_usd"] > 0
    assert set(board.loc[board["scope"] == "split", "group"]) == {"scigen"}
    usage = {}
    for event in run["study"].get_asset_materialization_events():
        value = event.materialization.metadata.get("llm_usage")
        usage |= (value.value if value else {}).get("by_role") or {}
    assert {"answerer@scigenbench", "grader@scigenbench", "judge@scigenbench", "full_question@scigenbench"} <= set(usage)


def test_the_report_and_the_dataset_card_name_the_protocol(run):
    # read after the strict run: the second run rewrote both, and they must say so
    root = run["root"]
    assert "<th>protocol</th><td>strict</td>" in (root / "reports" / "leaderboard.html").read_text()
    assert "- evaluation protocol: strict (" in (root / "tables" / "exports" / "README.md").read_text()


def test_the_same_figures_are_evaluated_under_ours_without_being_redrawn(run, tmp_path):
    assert not any(_kind(b) == "planner" for b in run["ours_bodies"]), "no figure was redrawn"
    root = run["root"]
    ours = _tables(root)
    pd.testing.assert_frame_equal(ours["images"], run["tables"]["images"])
    assert set(ours["leaderboard"]["protocol"]) == {"strict"}
    iv = ours["iv_results"]
    assert (iv["protocol"] == "strict").all() and iv["blind_correct"].notna().all(), "ours runs the blind control"
    assert scores.iv_summary(iv)["R_inv"] == 1.0
