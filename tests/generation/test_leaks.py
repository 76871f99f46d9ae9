from scigen_dagster.generation.leaks import leaked_answer_terms


def test_an_answer_value_printed_in_the_figure_is_a_leak():
    q = "In triangle ABC, AB = 6 cm and AC = 8 cm. Find the altitude AD."
    assert leaked_answer_terms(q, "AD = 4.8 cm", ["AB = 6 cm", "AC = 8 cm", "AD = 4.8 cm"]) == ["4.8"]


def test_given_values_and_single_digits_are_not_leaks():
    q = "A block of mass m = 12 kg starts at rest."
    assert leaked_answer_terms(q, "12 kg and 3 s", ["m = 12 kg", "0", "1", "2", "3"]) == []
    assert leaked_answer_terms(q, "19.6 N", ["Given:", "m = 12 kg"]) == []
