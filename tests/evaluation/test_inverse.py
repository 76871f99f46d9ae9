import pandas as pd

from scigen_dagster.evaluation import inverse, stats


def _iv(rows):
    cols = ["model", "problem_id", "image_status", "correct", "blind_correct"]
    return pd.DataFrame(rows, columns=cols)


def test_r_inv_counts_failed_images_as_unfaithful_and_offers_the_original_rule():
    iv = _iv([
        ("m", "p1", "ok", True, False), ("m", "p1", "ok", True, False),     # faithful
        ("m", "p2", "ok", True, False), ("m", "p2", "ok", False, False),    # one wrong
        ("m", "p3", "failed", False, None),                                  # never rendered
    ])
    assert inverse.r_inv(iv) == 1 / 3
    assert inverse.r_inv(iv, exclude_failed=True) == 1 / 2


def test_quizzes_answered_blind_are_not_evidence():
    iv = _iv([
        ("m", "p1", "ok", True, True), ("m", "p1", "ok", False, False),     # only the blind-right quiz was right
        ("m", "p2", "ok", True, False),
    ])
    dependent = inverse.image_dependent(iv)
    assert len(dependent) == 2
    assert inverse.r_inv(dependent) == 1 / 2
    assert inverse.blind_accuracy(iv) == 1 / 3


def test_shuffle_is_fixed_per_quiz_and_maps_back():
    options = {"A": "1 kg", "B": "2 kg", "C": "3 kg", "D": "4 kg"}
    shown, back = inverse.shuffle_options(options, "p1", 0)
    assert inverse.shuffle_options(options, "p1", 0) == (shown, back)
    for letter, text in shown.items():
        assert options[back[letter]] == text
    orders = {tuple(inverse.shuffle_options(options, f"p{i}", 0)[0].values()) for i in range(30)}
    assert len(orders) > 5, "the shuffle must vary across quizzes"


def test_bootstrap_interval_contains_the_mean_and_narrows_with_n():
    import numpy as np

    rng = np.random.default_rng(1)
    small, large = rng.random(40) < 0.6, rng.random(4000) < 0.6
    lo_s, hi_s = stats.bootstrap_ci(small)
    lo_l, hi_l = stats.bootstrap_ci(large)
    assert lo_s <= small.mean() <= hi_s and lo_l <= large.mean() <= hi_l
    assert hi_l - lo_l < (hi_s - lo_s) / 3, "100x the data should shrink the interval about 10x"
    assert stats.bootstrap_ci([]) is None
    assert stats.bootstrap_ci(small) == stats.bootstrap_ci(small), "seeded"


class _OfflineLlm:
    @staticmethod
    def is_offline(role):
        return True


class _Ocr:
    """Reads the figure's one text line; answers like the OCR lookup (never blind)."""

    def tokens(self, storage, sha, path):
        return ["Slider C"]

    def answer(self, tokens, question, options):
        hits = [k for k, v in options.items() if any(v in t for t in tokens)]
        return (hits[0] if len(hits) == 1 else None), f"read {tokens}"


def test_offline_iv_is_an_ocr_lookup_and_its_blind_control_is_not_measured():
    items = pd.DataFrame([{"problem_id": "p1", "quizzes_json": (
        '[{"question": "Where is F applied?", "options": {"A": "Object A", "B": "Slider C"}, "correct_option": "B"}]')}])
    images = pd.DataFrame([{"problem_id": "p1", "status": "ok", "image_sha256": "x", "image_path": "x.png"}])
    iv = inverse.iv_table(items, images, "m", None, _Ocr(), _OfflineLlm())
    assert iv["correct"].all() and (iv["answerer"] == inverse.OFFLINE_ANSWERER).all()
    assert "lower bound" in inverse.OFFLINE_ANSWERER
    assert iv["blind_correct"].isna().all() and inverse.blind_accuracy(iv) is None, "not measured, never 0"
    assert inverse.iv_method(iv["answerer"]) == "OCR lookup (lower bound)"
    assert inverse.iv_method(["gemini/x|answer@1"]) == "gemini/x|answer@1"
