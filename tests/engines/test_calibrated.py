"""The calibrated head: its regressions held against scikit-learn's, its selection and its
bookkeeping on small synthetic data (no sentence model: these run in well under a second)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from scigen_dagster.engines.calibrated import (
    CalibrationSettings,
    LabelledSet,
    TextFeatures,
    _criterion,
    _criterion_with_subject,
    _fit_softmax,
    _hierarchical,
    _log_probs,
    _span_basis,
    _span_coordinates,
    fit_head,
    stratified_folds,
    subjects_of,
)

LABELS = ("A - one", "A - two", "B - three", "B - four")


def _blobs(n_per: int, seed: int, d: int = 12, draw: int = 0):
    """Points around four class centres fixed by ``seed``; ``draw`` picks the noise."""
    centres = np.random.default_rng(seed).normal(size=(len(LABELS), d))
    y = np.repeat(np.arange(len(LABELS)), n_per)
    X = centres[y] + 0.9 * np.random.default_rng([seed, draw]).normal(size=(len(y), d))
    return X / np.linalg.norm(X, axis=1, keepdims=True), y


def test_softmax_regression_matches_scikit_learn():
    X, y = _blobs(15, 0)
    y = y[: 15 * 3 + 4]  # unbalanced: the last class has 4 items
    X = X[: len(y)]
    for C in (0.3, 3.0):
        W, b = _fit_softmax(X, y, len(LABELS), C)
        ref = LogisticRegression(C=C, class_weight="balanced", max_iter=10_000, tol=1e-10).fit(X, y)
        ours = np.exp(_log_probs(X @ W + b))
        assert np.abs(ours - ref.predict_proba(X)).max() < 1e-3, C


def test_solving_in_the_span_of_sparse_features_is_the_full_regression():
    """The character head is solved on a Cholesky basis of its Gram matrix; mapped back, it
    must give scikit-learn's regression on the sparse features themselves."""
    rng = np.random.default_rng(1)
    X = sparse.random(40, 300, density=0.05, random_state=2, format="csr") + sparse.eye(40, 300, format="csr")
    y = rng.integers(0, 3, size=40)
    new = sparse.random(7, 300, density=0.05, random_state=3, format="csr")
    K = (X @ X.T).toarray()
    basis = _span_basis(K)
    beta, b = _fit_softmax(basis, y, 3, 2.0)
    span_scores = _span_coordinates(basis, (X @ new.T).toarray()) @ beta + b
    ref = LogisticRegression(C=2.0, class_weight="balanced", max_iter=10_000, tol=1e-10).fit(X, y)
    ref_scores = ref.decision_function(new)
    shift = lambda s: s - s.mean(axis=1, keepdims=True)  # noqa: E731 (logits are defined up to a constant)
    assert np.abs(shift(span_scores) - shift(ref_scores)).max() < 2e-3


def test_a_class_never_seen_is_neither_favoured_nor_ruled_out():
    """A type missing from the labelled items gets the mean log-probability of the seen
    ones: the head says nothing about it, and the prior can still pick it."""
    X, y = _blobs(6, 4)
    seen = y != 3
    W, b = _fit_softmax(X[seen], y[seen], len(LABELS), 1.0)
    lp = _log_probs(X @ W + b)
    assert np.allclose(np.exp(lp).sum(axis=1), 1.0)
    assert np.allclose(lp[:, 3], lp[:, :3].mean(axis=1))
    assert (lp[:, :3].max(axis=1) > lp[:, 3]).all() and (lp[:, :3].min(axis=1) < lp[:, 3]).all()


def test_stratified_folds_are_deterministic_and_balanced():
    labels = ["x"] * 9 + ["y"] * 4 + ["z"]
    folds = stratified_folds(labels, 4, seed=0)
    assert (folds == stratified_folds(labels, 4, seed=0)).all()
    assert not (folds == stratified_folds(labels, 4, seed=1)).all()
    for label, n in (("x", 9), ("y", 4)):
        counts = np.bincount(folds[np.array(labels) == label], minlength=4)
        assert counts.max() - counts.min() <= 1 and counts.sum() == n


def _labelled(n_per: int, seed: int, draw: int = 0):
    X, y = _blobs(n_per, seed, draw=draw)
    words = ["alpha beta", "gamma delta", "epsilon zeta", "eta theta"]
    texts = tuple(f"{words[c]} item {i}" for i, c in enumerate(y))
    return LabelledSet(texts, tuple(LABELS[c] for c in y)), X, y


def test_fit_head_selects_by_inner_cv_and_classifies_held_out_items():
    data, X, y = _labelled(15, 5)
    prior = np.zeros((len(y), len(LABELS)))  # an uninformative prior
    head = fit_head(LABELS, data, X, prior)
    assert head.chosen["selected_by"].startswith("4-fold inner CV")
    s = CalibrationSettings()
    assert head.chosen["embedding_C"] in s.embedding_C and head.chosen["char_C"] in s.char_C
    assert head.chosen["char_weight"] in s.char_weights and head.chosen["prior_weight"] in s.prior_weights
    assert head.chosen["subject_weight"] in s.subject_weights
    assert head.chosen["subject_sharpness"] in s.subject_sharpness
    test, Xt, yt = _labelled(5, 5, draw=1)  # the same class centres, other points around them
    scores = head.log_scores(Xt, np.zeros((len(yt), len(LABELS))), list(test.texts))
    assert np.mean(scores.argmax(axis=1) == yt) >= 0.9
    # Deterministic: the same data gives the same fitted state.
    assert fit_head(LABELS, data, X, prior).digest == head.digest


def test_fit_head_state_follows_its_data_and_rejects_unknown_labels():
    data, X, y = _labelled(3, 6)  # 12 items: too few for an inner CV
    prior = np.zeros((len(y), len(LABELS)))
    head = fit_head(LABELS, data, X, prior)
    assert head.chosen["selected_by"].startswith("grid middle")
    relabelled = LabelledSet(data.texts, (LABELS[1],) + data.labels[1:])
    assert relabelled.digest != data.digest
    assert fit_head(LABELS, relabelled, X, prior).digest != head.digest
    with pytest.raises(ValueError, match="not image types"):
        fit_head(LABELS, LabelledSet(data.texts, ("Z - nope",) + data.labels[1:]), X, prior)


def test_elements_add_examples_and_the_cap_keeps_the_set_order_free():
    data, X, y = _labelled(15, 7)
    with_el = LabelledSet(data.texts, data.labels, tuple(f"element {t}" for t in data.texts))
    prior = np.zeros((len(y), len(LABELS)))
    plain = fit_head(LABELS, data, X, prior)
    extra = fit_head(LABELS, with_el, X, prior, element_embeddings=X[::-1])
    assert extra.n_rows == 2 * len(y) and plain.n_rows == len(y)
    capped = with_el.capped(4)
    assert len(capped) == 4 * len(LABELS) and set(capped.labels) == set(LABELS)
    order = np.random.default_rng(0).permutation(len(data))
    shuffled = LabelledSet(tuple(with_el.texts[i] for i in order), tuple(with_el.labels[i] for i in order),
                           tuple(with_el.elements[i] for i in order))
    assert set(shuffled.capped(4).texts) == set(capped.texts)
    with pytest.raises(ValueError, match="one entry per item"):
        LabelledSet(("a", "b"), ("A - one",))


def test_subjects_follow_the_label_prefix_in_order_of_appearance():
    names, index = subjects_of(("B - x", "A - y", "B - z", "Lonely"))
    assert names == ("B", "A", "Lonely")
    assert index.tolist() == [0, 1, 0, 2]


def test_the_subject_blend_at_weight_zero_and_sharpness_one_is_the_flat_model():
    rng = np.random.default_rng(0)
    types, subjects = rng.normal(size=(9, 4)), np.log(rng.dirichlet(np.ones(2), size=9))
    _, subject_of = subjects_of(LABELS)
    flat = _hierarchical(types, subjects, subject_of, 0.0, 1.0)
    assert np.allclose(flat, types - np.logaddexp.reduce(types, axis=1, keepdims=True))
    for weight, sharpness in ((0.5, 1.0), (1.0, 3.0), (0.25, 10.0)):
        out = _hierarchical(types, subjects, subject_of, weight, sharpness)
        assert np.allclose(np.exp(out).sum(axis=1), 1.0)
        # Within a subject the types keep their flat ratios; only the subject mass moves.
        assert np.allclose(out[:, 0] - out[:, 1], flat[:, 0] - flat[:, 1])
        assert np.allclose(out[:, 2] - out[:, 3], flat[:, 2] - flat[:, 3])


def test_the_subject_blend_lets_the_direct_subject_head_overrule_scattered_types():
    """Subject A's mass is split over its two types (0.3 + 0.3), and type "B - three"
    alone (0.4) wins the flat argmax. Summed per subject A leads (0.6 vs 0.4), and a sharp
    subject decision, or a direct subject head that is sure of A, moves the type argmax
    into A; a direct head sure of B keeps it in B."""
    _, subject_of = subjects_of(LABELS)
    types = np.log([[0.3, 0.3, 0.4, 1e-9]])
    unsure = np.log([[0.5, 0.5]])
    assert _hierarchical(types, unsure, subject_of, 0.0, 1.0).argmax() == 2
    assert _hierarchical(types, unsure, subject_of, 0.0, 4.0).argmax() in (0, 1)
    assert _hierarchical(types, np.log([[0.9, 0.1]]), subject_of, 1.0, 1.0).argmax() in (0, 1)
    assert _hierarchical(types, np.log([[0.1, 0.9]]), subject_of, 1.0, 1.0).argmax() == 2
    # The subject criterion sees the difference: the true type is "A - one".
    y = np.array([0])
    assert (_criterion_with_subject(_hierarchical(types, unsure, subject_of, 0.0, 4.0), y, subject_of)
            > _criterion_with_subject(types, y, subject_of))


def test_the_criterion_is_a_balanced_likelihood_blind_to_the_scale():
    y = np.array([0, 0, 0, 1])
    good = np.log([[0.8, 0.2]] * 3 + [[0.3, 0.7]])
    assert _criterion(good, y) > _criterion(good[:, ::-1], y)
    # Doubling the scores (an overconfident sum of log-probabilities) is not punished: the
    # criterion takes the best of its temperatures.
    assert _criterion(2 * good, y) >= _criterion(good, y) - 1e-12
    # Balanced: the one item of class 1 weighs as much as the three of class 0.
    miss_small = np.log([[0.8, 0.2]] * 4)
    miss_big = np.log([[0.8, 0.2]] * 2 + [[0.2, 0.8]] * 2)
    assert _criterion(miss_small, y) < _criterion(miss_big, y)


def test_word_ngrams_join_the_character_ngrams_at_their_weight():
    texts = ["the table lists masses", "a plot of speed against time", "the table of speed", "time plot"]
    chars = TextFeatures(len(texts)).fit_transform(texts)
    both = TextFeatures(len(texts), word_weight=0.5)
    X = both.fit_transform(texts)
    words = X[:, chars.shape[1]:]
    assert np.allclose(X[:, : chars.shape[1]].toarray(), chars.toarray())
    assert np.allclose(np.sqrt(np.asarray(words.multiply(words).sum(axis=1))), 0.5)  # unit rows, scaled
    assert "w:table" in both.vocabulary and "w:speed against" in both.vocabulary
    gram = (X @ X.T).toarray()
    assert np.allclose(gram, (chars @ chars.T).toarray() + (words @ words.T).toarray())
    assert np.allclose(both.transform(texts[:1]).toarray(), X[:1].toarray())


def test_a_fitted_head_with_the_subject_blend_scores_through_it():
    data, X, y = _labelled(15, 8)
    prior = np.zeros((len(y), len(LABELS)))
    settings = CalibrationSettings(subject_weights=(0.0, 1.0), subject_sharpness=(1.0, 3.0))
    head = fit_head(LABELS, data, X, prior, settings=settings)
    assert head.chosen["subject_weight"] in (0.0, 1.0) and head.chosen["subject_sharpness"] in (1.0, 3.0)
    assert "inner_cv_subject_score" in head.chosen
    test, Xt, yt = _labelled(5, 8, draw=1)
    texts, prior_t = list(test.texts), np.zeros((len(yt), len(LABELS)))
    types, subjects = head._scores(Xt, prior_t, texts)
    assert np.allclose(head.log_scores(Xt, prior_t, texts),
                       _hierarchical(types, subjects, head.subject_of, head.chosen["subject_weight"],
                                     head.chosen["subject_sharpness"]))
    # The direct subject heads learn the subjects ("A" for types 0-1, "B" for 2-3).
    assert np.mean(head.subject_log_probs(Xt, prior_t, texts).argmax(axis=1) == head.subject_of[yt]) >= 0.9
    # The subject heads are fitted state: they are in the digest.
    nudged = dataclasses.replace(head, subj_emb_W=head.subj_emb_W + 0.01)
    assert nudged.digest != head.digest
    assert dataclasses.replace(head).digest == head.digest


def test_the_labelled_questions_set_the_scope_at_their_own_nearest_neighbour_cosine():
    """The in-scope threshold is the median of the labelled questions' leave-one-out
    nearest-neighbour cosines, computed here by brute force; a text that close to a labelled
    question is in scope, a direction far from all of them is not, and without a quantile
    nothing is."""
    data, X, y = _labelled(10, 7)
    prior = np.zeros((len(y), len(LABELS)))
    head = fit_head(LABELS, data, X, prior)
    sims = X @ X.T
    np.fill_diagonal(sims, -np.inf)
    assert head.scope_threshold == pytest.approx(float(np.median(sims.max(axis=1))), abs=1e-5)
    near = X[:3] + 0.01 * np.random.default_rng(1).normal(size=X[:3].shape)
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    far = -X.mean(axis=0, keepdims=True)
    far /= np.linalg.norm(far)
    assert (X @ far.T).max() < head.scope_threshold  # the check below is not vacuous
    assert head.in_scope(near).all() and not head.in_scope(far).any()
    # Blocks of queries give the same answer as one product.
    from scigen_dagster.engines.calibrated import _nearest_cosines
    assert np.allclose(_nearest_cosines(near, X, block=2), (near @ X.T).max(axis=1), atol=1e-6)
    off = fit_head(LABELS, data, X, prior, settings=CalibrationSettings(scope_quantile=None))
    assert off.scope_threshold is None and not off.in_scope(near).any()
    assert off.digest != head.digest
    with pytest.raises(ValueError, match="scope_quantile is 1.5: give a quantile between 0 and 1"):
        CalibrationSettings(scope_quantile=1.5)
