"""The calibrated head of the taxonomy classifier: what a labelled source teaches it.

Given labelled problems (a source that carries its image types, such as SciGenBench), three
scorers are combined for each type:

* an embedding head: class-balanced multinomial logistic regression on the frozen MiniLM
  embeddings of the questions;
* a text head: the same regression on TF-IDF of the raw question: character 2-5-grams,
  which keep the layout cues that cleaning and word pieces lose (table markup, integral
  signs, units, column separators), beside word 1-2-grams at a lower weight (whole words
  and short phrases: "truth table", "free body");
* the zero-shot prior: the cosine to each type's description, standardised per type over
  the labelled items, so a type whose description sits far from every problem is not
  starved (without it, Plot & Chart loses to Analytic Geometry almost always).

Where the labelled items list their required visual elements, each list is one more
training example of its item's type for both heads (never a feature at labelling time:
unlabelled problems have none). ``log-score = embedding + a * text + b * prior / T``.
The subject part of the resulting type distribution can then be sharpened, and blended
with direct subject heads (:func:`_hierarchical`; by default only the sharpness is tuned,
see :class:`CalibrationSettings`), so that the subject whose types are likeliest together
decides before the type within it.

Each head's regularisation strength and the blend weights are chosen by a stratified inner
cross-validation on the labelled items alone, maximising the balanced held-out
log-likelihood (:func:`_criterion`), so nothing is tuned on the items being labelled, and a
benchmark that fits this head on k-1 folds scores the k-th honestly. Everything is
deterministic: fold assignment from a fixed seed, L-BFGS from zero.

Both regressions are L2-regularised, so their optimum lies in the span of the training
rows; the text head, with tens of thousands of n-gram features, is solved in that span
(a Cholesky factor of the training Gram matrix), n_items x n_types parameters, and its
weights are mapped back to n-gram space.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy import sparse
from scipy.linalg import solve_triangular
from scipy.optimize import minimize

__all__ = ["CalibratedHead", "CalibrationSettings", "LabelledSet", "fit_head", "stratified_folds",
           "subject_of_label", "subjects_of"]


@dataclass(frozen=True)
class CalibrationSettings:
    """Grids searched by the inner cross-validation, and the fixed parts of the model."""

    embedding_C: tuple[float, ...] = (1.0, 3.0, 10.0)
    char_C: tuple[float, ...] = (3.0, 10.0, 30.0)
    char_weights: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 1.0)
    prior_weights: tuple[float, ...] = (0.0, 0.15, 0.3, 0.45, 0.6, 0.8)
    # The hierarchical subject blend (see :func:`_hierarchical`): weight of the direct
    # subject heads against the type probabilities summed per subject, and how sharply the
    # blended subject decides before the types within it are ranked (large: the subject
    # whose types are likeliest together, then its likeliest type). The flat model
    # (weight 0, sharpness 1) is always a candidate. The direct subject heads are off by
    # default: on the SciGenBench dev split, weights (.25, .5, .75, 1) chosen in the inner
    # CV scored 0.5-1.5 points lower held out, in subject and type top-1, than weight 0;
    # the sharpness alone (the summed type probabilities deciding the subject) gained.
    subject_weights: tuple[float, ...] = (0.0,)
    subject_sharpness: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)
    # Word 1-2-gram TF-IDF beside the character n-grams in the text head, at this weight
    # (0: characters only). The text head's Gram matrix is K_char + word_weight^2 K_word.
    word_weight: float = 0.5
    prior_temperature: float = 0.05
    prior_shrinkage: float = 20.0  # pseudo-items pulling per-type prior statistics to the pooled ones
    # The labelled items also say what is in scope: a text the zero-shot "is this science"
    # gates refuse is labelled anyway when its nearest labelled question is at least as
    # close to it as this quantile of the labelled questions' own nearest-neighbour cosines
    # (each left out of its own search). None: the gates alone decide.
    scope_quantile: float | None = 0.5
    inner_folds: int = 4
    # Below this many labelled items the inner CV has too little to choose from: the middle
    # of each grid is used (and recorded as such).
    min_items_for_selection: int = 40
    # At most this many labelled items of one type calibrate (picked by a hash of the text,
    # so the choice does not depend on row order): keeps calibration fast on huge sources.
    max_per_label: int = 150
    seed: int = 0

    def __post_init__(self):
        q = self.scope_quantile
        if q is not None and not 0.0 <= q <= 1.0:
            raise ValueError(f"CalibrationSettings.scope_quantile is {q!r}: give a quantile between 0 and 1 "
                             "(0.5: as near as the median labelled question lies to its neighbour), or None to "
                             "let the zero-shot gates alone decide what is in scope")

    def as_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class LabelledSet:
    """Labelled problems to calibrate on: question texts, their types, and for each the
    required visual elements joined into one text ("" where the source lists none)."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    elements: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "texts", tuple(self.texts))
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "elements", tuple(self.elements) or ("",) * len(self.texts))
        if not (len(self.texts) == len(self.labels) == len(self.elements)):
            raise ValueError(f"LabelledSet: {len(self.texts)} texts, {len(self.labels)} labels and "
                             f"{len(self.elements)} element lists must have one entry per item")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def digest(self) -> str:
        payload = json.dumps([self.texts, self.labels, self.elements], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def capped(self, max_per_label: int) -> "LabelledSet":
        """At most ``max_per_label`` items per type: those whose text hashes lowest."""
        order = sorted(range(len(self)), key=lambda i: hashlib.sha256(self.texts[i].encode()).hexdigest())
        taken: dict[str, int] = {}
        keep = []
        for i in order:
            if taken.get(self.labels[i], 0) < max_per_label:
                taken[self.labels[i]] = taken.get(self.labels[i], 0) + 1
                keep.append(i)
        keep.sort()
        return LabelledSet(tuple(self.texts[i] for i in keep), tuple(self.labels[i] for i in keep),
                           tuple(self.elements[i] for i in keep))


def stratified_folds(labels: Sequence[str], folds: int, seed: int = 0) -> np.ndarray:
    """Deterministic stratified fold number of each item: each label's items, shuffled with
    ``seed``, are dealt round-robin over the folds."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(labels), dtype=int)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    for label in sorted(by_label):
        idx = np.array(by_label[label])
        rng.shuffle(idx)
        fold_of[idx] = np.arange(len(idx)) % folds
    return fold_of


# --------------------------------------------------------------------------- regression


def _log_softmax(s: np.ndarray) -> np.ndarray:
    s = s - s.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def _balanced_weights(y: np.ndarray) -> np.ndarray:
    counts = np.bincount(y)
    present = np.count_nonzero(counts)
    return len(y) / (present * counts[y])


def _fit_softmax(phi: np.ndarray, y: np.ndarray, n_classes: int, C: float) -> tuple[np.ndarray, np.ndarray]:
    """Class-balanced L2 multinomial logistic regression on dense features ``phi``
    (scikit-learn's objective: C x weighted cross-entropy + |W|^2 / 2). Returns (W, b) with
    scores = phi @ W + b; a class absent from ``y`` gets bias -inf (see :func:`_log_probs`)."""
    present = np.unique(y)
    yc = np.searchsorted(present, y)
    k, d = len(present), phi.shape[1]
    W, bias = np.zeros((d, n_classes)), np.full(n_classes, -np.inf)
    if k == 1:
        bias[present] = 0.0
        return W, bias
    onehot = np.zeros((len(y), k))
    onehot[np.arange(len(y)), yc] = 1.0
    w = _balanced_weights(yc)
    lam = 1.0 / C

    def loss_grad(theta):
        beta, b = theta[: d * k].reshape(d, k), theta[d * k:]
        lp = _log_softmax(phi @ beta + b)
        g = (np.exp(lp) - onehot) * w[:, None]
        loss = -(w * (onehot * lp).sum(axis=1)).sum() + 0.5 * lam * (beta * beta).sum()
        return loss, np.concatenate([(phi.T @ g + lam * beta).ravel(), g.sum(axis=0)])

    res = minimize(loss_grad, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                   options={"maxiter": 1000, "gtol": 1e-5})
    W[:, present] = res.x[: d * k].reshape(d, k)
    bias[present] = res.x[d * k:]
    return W, bias


def _span_basis(K: np.ndarray) -> np.ndarray:
    """Lower-triangular L with L @ L.T = K (+ a tiny ridge for duplicate rows): the rows of
    L are coordinates of the training rows in their own span, where an L2-regularised linear
    model on features with Gram matrix K has the same optimum as on the features."""
    jitter = 1e-9 * max(float(np.trace(K)) / max(len(K), 1), 1e-12)
    return np.linalg.cholesky(K + jitter * np.eye(len(K)))


def _span_coordinates(L: np.ndarray, K_train_new: np.ndarray) -> np.ndarray:
    """Coordinates of new rows given their kernel with the training rows (n_train x n_new)."""
    return solve_triangular(L, K_train_new, lower=True).T


def _log_probs(scores: np.ndarray) -> np.ndarray:
    """Log-probabilities over all classes. A class the head never saw (bias -inf) is given
    the mean log-probability of the seen ones, then all are renormalised: the head has no
    evidence for or against it, so only the other scorers (the prior) can rank it."""
    seen = np.isfinite(scores[0]) if len(scores) else np.ones(scores.shape[1], bool)
    out = np.empty(scores.shape)
    out[:, seen] = _log_softmax(scores[:, seen])
    out[:, ~seen] = out[:, seen].mean(axis=1, keepdims=True)
    return _log_softmax(out)


def _criterion(log_scores: np.ndarray, y: np.ndarray) -> float:
    """Balanced held-out log-likelihood: the mean over the types present of their items'
    mean log-probability of the true type, at the best of a few global temperatures of the
    scores (a sum of log-probabilities is overconfident; the temperature leaves the argmax
    alone, so the weights are judged on how well they rank, not on their scale). What the
    inner CV maximises: smoother than accuracy on a few hundred items, so the selection
    moves less from one split to the next, and balanced so small types count as much as
    big ones."""
    present = np.unique(y)
    best = -np.inf
    for scale in (0.25, 0.5, 0.75, 1.0):
        lp = _log_softmax(scale * np.asarray(log_scores, np.float64))[np.arange(len(y)), y]
        best = max(best, float(np.mean([lp[y == c].mean() for c in present])))
    return best


# --------------------------------------------------------------------------- the subject blend


def subject_of_label(label: str) -> str:
    """The subject of a "<Subject> - <Type>" label; a label without " - " is its own subject."""
    return label.split(" - ", 1)[0] if " - " in label else label


def subjects_of(labels: Sequence[str]) -> tuple[tuple[str, ...], np.ndarray]:
    """The subjects of ``labels`` (:func:`subject_of_label`) in order of first appearance,
    and the subject index of each label."""
    names: list[str] = []
    index = []
    for label in labels:
        subject = subject_of_label(label)
        if subject not in names:
            names.append(subject)
        index.append(names.index(subject))
    return tuple(names), np.array(index, dtype=int)


def _hierarchical(type_log: np.ndarray, subject_log: np.ndarray, subject_of: np.ndarray,
                  weight: float, sharpness: float) -> np.ndarray:
    """Type log-posteriors whose subject part is a blend of two views of the subject.

    The softmax p(t) of the type log-scores ``type_log``, summed per subject, gives
    P_agg(s), and within each subject p(t | s) = p(t) / P_agg(s). ``subject_log`` holds
    the direct subject heads' log-probabilities Q(s). The blended subject score is
    Z(s) = sharpness * ((1 - weight) log P_agg(s) + weight log Q(s)); the result,
    log softmax(Z)(s(t)) + log p(t | s(t)), is a distribution over the types again. With
    weight 0 and sharpness 1 it is log p(t) itself (the flat model); a larger sharpness
    puts the type argmax more surely inside the blended subject's argmax."""
    lp = _log_softmax(np.asarray(type_log, np.float64))
    agg = np.stack([np.logaddexp.reduce(lp[:, subject_of == s], axis=1)
                    for s in range(subject_log.shape[1])], axis=1)
    z = _log_softmax(sharpness * ((1.0 - weight) * agg + weight * np.asarray(subject_log, np.float64)))
    return z[:, subject_of] + lp - agg[:, subject_of]


def _decision_score(log_scores: np.ndarray, y: np.ndarray) -> float:
    """Mean of accuracy and balanced accuracy (mean recall over the classes present)."""
    pred = log_scores.argmax(axis=1)
    recalls = [float(np.mean(pred[y == c] == c)) for c in np.unique(y)]
    return 0.5 * (float(np.mean(pred == y)) + float(np.mean(recalls)))


def _criterion_with_subject(log_scores: np.ndarray, y: np.ndarray, subject_of: np.ndarray) -> float:
    """What the inner CV maximises when it tunes the subject blend: :func:`_decision_score`
    of the predicted types plus that of the subjects they imply. On decisions, not on the
    likelihood: the blend's sharpness only moves probability mass between subjects, which a
    likelihood taken at its best temperature barely sees, while it is the decisions that
    it changes."""
    pred = log_scores.argmax(axis=1)
    as_subjects = np.zeros((len(pred), subject_of.max() + 1))
    as_subjects[np.arange(len(pred)), subject_of[pred]] = 1.0
    return _decision_score(log_scores, y) + _decision_score(as_subjects, subject_of[y])


# --------------------------------------------------------------------------- the head


class TextFeatures:
    """TF-IDF of the raw question for the text head: character 2-5-grams (within word
    boundaries), and, at ``word_weight`` > 0, word 1-2-grams beside them, scaled by it."""

    def __init__(self, n_texts: int, word_weight: float = 0.0):
        from sklearn.feature_extraction.text import TfidfVectorizer

        min_df = 2 if n_texts >= 50 else 1
        self.word_weight = float(word_weight)
        self.char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                    min_df=min_df, dtype=np.float64)
        self.word = (TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=min_df,
                                     token_pattern=r"(?u)\b\w+\b", dtype=np.float64)
                     if self.word_weight > 0 else None)

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        parts = [self.char.fit_transform(texts)]
        if self.word is not None:
            parts.append(self.word_weight * self.word.fit_transform(texts))
        return sparse.hstack(parts, format="csr")

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        parts = [self.char.transform(texts)]
        if self.word is not None:
            parts.append(self.word_weight * self.word.transform(texts))
        return sparse.hstack(parts, format="csr")

    @property
    def vocabulary(self) -> list[str]:
        words = sorted(self.word.vocabulary_) if self.word is not None else []
        return [f"c:{g}" for g in sorted(self.char.vocabulary_)] + [f"w:{g}" for g in words]


@dataclass
class CalibratedHead:
    """Fitted state: the weights of the type and subject heads, the TF-IDF vocabulary, the
    prior's per-type standardisation and the chosen hyperparameters. :attr:`digest`
    identifies all of it."""

    labels: tuple[str, ...]
    chosen: dict
    emb_W: np.ndarray
    emb_b: np.ndarray
    text_features: TextFeatures
    char_W: np.ndarray
    char_b: np.ndarray
    prior_mean: np.ndarray
    prior_std: np.ndarray
    n_rows: int  # training rows: the questions, then the element lists
    subject_of: np.ndarray  # subject index of each label (see :func:`subjects_of`)
    # The direct subject heads, fitted only where the settings allow them a weight above 0.
    subj_emb_W: np.ndarray | None
    subj_emb_b: np.ndarray | None
    subj_char_W: np.ndarray | None
    subj_char_b: np.ndarray | None
    settings: CalibrationSettings = field(default_factory=CalibrationSettings)
    # The labelled questions' unit-norm embeddings and the cosine a text must reach to one
    # of them to be in scope (see :meth:`in_scope`); None where there is no threshold.
    scope_embeddings: np.ndarray | None = None
    scope_threshold: float | None = None

    @property
    def digest(self) -> str:
        h = hashlib.sha256(json.dumps({"labels": self.labels, "chosen": self.chosen, "rows": self.n_rows,
                                       "settings": self.settings.as_dict(),
                                       "scope_threshold": self.scope_threshold}, sort_keys=True).encode())
        if self.scope_embeddings is not None:
            h.update(np.round(np.asarray(self.scope_embeddings, np.float64), 4).tobytes())
        for arr in (self.emb_W, self.emb_b, self.char_W, self.char_b, self.prior_mean, self.prior_std,
                    self.subject_of, *(a for a in (self.subj_emb_W, self.subj_emb_b, self.subj_char_W,
                                                   self.subj_char_b) if a is not None)):
            h.update(np.round(np.nan_to_num(np.asarray(arr, np.float64), neginf=-1e9), 4).tobytes())
        h.update("\n".join(self.text_features.vocabulary).encode())
        return h.hexdigest()

    def in_scope(self, embeddings: np.ndarray) -> np.ndarray:
        """Which texts (by their unit-norm embeddings) lie as near a labelled question as
        the labelled questions typically lie to each other: a labelled source that holds
        bank reconciliations makes the next bank reconciliation a problem to label, even if
        no type description mentions banks. All False without a threshold."""
        embeddings = np.asarray(embeddings, np.float32)
        if self.scope_threshold is None or self.scope_embeddings is None or not len(embeddings):
            return np.zeros(len(embeddings), bool)
        return _nearest_cosines(embeddings, self.scope_embeddings) >= self.scope_threshold

    def subject_log_probs(self, embeddings: np.ndarray, prior: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """(n, n_subjects) log-probabilities of the direct subject heads."""
        if self.subj_emb_W is None:
            raise ValueError("this head has no direct subject heads: they are fitted only when "
                             "CalibrationSettings.subject_weights holds a weight above 0")
        return self._scores(embeddings, prior, texts)[1]

    def log_scores(self, embeddings: np.ndarray, prior: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """(n, n_labels) type log-posteriors after the subject blend; argmax is the
        calibrated label."""
        types, subjects = self._scores(embeddings, prior, texts)
        return _hierarchical(types, subjects, self.subject_of, self.chosen["subject_weight"],
                             self.chosen["subject_sharpness"])

    def _scores(self, embeddings, prior, texts) -> tuple[np.ndarray, np.ndarray]:
        """The blended type log-scores (before the subject blend) and the subject heads'."""
        embeddings = np.asarray(embeddings, np.float64)
        feats = self.text_features.transform(list(texts))
        types = _blend(_log_probs(embeddings @ self.emb_W + self.emb_b),
                       _log_probs(np.asarray(feats @ self.char_W + self.char_b)),
                       _standardised(prior, self.prior_mean, self.prior_std, self.settings.prior_temperature),
                       self.chosen)
        if self.subj_emb_W is None:  # no direct subject heads: the blend uses the type probabilities alone
            return types, np.zeros((len(types), int(self.subject_of.max()) + 1))
        subjects = _subject_blend(_log_probs(embeddings @ self.subj_emb_W + self.subj_emb_b),
                                  _log_probs(np.asarray(feats @ self.subj_char_W + self.subj_char_b)), self.chosen)
        return types, subjects


def _nearest_cosines(queries: np.ndarray, keys: np.ndarray, *, leave_out_self: bool = False,
                     block: int = 1024) -> np.ndarray:
    """Each query's largest cosine to a key (rows unit-norm), in blocks of queries so that
    thousands of labelled items never need the whole similarity matrix at once; with
    ``leave_out_self`` the queries are the keys and each skips itself."""
    out = np.empty(len(queries), np.float32)
    for start in range(0, len(queries), block):
        sims = np.asarray(queries[start:start + block], np.float32) @ np.asarray(keys, np.float32).T
        if leave_out_self:
            rows = np.arange(sims.shape[0])
            sims[rows, start + rows] = -np.inf
        out[start:start + block] = sims.max(axis=1)
    return out


def _scope(embeddings: np.ndarray, quantile: float | None) -> tuple[np.ndarray | None, float | None]:
    """The labelled questions' embeddings and the in-scope threshold: ``quantile`` of their
    leave-one-out nearest-neighbour cosines (None with fewer than two questions)."""
    if quantile is None or len(embeddings) < 2:
        return None, None
    keys = np.asarray(embeddings, np.float32)
    keys = keys / np.maximum(np.linalg.norm(keys, axis=1, keepdims=True), 1e-12)
    return keys, float(np.quantile(_nearest_cosines(keys, keys, leave_out_self=True), quantile))


def _blend(emb: np.ndarray, chars: np.ndarray, prior_z: np.ndarray, w: dict) -> np.ndarray:
    return emb + w["char_weight"] * chars + w["prior_weight"] * prior_z


def _subject_blend(emb: np.ndarray, chars: np.ndarray, w: dict) -> np.ndarray:
    """The direct subject heads combined as the type heads are (same text weight)."""
    return _log_softmax(emb + w["char_weight"] * chars)


def _standardised(prior: np.ndarray, mean: np.ndarray, std: np.ndarray, temperature: float) -> np.ndarray:
    """The prior's cosines standardised per type, on the scale of a cosine / temperature."""
    return (np.asarray(prior, np.float64) - mean) / std * (std.mean() / temperature)


def _prior_statistics(prior: np.ndarray, shrinkage: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-type mean and spread of the prior's cosines over the labelled items, shrunk
    towards those of all types together by ``shrinkage`` pseudo-items: with a handful of
    items the per-type figures are noise, and standardising by them would scramble the
    prior; with hundreds they are the per-type figures."""
    n = len(prior)
    mean, var = prior.mean(axis=0), prior.var(axis=0)
    w = n / (n + shrinkage)
    mean = w * mean + (1 - w) * prior.mean()
    std = np.sqrt(w * var + (1 - w) * prior.var())
    return mean, np.maximum(std, 1e-6)


def fit_head(*args, **kwargs) -> CalibratedHead:
    """:func:`_fit_head` on one BLAS thread: its matrices are small, and on a busy 2-core
    machine a threaded BLAS spends 10x longer waiting for its threads than computing."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_head(*args, **kwargs)


def _fit_head(
    label_vocab: Sequence[str],
    data: LabelledSet,
    embeddings: np.ndarray,
    prior: np.ndarray,
    element_embeddings: np.ndarray | None = None,
    settings: CalibrationSettings | None = None,
) -> CalibratedHead:
    """Fit the calibrated head on ``data`` (labels outside ``label_vocab`` are an error).

    ``embeddings``: unit-norm embeddings of ``data.texts``; ``prior``: their cosines to the
    type descriptions (n x len(label_vocab)); ``element_embeddings``: embeddings of
    ``data.elements`` (rows of items without elements are ignored)."""
    settings = settings or CalibrationSettings()
    label_vocab = tuple(label_vocab)
    unknown = sorted(set(data.labels) - set(label_vocab))
    if unknown:
        raise ValueError(f"calibration labels {unknown} are not image types; pass only labelled items "
                         "whose image_type is one of the taxonomy's labels")
    if len(data) == 0:
        raise ValueError("calibration needs at least one labelled item")
    L = len(label_vocab)
    subject_names, subject_of = subjects_of(label_vocab)
    S = len(subject_names)
    # The direct subject heads are fitted (inner CV and final) only where a weight above 0 can use them.
    with_subject_heads = any(w > 0 for w in settings.subject_weights)
    y = np.array([label_vocab.index(t) for t in data.labels])
    n = len(y)
    # Training rows of every head: each question, then the element list of each item that
    # has one (one more example of the item's type). Held-out items are scored on their
    # question rows, which come first.
    with_el = np.array([bool(e.strip()) for e in data.elements]) & (element_embeddings is not None)
    owner = np.concatenate([np.arange(n), np.flatnonzero(with_el)])
    y_rows = y[owner]
    ys_rows = subject_of[y_rows]
    X_emb = np.asarray(embeddings, np.float64)
    if with_el.any():
        X_emb = np.vstack([X_emb, np.asarray(element_embeddings, np.float64)[with_el]])
    row_texts = list(data.texts) + [data.elements[i] for i in np.flatnonzero(with_el)]
    feats = TextFeatures(len(row_texts), settings.word_weight)
    X_char = feats.fit_transform(row_texts)
    K_char = (X_char @ X_char.T).toarray()
    prior_mean, prior_std = _prior_statistics(np.asarray(prior, np.float64), settings.prior_shrinkage)
    prior_z = _standardised(prior, prior_mean, prior_std, settings.prior_temperature)

    def mid(grid):
        return grid[(len(grid) - 1) // 2]

    chosen = {"embedding_C": mid(settings.embedding_C), "char_C": mid(settings.char_C),
              "char_weight": mid(settings.char_weights), "prior_weight": mid(settings.prior_weights),
              "subject_weight": mid(settings.subject_weights), "subject_sharpness": mid(settings.subject_sharpness),
              "selected_by": "grid middle (too few labelled items for an inner CV)"}
    if n >= settings.min_items_for_selection and len(set(data.labels)) > 1:
        fold_of = stratified_folds(data.labels, settings.inner_folds, settings.seed)
        splits = [(np.flatnonzero(fold_of[owner] != f), np.flatnonzero(fold_of == f))
                  for f in range(settings.inner_folds)]

        def emb_oof(C, targets, k):
            out = np.zeros((n, k))
            for tr, te in splits:
                W, b = _fit_softmax(X_emb[tr], targets[tr], k, C)
                out[te] = _log_probs(X_emb[te] @ W + b)
            return out

        bases = []
        for tr, te in splits:
            basis = _span_basis(K_char[np.ix_(tr, tr)])
            bases.append((tr, te, basis, _span_coordinates(basis, K_char[np.ix_(tr, te)])))

        def char_oof(C, targets, k):
            out = np.zeros((n, k))
            for tr, te, basis, coords in bases:
                W, b = _fit_softmax(basis, targets[tr], k, C)
                out[te] = _log_probs(coords @ W + b)
            return out

        emb = {C: emb_oof(C, y_rows, L) for C in settings.embedding_C}
        chars = {C: char_oof(C, y_rows, L) for C in settings.char_C}
        c_emb = max(settings.embedding_C, key=lambda C: _criterion(emb[C], y))
        c_char = max(settings.char_C, key=lambda C: _criterion(chars[C], y))
        grid = [{"char_weight": a, "prior_weight": b} for a in settings.char_weights for b in settings.prior_weights]
        best = max(grid, key=lambda w: _criterion(_blend(emb[c_emb], chars[c_char], prior_z, w), y))
        types = _blend(emb[c_emb], chars[c_char], prior_z, best)
        # The subject blend, on the chosen type blend: the direct subject heads at the type
        # heads' regularisation, then the (weight, sharpness) whose types and subjects
        # score best on the inner folds. Weight 0 / sharpness 1 (the flat model) is in
        # the grid, so the blend is only used where it helps there.
        flat = {"subject_weight": 0.0, "subject_sharpness": 1.0}
        sgrid = [{"subject_weight": w, "subject_sharpness": k}
                 for w in settings.subject_weights for k in settings.subject_sharpness]
        sgrid = [flat] + [g for g in sgrid if g != flat]  # ties go to the flat model
        # (At weight 0 the subject heads are not used: their inner-CV fits are skipped then.)
        subjects = (_subject_blend(emb_oof(c_emb, ys_rows, S), char_oof(c_char, ys_rows, S), best)
                    if with_subject_heads else np.zeros((n, S)))

        def subject_score(g):
            return _criterion_with_subject(
                _hierarchical(types, subjects, subject_of, g["subject_weight"], g["subject_sharpness"]),
                y, subject_of)

        sbest = max(sgrid, key=subject_score)
        chosen = {"embedding_C": c_emb, "char_C": c_char, **best, **sbest,
                  "selected_by": f"{settings.inner_folds}-fold inner CV on the labelled items",
                  "inner_cv_score": round(_criterion(types, y), 4),
                  "inner_cv_subject_score": round(subject_score(sbest), 4)}
    emb_W, emb_b = _fit_softmax(X_emb, y_rows, L, chosen["embedding_C"])
    basis = _span_basis(K_char)
    to_ngrams = sparse.csr_matrix(X_char).T  # span coefficients back to n-gram space
    beta, char_b = _fit_softmax(basis, y_rows, L, chosen["char_C"])
    char_W = to_ngrams @ solve_triangular(basis.T, beta, lower=False)
    subj_emb_W = subj_emb_b = subj_char_W = subj_char_b = None
    if with_subject_heads:
        subj_emb_W, subj_emb_b = _fit_softmax(X_emb, ys_rows, S, chosen["embedding_C"])
        beta_s, subj_char_b = _fit_softmax(basis, ys_rows, S, chosen["char_C"])
        subj_char_W = np.asarray(to_ngrams @ solve_triangular(basis.T, beta_s, lower=False))
    scope_embeddings, scope_threshold = _scope(embeddings, settings.scope_quantile)
    return CalibratedHead(
        labels=label_vocab, chosen=chosen, emb_W=emb_W, emb_b=emb_b, text_features=feats,
        char_W=np.asarray(char_W), char_b=char_b, prior_mean=prior_mean, prior_std=prior_std, n_rows=len(y_rows),
        subject_of=subject_of, subj_emb_W=subj_emb_W, subj_emb_b=subj_emb_b, subj_char_W=subj_char_W,
        subj_char_b=subj_char_b, settings=settings, scope_embeddings=scope_embeddings,
        scope_threshold=scope_threshold,
    )
