"""The evaluation protocol's readers, held against the study's scripts' rules."""

import pytest

from scigen_dagster.evaluation import inverse, judge, protocol
from scigen_dagster.resources.llm import LLMResource


def test_the_run_protocol_comes_from_the_launchpad_then_the_environment(monkeypatch):
    monkeypatch.delenv("SCIGEN_PROTOCOL", raising=False)
    assert protocol.evaluation_protocol(LLMResource()).name == "strict"
    monkeypatch.setenv("SCIGEN_PROTOCOL", "scigenbench")
    assert protocol.evaluation_protocol(LLMResource()).name == "scigenbench"
    assert protocol.evaluation_protocol(LLMResource(protocol="strict")).name == "strict"
    with pytest.raises(ValueError, match="'paper'"):
        protocol.evaluation_protocol(LLMResource(protocol="paper"))


def test_split_of_names_the_studys_subsets():
    assert protocol.split_of("bench:scigen-1960823") == "scigen"
    assert protocol.split_of("sgb:seephys-1857") == "seephys"
    assert protocol.split_of("sample:physics-3") == protocol.split_of("scigen") == "corpus"


def test_the_judges_fenced_json_is_all_that_is_read():
    # llm_as_judge.py: the ```json block only; a missing key reads 0; a non-number drops the row
    reply = 'I think {"Correctness_Fidelity": 0}\n```JSON\n{"Correctness_Fidelity": 2, "Layout_Precision": "1",' \
            ' "Readability_Occlusion": "high", "Scientific_Plausibility": 1.5}\n```'
    assert judge.parse_fenced_scores(reply) == {"Correctness_Fidelity": 2, "Layout_Precision": 1,
                                                "Readability_Occlusion": None, "Scientific_Plausibility": None,
                                                "Expressiveness_Richness": 0}
    with pytest.raises(ValueError, match="json block"):
        judge.parse_fenced_scores('{"Correctness_Fidelity": 2}')


@pytest.mark.parametrize("reply, right", [
    ('{"is_correct": 1, "reasoning": "same"}', True), ('```json\n{"is_correct": 1}\n```', True),
    ('{"is_correct": true}', True), ('{"is_correct": 0}', False), ('{"reasoning": "no verdict"}', False),
    ("Correct!", False),
])
def test_the_grading_reply_is_read_as_quiz_py_reads_it(reply, right):
    assert inverse.study_verdict(reply) is right


@pytest.mark.parametrize("reply, grade", [
    ("... Final Judgment: \\boxed{A} - CORRECT", "A"), ("\\boxed{B} first, then \\boxed{C}", "C"), ("B", "B"),
    ("Final Judgment: (B) INCORRECT", "B"), ("no verdict at all", ""),
])
def test_the_full_question_grade_is_read_as_process_judgment_does(reply, grade):
    assert inverse.boxed_judgment(reply) == grade


def test_stored_order_keeps_the_letters_and_ours_shuffles():
    options = {"A": "1", "B": "2", "C": "3", "D": "4", "E": "5"}
    shown, back = inverse.shown_options(options, "p", 0, protocol.EVALUATION["scigenbench"])
    assert list(shown.items()) == list(options.items()) and all(k == v for k, v in back.items())
    shuffled, back = inverse.shown_options(options, "p", 0, protocol.EVALUATION["strict"])
    assert sorted(shuffled) == sorted(options) and {options[back[k]] for k in shuffled} == set(options.values())
