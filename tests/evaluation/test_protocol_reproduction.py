"""Both protocols on one hand-made fixture, every number worked out by hand below.

Eight items: five scigen (S1-S5, each with a multimodal_question), three seephys (P1-P3).
Their figures and the models' replies are recorded: S3 never rendered; S4 and P2 are
corrupted (the stored file is not an image); one quiz call of S5 fails; S2 has a
five-option quiz (A-E, correct E) and a reply whose grading comes back unreadable. The
replies are played through the real client (its parsing, re-asks and failure handling), only
the network is replaced. Under ``scigenbench`` the expected numbers follow the study's
scripts (quiz.py, quiz_seephys.py, ve_infer.py + run.py, llm_as_judge.py); under ``strict``
our rules."""

import io
import json
import re

import pandas as pd
import pytest
from PIL import Image

from scigen_dagster.evaluation import inverse, judge, scores
from scigen_dagster.evaluation.judge import JUDGE_DIMENSIONS
from scigen_dagster.llm.client import LLMClient
from scigen_dagster.reporting.leaderboard import leaderboard_frame
from scigen_dagster.resources.llm import LLMResource, RoleConfig


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (40, 30), (255, 255, 255, 0)).save(buf, format="PNG")
    return buf.getvalue()


PNG, BROKEN = _png(), b"\x89PNG\r\n\x1a\nnot really a png"
OPT4 = {"A": "1 kg", "B": "2 kg", "C": "3 kg", "D": "4 kg"}
OPT5 = {"A": "10 cm", "B": "20 cm", "C": "30 cm", "D": "40 cm", "E": "50 cm"}


def quiz(q, options, correct):
    return {"question": q, "options": options, "correct_option": correct, "evidence_snippet": ""}


# item -> (split id, image status, stored bytes, quizzes, the answerer's choice per quiz as
# option text: None = replies something wrong, "FAIL" = the call fails)
FIXTURE = {
    "S1": ("scigen-1", "ok", PNG, [quiz("mass?", OPT4, "C"), quiz("length?", OPT5, "B")], ["3 kg", "20 cm"]),
    "S2": ("scigen-2", "ok", PNG, [quiz("five?", OPT5, "E"), quiz("other?", OPT4, "B")], ["50 cm", "2 kg"]),
    "S3": ("scigen-3", "failed", None, [quiz("a?", OPT4, "A"), quiz("b?", OPT4, "B")], ["1 kg", "2 kg"]),
    "S4": ("scigen-4", "ok", BROKEN, [quiz("c?", OPT4, "C"), quiz("d?", OPT4, "D")], ["3 kg", "4 kg"]),
    "S5": ("scigen-5", "ok", PNG, [quiz("e?", OPT4, "A"), quiz("f?", OPT4, "B")], ["1 kg", "FAIL"]),
    "P1": ("seephys-1", "ok", PNG, [quiz("g?", OPT4, "A"), quiz("h?", OPT4, "B"), quiz("i?", OPT4, "C")],
           ["1 kg", "2 kg", "3 kg"]),
    "P2": ("seephys-2", "ok", BROKEN, [quiz("j?", OPT4, "A"), quiz("k?", OPT4, "B")], ["1 kg", "2 kg"]),
    "P3": ("seephys-3", "ok", PNG, [quiz("l?", OPT4, "A"), quiz("m?", OPT4, "B")], ["1 kg", None]),
}
# The grading step of S2's second quiz comes back unreadable: the study counts it 0.
UNREADABLE_GRADE = {("S2", 1)}
# The full-question check (scigen only): S1 right, S2 wrong, S5 right; S4 is corrupted
# (ve_infer.py writes an error row), S3 never rendered.
FULL_QUESTION = {"S1": "A", "S2": "B", "S4": "A", "S5": "A"}
# Judge replies per item, by attempt (a re-ask is the next one).
ALL2 = {d: 2 for d in JUDGE_DIMENSIONS}
JUDGE = {
    "S1": ["All there.\n```json\n" + json.dumps(ALL2) + "\n```"],
    # E&R missing: the study reads 0; ours rejects it (asked again, the same) and leaves it missing
    "S2": ["Thin.\n```json\n" + json.dumps({"Correctness_Fidelity": 2, "Layout_Precision": 1,
                                            "Readability_Occlusion": 2, "Scientific_Plausibility": 1}) + "\n```"] * 3,
    # a score that is not a number: the study's mean drops the row; ours: missing
    "S5": ["Odd.\n```json\n" + json.dumps(ALL2 | {"Layout_Precision": "high"}) + "\n```"] * 3,
    "P1": ["Fine.\n```json\n" + json.dumps(dict.fromkeys(JUDGE_DIMENSIONS, 1)) + "\n```"],
    # no fenced block: ours reads the last JSON object; the study asks again and gets it fenced
    "P3": ["Scores: " + json.dumps({"Correctness_Fidelity": 0, "Layout_Precision": 2, "Readability_Occlusion": 1,
                                    "Scientific_Plausibility": 2, "Expressiveness_Richness": 2}),
           "```json\n" + json.dumps({"Correctness_Fidelity": 0, "Layout_Precision": 2, "Readability_Occlusion": 1,
                                     "Scientific_Plausibility": 2, "Expressiveness_Richness": 2}) + "\n```"],
}


def _text(messages) -> str:
    content = messages[-1]["content"]
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


class RecordedClient(LLMClient):
    """The real client with the network replaced by the recorded replies."""

    sent: list

    async def _complete_once(self, role, settings, request, messages, result, image_size=None, response_format=None):
        self.sent.append((role, request.item_id, messages))
        problem_id, _, rest = request.item_id.partition("#")
        pid = KEY[problem_id]
        reasks = sum(m["role"] == "assistant" for m in messages)
        if role.startswith("judge"):
            return JUDGE[pid][reasks]
        if rest == "full":
            return "The answer is 12 N."
        if rest == "full#grade":
            return f"The answer agrees. Final Judgment: \\boxed{{{FULL_QUESTION[pid]}}} - CORRECT"
        index = int(rest.split("#")[0])
        if rest.endswith("#blind"):
            return "NONE"
        if rest.endswith("#grade"):
            if (pid, index) in UNREADABLE_GRADE:
                return "yes, that is the one"
            question = _text(messages)
            said = re.search(r'Student reply: "(.*)"', question).group(1)
            right = re.search(r"Correct option: (\w)", question).group(1)
            return json.dumps({"is_correct": int(said == right), "reasoning": "compared"})
        choice = FIXTURE[pid][4][index]
        if choice == "FAIL":
            raise ConnectionError("the provider dropped the call")
        options = dict(re.findall(r"^([A-E])[.:] (.*)$", _text(messages), re.M))
        letter = next((k for k, v in options.items() if v == choice), None)
        return letter or next(k for k, v in options.items() if v != FIXTURE[pid][3][index]["options"][
            FIXTURE[pid][3][index]["correct_option"]])


KEY = {f"bench:{sid}": pid for pid, (sid, *_) in FIXTURE.items()}


class Storage:
    """Figures stored under the item's short name (S1...); rows carry bench:<split>-<n>."""

    def read_bytes(self, path):
        return FIXTURE[path][2]


class Ocr:
    def tokens(self, storage, sha, path):
        return None  # no OCR proxies here: the rubric is what is checked

    def describe(self):
        return "no ocr"


def _frames():
    items, images = [], []
    for pid, (sid, status, png, quizzes, _) in FIXTURE.items():
        problem_id = f"bench:{sid}"
        items.append({"problem_id": problem_id, "question": f"problem {pid}", "answer": "12 N",
                      "quizzes_json": json.dumps(quizzes), "image_type": "Physics - Mechanical",
                      "multimodal_question": f"read the force off the figure ({pid})" if pid.startswith("S") else ""})
        images.append({"problem_id": problem_id, "status": status, "image_sha256": pid, "image_path": pid})
    return pd.DataFrame(items), pd.DataFrame(images)


def _evaluate(protocol: str):
    llm = LLMResource(judge=RoleConfig(model="openai/recorded-judge", temperature=0.1),
                      answerer=RoleConfig(model="openai/recorded-answerer"), protocol=protocol)
    client = RecordedClient({r: llm.role(r).settings(r) for r in ("judge", "answerer")})
    client.sent = []
    llm._client = client
    items, images = _frames()
    iv = inverse.iv_table(items, images, "m", Storage(), Ocr(), llm)
    scored = judge.judge_table(items, images, "m", Storage(), Ocr(), llm)
    return iv, scored, client.sent


def _by(frame, split):
    return frame[frame["problem_id"].str.contains(f":{split}-")]


@pytest.fixture(scope="module")
def study():
    return _evaluate("scigenbench")


@pytest.fixture(scope="module")
def ours():
    return _evaluate("strict")


def test_scigenbench_r_inv_and_question_accuracy_follow_the_study_scripts(study):
    iv, _, _ = study
    sg, sp = scores.iv_summary(_by(iv, "scigen")), scores.iv_summary(_by(iv, "seephys"))
    # quiz.py (scigen): S3 never rendered and S5 had a failed quiz call -> out; S4 is corrupted
    # -> its 2 quizzes stay, both wrong. Kept: S1 2/2 right, S2 5-option right + 1 whose grading
    # is unreadable (0) = 1/2, S4 0/2. Question accuracy 3/6; perfect images S1 of {S1, S2, S4} = 1/3.
    assert sg["question_acc"] == pytest.approx(3 / 6)
    assert sg["R_inv_quizzes"] == pytest.approx(1 / 3)
    # ve_infer.py: S1 right, S2 wrong, S5 right; S4 corrupted is an error row, left out -> 2/3.
    assert sg["full_question_acc"] == pytest.approx(2 / 3)
    # run.py: images with a kept row of either kind: S1 (2 quizzes + full, all right), S2 (no),
    # S4 (no), S5 (its full-question row alone, right) -> 2 perfect of 4 = 0.5.
    assert sg["R_inv"] == pytest.approx(2 / 4) and sg["iv_images"] == 4
    # quiz_seephys.py: P2 corrupted -> its rows carry an error and are dropped. P1 3/3, P3 1/2:
    # question accuracy 4/5, perfect 1 of 2; no full-question check for seephys.
    assert sp["question_acc"] == pytest.approx(4 / 5)
    assert sp["R_inv"] == pytest.approx(1 / 2) == sp["R_inv_quizzes"] and sp["full_question_acc"] is None
    # pooled (our overall row; the study never pools): 3 perfect of 6, 7 of 11 quizzes.
    both = scores.iv_summary(iv)
    assert both["R_inv"] == pytest.approx(3 / 6) and both["question_acc"] == pytest.approx(7 / 11)


def test_strict_counts_every_attempted_image(ours):
    iv, _, _ = ours
    sg, sp = scores.iv_summary(_by(iv, "scigen")), scores.iv_summary(_by(iv, "seephys"))
    # Every attempted image counts; failed (S3), corrupted (S4, P2) and the abstention left by
    # the failed call (S5) are not faithful. The rule reader reads S2's second reply as the right
    # letter (no grading step). scigen: S1, S2 perfect of 5; quizzes 2+2+0+0+1 = 5 of 10.
    assert sg["R_inv"] == pytest.approx(2 / 5) and sg["question_acc"] == pytest.approx(5 / 10)
    # seephys: P1 perfect of 3; quizzes 3+0+1 = 4 of 7.
    assert sp["R_inv"] == pytest.approx(1 / 3) and sp["question_acc"] == pytest.approx(4 / 7)
    assert sg["full_question_acc"] is None, "no full-question check under ours"
    both = scores.iv_summary(iv)
    assert both["R_inv"] == pytest.approx(3 / 8) and both["question_acc"] == pytest.approx(9 / 17)
    s5 = iv[iv["problem_id"] == "bench:scigen-5"]
    assert list(s5["answer_status"]) == ["answered", "abstained"], "ours: a failed call is an abstention"


def test_judge_means_under_each_protocol(study, ours):
    _, study_judge, _ = study
    _, our_judge, _ = ours
    # llm_as_judge.py: rows with all five scores. scigen: S1 (2,2,2,2,2) and S2 (2,1,2,1,0: the
    # missing E&R reads 0); S5's "high" drops its row; S3/S4 are not judged.
    means = scores.judge_means(_by(study_judge, "scigen"))
    assert [means[d] for d in JUDGE_DIMENSIONS] == pytest.approx([2.0, 1.5, 2.0, 1.5, 1.0])
    # seephys: P1 (1,1,1,1,1) and P3 (0,2,1,2,2, read on the re-ask that fenced it).
    means = scores.judge_means(_by(study_judge, "seephys"))
    assert [means[d] for d in JUDGE_DIMENSIONS] == pytest.approx([0.5, 1.5, 1.0, 1.5, 1.5])
    # Ours: S2 and S5 fail validation (missing, never 0); P3's unfenced JSON is read. Rows
    # S1, P1, P3: CF (2+1+0)/3, LP (2+1+2)/3, RO (2+1+1)/3, SP (2+1+2)/3, ER (2+1+2)/3.
    means = scores.judge_means(our_judge)
    assert [means[d] for d in JUDGE_DIMENSIONS] == pytest.approx([1.0, 5 / 3, 4 / 3, 5 / 3, 5 / 3])
    assert set(our_judge.loc[our_judge["judge_status"] == "corrupted", "problem_id"]) == {"bench:scigen-4",
                                                                                         "bench:seephys-2"}


def test_what_the_study_protocol_sends(study):
    iv, _, sent = study
    answers = [(role, m) for role, item, m in sent if role == "answerer@scigenbench"]
    five = next(m for role, m in answers if "five?" in _text(m))
    # stored order, "A: text", one user message with the text before the image, no NONE offered
    assert "A: 10 cm\nB: 20 cm\nC: 30 cm\nD: 40 cm\nE: 50 cm" in _text(five)
    assert [m["role"] for m in five] == ["user"] and five[0]["content"][0]["type"] == "text"
    assert five[0]["content"][1]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert not any("NONE" in _text(m) for _, m in answers)
    grading = [m for role, _, m in sent if role == "grader@scigenbench"]
    assert len(grading) == len(answers) - 1 and all(isinstance(m[0]["content"], str) for m in grading), \
        "one text-only grading call per reply that came back"
    assert not any(item.endswith("#blind") for _, item, _ in sent), "no blind control"
    assert (iv.loc[iv["check"] == "quiz", "shown_answer"].dropna() == iv.loc[iv["check"] == "quiz", "original_answer"]
            .dropna()).all()


def test_strict_rows_name_shown_and_original_letters(ours):
    iv, _, _ = ours
    asked = iv[(iv["answer_status"] == "answered")]
    for row in asked.itertuples():
        shown = json.loads(row.shown_options_json)
        assert row.shown_order[list(shown).index(row.shown_answer)] == row.original_answer
        assert row.shown_order[list(shown).index(row.shown_correct)] == row.original_correct
        assert row.correct == (row.shown_answer == row.shown_correct)


def test_the_leaderboard_reports_each_protocol_and_each_split(study):
    iv, scored, _ = study
    _, images = _frames()
    part = {"images": images.assign(partition="physics.mechanical"), "judge_scores": scored.assign(partition="physics.mechanical"),
            "iv_results": iv.assign(partition="physics.mechanical")}
    board = leaderboard_frame({"m": part}, {"m": "M"})
    assert set(board["protocol"]) == {"scigenbench"}
    split = board[board["scope"] == "split"].set_index("group")
    assert split.loc["scigen", "R_inv"] == pytest.approx(0.5) and split.loc["seephys", "R_inv"] == pytest.approx(0.5)
    assert split.loc["scigen", "question_acc"] == pytest.approx(0.5)
    assert split.loc["seephys", "Correctness_Fidelity"] == pytest.approx(0.5)
    overall = board[board["scope"] == "overall"].iloc[0]
    assert overall["eval_calls"] > 0 and overall["eval_cost_usd"] is None, "a model without a price: cost n/m"
