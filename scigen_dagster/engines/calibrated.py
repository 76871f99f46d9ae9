"""The calibrated head of the taxonomy classifier: what a labelled source teaches it.

Given labelled problems (a source that carries its image types, such as SciGenBench), three
scorers are combined for each type:

* an embedding head: class-balanced multinomial logistic regression on the frozen MiniLM
  embeddings of the questions;
* a character head: the same regression on character 2-5-gram TF-IDF of the raw question,
  which keeps the layout cues that cleaning and word pieces lose (table markup, integral
  signs, units, column separators);
* the zero-shot prior: the cosine to each type's description, standardised per type over
  the labelled items, so a type whose description sits far from every problem is not
  starved (without it, Plot & Chart loses to Analytic Geometry almost always).

Where the labelled items list their required visual elements, each list is one more
training example of its item's type for both heads (never a feature at labelling time:
unlabelled problems have none). ``log-score = embedding + a * character + b * prior / T``.
Each head's regularisation strength and the blend weights ``(a, b)`` are chosen by a stratified inner cross-validation on the labelled items alone, so nothing
is tuned on the items being labelled, and a benchmark that fits this head on k-1 folds
scores the k-th honestly. Everything is deterministic: fold assignment from a fixed seed,
L-BFGS from zero.

Both regressions are L2-regularised, so their optimum lies in the span of the training
rows; the character head, with tens of thousands of n-gram features, is solved in that span
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

__all__ = ["CalibratedHead", "CalibrationSettings", "LabelledSet", "fit_head", "stratified_folds"]


@dataclass(frozen=True)
class CalibrationSettings:
    """Grids searched by the inner cross-validation, and the fixed parts of the model."""

    embedding_C: tuple[float, ...] = (1.0, 3.0, 10.0)
    char_C: tuple[float, ...] = (3.0, 10.0, 30.0)
    char_weights: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
    prior_weights: tuple[float, ...] = (0.0, 0.15, 0.3, 0.45, 0.6, 0.8)
    prior_temperature: float = 0.05
    prior_shrinkage: float = 20.0  # pseudo-items pulling per-type prior statistics to the pooled ones
    inner_folds: int = 4
    # Below this many labelled items the inner CV has too little to choose from: the middle
    # of each grid is used (and recorded as such).
    min_items_for_selection: int = 40
    # At most this many labelled items of one type calibrate (picked by a hash of the text,
    # so the choice does not depend on row order): keeps calibration fast on huge sources.
    max_per_label: int = 150
    seed: int = 0

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
    """Mean of accuracy and balanced accuracy (mean recall over the types present): what
    the inner CV maximises, so that small types are not traded away for big ones."""
    pred = log_scores.argmax(axis=1)
    recalls = [float(np.mean(pred[y == c] == c)) for c in np.unique(y)]
    return 0.5 * (float(np.mean(pred == y)) + float(np.mean(recalls)))


# --------------------------------------------------------------------------- the head


@dataclass
class CalibratedHead:
    """Fitted state: the weights of the heads, the TF-IDF vocabulary, the prior's per-type
    standardisation and the chosen hyperparameters. :attr:`digest` identifies all of it."""

    labels: tuple[str, ...]
    chosen: dict
    emb_W: np.ndarray
    emb_b: np.ndarray
    char_vectorizer: object
    char_W: np.ndarray
    char_b: np.ndarray
    prior_mean: np.ndarray
    prior_std: np.ndarray
    n_rows: int  # training rows: the questions, then the element lists
    settings: CalibrationSettings = field(default_factory=CalibrationSettings)

    @property
    def digest(self) -> str:
        h = hashlib.sha256(json.dumps({"labels": self.labels, "chosen": self.chosen, "rows": self.n_rows,
                                       "settings": self.settings.as_dict()}, sort_keys=True).encode())
        for arr in (self.emb_W, self.emb_b, self.char_W, self.char_b, self.prior_mean, self.prior_std):
            h.update(np.round(np.nan_to_num(np.asarray(arr, np.float64), neginf=-1e9), 4).tobytes())
        h.update("\n".join(sorted(self.char_vectorizer.vocabulary_)).encode())
        return h.hexdigest()

    def log_scores(self, embeddings: np.ndarray, prior: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """(n, n_labels) blended log-scores; argmax is the calibrated label."""
        embeddings = np.asarray(embeddings, np.float64)
        chars = np.asarray(self.char_vectorizer.transform(list(texts)) @ self.char_W + self.char_b)
        return _blend(_log_probs(embeddings @ self.emb_W + self.emb_b), _log_probs(chars),
                      _standardised(prior, self.prior_mean, self.prior_std, self.settings.prior_temperature),
                      self.chosen)


def _blend(emb: np.ndarray, chars: np.ndarray, prior_z: np.ndarray, w: dict) -> np.ndarray:
    return emb + w["char_weight"] * chars + w["prior_weight"] * prior_z


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


def _vectorizer(n_texts: int):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                           min_df=2 if n_texts >= 50 else 1, dtype=np.float64)


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
    y = np.array([label_vocab.index(t) for t in data.labels])
    n = len(y)
    # Training rows of every head: each question, then the element list of each item that
    # has one (one more example of the item's type). Held-out items are scored on their
    # question rows, which come first.
    with_el = np.array([bool(e.strip()) for e in data.elements]) & (element_embeddings is not None)
    owner = np.concatenate([np.arange(n), np.flatnonzero(with_el)])
    y_rows = y[owner]
    X_emb = np.asarray(embeddings, np.float64)
    if with_el.any():
        X_emb = np.vstack([X_emb, np.asarray(element_embeddings, np.float64)[with_el]])
    row_texts = list(data.texts) + [data.elements[i] for i in np.flatnonzero(with_el)]
    vec = _vectorizer(len(row_texts))
    X_char = vec.fit_transform(row_texts)
    K_char = (X_char @ X_char.T).toarray()
    prior_mean, prior_std = _prior_statistics(np.asarray(prior, np.float64), settings.prior_shrinkage)
    prior_z = _standardised(prior, prior_mean, prior_std, settings.prior_temperature)

    def mid(grid):
        return grid[(len(grid) - 1) // 2]

    chosen = {"embedding_C": mid(settings.embedding_C), "char_C": mid(settings.char_C),
              "char_weight": mid(settings.char_weights), "prior_weight": mid(settings.prior_weights),
              "selected_by": "grid middle (too few labelled items for an inner CV)"}
    if n >= settings.min_items_for_selection and len(set(data.labels)) > 1:
        fold_of = stratified_folds(data.labels, settings.inner_folds, settings.seed)
        splits = [(np.flatnonzero(fold_of[owner] != f), np.flatnonzero(fold_of == f))
                  for f in range(settings.inner_folds)]

        def emb_oof(C):
            out = np.zeros((n, L))
            for tr, te in splits:
                W, b = _fit_softmax(X_emb[tr], y_rows[tr], L, C)
                out[te] = _log_probs(X_emb[te] @ W + b)
            return out

        bases = []
        for tr, te in splits:
            basis = _span_basis(K_char[np.ix_(tr, tr)])
            bases.append((tr, te, basis, _span_coordinates(basis, K_char[np.ix_(tr, te)])))

        def char_oof(C):
            out = np.zeros((n, L))
            for tr, te, basis, coords in bases:
                W, b = _fit_softmax(basis, y_rows[tr], L, C)
                out[te] = _log_probs(coords @ W + b)
            return out

        emb = {C: emb_oof(C) for C in settings.embedding_C}
        chars = {C: char_oof(C) for C in settings.char_C}
        c_emb = max(settings.embedding_C, key=lambda C: _criterion(emb[C], y))
        c_char = max(settings.char_C, key=lambda C: _criterion(chars[C], y))
        grid = [{"char_weight": a, "prior_weight": b} for a in settings.char_weights for b in settings.prior_weights]
        best = max(grid, key=lambda w: _criterion(_blend(emb[c_emb], chars[c_char], prior_z, w), y))
        chosen = {"embedding_C": c_emb, "char_C": c_char, **best,
                  "selected_by": f"{settings.inner_folds}-fold inner CV on the labelled items",
                  "inner_cv_score": round(_criterion(_blend(emb[c_emb], chars[c_char], prior_z, best), y), 4)}
    emb_W, emb_b = _fit_softmax(X_emb, y_rows, L, chosen["embedding_C"])
    basis = _span_basis(K_char)
    beta, char_b = _fit_softmax(basis, y_rows, L, chosen["char_C"])
    char_W = sparse.csr_matrix(X_char).T @ solve_triangular(basis.T, beta, lower=False)  # back to n-gram space
    return CalibratedHead(
        labels=label_vocab, chosen=chosen, emb_W=emb_W, emb_b=emb_b, char_vectorizer=vec,
        char_W=np.asarray(char_W), char_b=char_b, prior_mean=prior_mean, prior_std=prior_std, n_rows=len(y_rows), settings=settings,
    )
