from collections import Counter

from scigen_dagster.problems import quizzes as quiz_writer

QUESTION = ("A block of mass m = 2.0 kg is pulled from point A to point B along a floor by a force "
            "F = 15 N at an angle θ = 30° above the horizontal. The coefficient of friction is μ = 0.25.")


def test_quizzes_quote_the_problem_and_are_deterministic():
    quizzes = quiz_writer.write_quizzes(QUESTION, "p1")
    assert 2 <= len(quizzes) <= 5
    for q in quizzes:
        assert q["evidence_snippet"] in QUESTION
        options = q["options"]
        assert sorted(options) == ["A", "B", "C", "D"]
        assert len(set(options.values())) == 4, "options must be distinct"
        correct = options[q["correct_option"]]
        assert correct.split()[0] in q["evidence_snippet"], (correct, q["evidence_snippet"])
    assert quiz_writer.write_quizzes(QUESTION, "p1") == quizzes


def test_correct_letters_are_spread_over_many_problems():
    letters = Counter()
    for i in range(200):
        for q in quiz_writer.write_quizzes(QUESTION, f"p{i}"):
            letters[q["correct_option"]] += 1
    total = sum(letters.values())
    assert all(0.15 < letters[c] / total < 0.35 for c in "ABCD"), letters


def test_numeric_distractors_keep_format_and_unit():
    import random

    out = quiz_writer.numeric_distractors("2.0", "kg", random.Random(0))
    assert len(out) == 3 and all(o.endswith(" kg") and "." in o for o in out)
    assert "2.0 kg" not in out


def test_elements_name_given_values():
    elements = quiz_writer.write_elements(QUESTION)
    assert any("2.0" in e for e in elements) and any("30" in e for e in elements)
