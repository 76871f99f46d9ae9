import pytest

from scigen_dagster.problems import visual_filter as vf


@pytest.mark.parametrize(
    "question, category",
    [
        ("Prove that the angle bisectors of a triangle meet at one point.", vf.NON_VISUAL_TASK),
        ("Write a Python function that sorts the list of resistances.", vf.NON_VISUAL_TASK),
        ("As shown in the figure above, the block rests on the plank; find the friction.", vf.NEEDS_CONTEXT),
        ("Explain why enzymes are important in metabolism.", vf.ABSTRACT),
        ("Find x.", vf.LACKS_DATA),
        ("A block of mass m = 2 kg rests on a 30° incline connected by a rope over a pulley.", vf.KEEP),
        ("Resistors R1 = 4 Ω and R2 = 6 Ω are connected in parallel across a 12 V battery.", vf.KEEP),
    ],
)
def test_rules_give_the_expected_category(question, category):
    decision = vf.decide(question)
    assert decision.reason_category == category, decision
    assert decision.keep == (category == vf.KEEP)
    assert decision.reason


def test_benchmark_items_with_quizzes_pass_through_even_with_figure_wording():
    d = vf.decide("如图所示, find the tension.", has_type=False, has_quizzes=True)
    assert d.keep and d.reason_category == vf.PASS_THROUGH
