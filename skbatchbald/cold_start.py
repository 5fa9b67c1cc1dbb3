"""A first batch without a model: TypiClust, a typicality pick over clusters.

Every posterior strategy needs a fitted model, so none can choose the very first
labels. :class:`TypiClustQuery` looks only at the inputs (or an embedding of
them) and never calls the learner's model: it works on an unfitted learner, and
after the first ``teach`` a posterior strategy such as
:class:`~skbatchbald.BatchBALDQuery` can take over.
"""

import contextlib
import re
import warnings
from collections.abc import Mapping

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, clone
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.exceptions import NotFittedError
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_array, check_is_fitted

from ._arrays import is_torch_dataset, subsample_pool
from ._missing import has_missing
from ._pickled_version import VersionedPickle
from ._validation import (
    call_context,
    call_generator,
    check_int,
    check_random_state,
    count_rows,
    draw_seed,
    nonfinite_rows_message,
)
from ._warnings import SkbatchbaldWarning, user_stacklevel

__all__ = ["TypiClustQuery"]

# Hacohen et al. cluster with KMeans up to 50 clusters and with MiniBatchKMeans
# beyond, where full KMeans gets slow.
_MAX_FULL_KMEANS = 50
# Above this many pool points a call without pool_subsample is warned about:
# 10^5 points took 6 s, 10^6 points 363 s (cold_start.rst).
_SLOW_POOL = 300_000


def _typicality(Z, n_neighbors):
    """1 / mean distance of each row of ``Z`` to its ``n_neighbors`` nearest rows.

    Rows other than itself; a lone row has typicality 0 and exact duplicates
    +inf.
    """
    k = min(n_neighbors, Z.shape[0] - 1)
    if k == 0:
        return np.zeros(Z.shape[0])
    # kneighbors() without X leaves each row out of its own neighbours.
    distances, _ = NearestNeighbors(n_neighbors=k).fit(Z).kneighbors()
    with np.errstate(divide="ignore"):
        return 1.0 / distances.mean(axis=1)


def _is_text(X):
    """Whether X holds strings or other objects: raw inputs, not features."""
    if hasattr(X, "dtype"):
        # pandas' extension dtypes carry a kind too: "O" for its str dtype
        # (pandas 3's default for text) and categories
        return getattr(X.dtype, "kind", "O") in "OSU"
    first = next(iter(X), None) if isinstance(X, (list, tuple)) else None
    return isinstance(first, (str, bytes)) or (
        isinstance(first, (list, tuple)) and first and isinstance(first[0], str)
    )


def _non_numeric_columns(X):
    """The columns of a table X that hold strings or categories, or an empty list.

    Column names for a DataFrame, positions for a 2-D array or a list of rows;
    empty where X is no table (1-D raw inputs such as texts, images) or where
    every column is numeric.
    """
    dtypes = getattr(X, "dtypes", None)
    if hasattr(dtypes, "items"):  # a DataFrame: pandas dtypes carry a kind
        return [
            column
            for column, dtype in dtypes.items()
            if getattr(dtype, "kind", "O") not in "biuf"
        ]
    try:
        array = np.asarray(X) if hasattr(X, "dtype") else np.asarray(X, dtype=object)
    except (TypeError, ValueError):  # ragged rows
        return []
    if array.ndim != 2 or array.dtype.kind not in "OSU":
        return []
    if array.dtype.kind in "SU":
        return list(range(array.shape[1]))
    is_string = np.frompyfunc(lambda value: isinstance(value, (str, bytes)), 1, 1)
    return np.flatnonzero(is_string(array).astype(bool).any(axis=0)).tolist()


def _date_columns(X):
    """The datetime and timedelta columns of a DataFrame X, or an empty list."""
    dtypes = getattr(X, "dtypes", None)
    if not hasattr(dtypes, "items"):
        return []
    return [c for c, dtype in dtypes.items() if getattr(dtype, "kind", "O") in "mM"]


def _encoding_embedding(columns, missing, dates=()):
    """An embedding that encodes ``columns`` and scales the rest, as code.

    With ``missing``, both sides impute first: an encoder alone leaves the
    numeric columns' NaN, and an imputer alone cannot read the strings. The
    encoder ignores categories it was not fitted on: it is fitted on the pool,
    and the labelled rows (left out of the pool) may hold others. The
    ``dates`` among ``columns`` are dropped: one-hot encoded, every date
    would be a category of its own.
    """
    encoder = "OneHotEncoder(handle_unknown='ignore')"
    scaler = "StandardScaler()"
    if missing:
        encoder = f"make_pipeline(SimpleImputer(strategy='most_frequent'), {encoder})"
        scaler = f"make_pipeline(SimpleImputer(), {scaler})"
    categories = [c for c in columns if c not in dates]
    parts = [f"({encoder}, {categories!r})"] if categories else []
    parts += [f"('drop', {list(dates)!r})"] if dates else []
    return f"make_column_transformer({', '.join(parts)}, remainder={scaler})"


def _encode_columns_hint(columns, missing=False, dates=()):
    """How to encode ``columns`` for TypiClust: an embedding that one-hot encodes.

    ``missing``: whether the inputs also hold missing values, to be imputed;
    ``dates``: the date columns among ``columns``, left out.
    """
    dates = [c for c in dates if c in columns]
    return (
        "encode them with embedding= (an unfitted transformer is fitted on "
        "X_pool, without labels, at each call), e.g. "
        f"embedding={_encoding_embedding(columns, missing, dates)}, or the front "
        "learner.estimator[:-1] of a Pipeline that already encodes them"
        + (" (and imputes the missing values)" if missing else "")
        + (
            f"; it leaves out the date and time columns {dates!r}: to measure "
            "distances on them, make them numbers first (e.g. days since the "
            "earliest, (X[c] - X[c].min()).dt.days)"
            if dates
            else ""
        )
    )


def _non_numeric_message(what, columns, missing=False, dates=()):
    """The error for inputs ``what`` whose ``columns`` are not numeric."""
    return (
        f"{what} has non-numeric columns {columns!r}, and TypiClustQuery "
        "measures distances between rows of numeric features: "
        f"{_encode_columns_hint(columns, missing, dates)}."
    )


class TypiClustQuery(VersionedPickle, BaseEstimator):
    """TypiClust: the most typical point of each uncovered k-means cluster.

    A cold-start strategy: it needs no labels and never calls the learner's
    model, so it can pick the first batch for an unfitted learner. The inputs
    (or their embedding), labelled and unlabelled together, are split by
    k-means into ``n_labelled + n_instances`` clusters; clusters without a
    labelled point are visited largest first, and each gives its most typical
    pool point, typicality being the inverse mean distance to the point's
    ``n_neighbors`` nearest neighbours in its cluster. The batch covers the
    dense regions of the pool, one pick per region, and avoids outliers.

    Parameters
    ----------
    embedding : None, callable or transformer, default=None
        Where distances are measured. None: the inputs themselves, each row
        flattened (numeric arrays, DataFrames, tensors or sparse matrices). A
        callable: ``embedding(X)`` returns an array of shape (n, n_features),
        e.g. a frozen network's penultimate layer. A scikit-learn transformer
        (an object with ``transform``, e.g. a ``StandardScaler``, a ``PCA`` or
        the fitted front ``learner.estimator[:-1]`` of a Pipeline): used as is
        if fitted, otherwise a clone is fitted, without labels, on ``X_pool``
        at each call. Inputs with non-numeric columns (strings, categories)
        need one that encodes them, e.g.
        ``make_column_transformer((OneHotEncoder(handle_unknown="ignore"),
        ["city"]), remainder=StandardScaler())``, with a ``SimpleImputer``
        before the encoder and the scaler where values are missing; without it
        they are a ``ValueError`` that names the columns and the embedding.
    n_neighbors : int, default=20
        Neighbours of the typicality estimate (fewer in clusters that have
        fewer other points).
    min_cluster_size : int, default=5
        Clusters with fewer points are visited only after every larger cluster
        has run out of pool points: a few isolated points are outliers, not a
        region worth a label.
    max_clusters : int, default=500
        Upper bound on the number of clusters once many labels exist (never
        below ``n_instances``); clustering cost grows with it.
    pool_subsample : int, default=None
        Embed, cluster and pick from a random subset of this many pool points
        only (the labelled points always count); the returned indices still
        refer to the full pool. Typicality compares each point with every
        other point of its cluster, so its cost grows with the square of the
        cluster sizes: on 10^6 points, a subset of 10^5 keeps a cold start to
        seconds.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds k-means and the pool subset. An int repeats the call's draws for
        the same pool and labelled set, and draws afresh for another.

    See Also
    --------
    RandomQuery : The other strategy that needs no fitted model.
    BatchBALDQuery : What to switch to once the learner has been taught.

    Notes
    -----
    Hacohen, Dekel & Weinshall, "Active Learning on a Budget: Opposite
    Strategies Suit High and Low Budgets", ICML 2022 (TypiClust). The paper
    clusters self-supervised embeddings; on raw inputs the clusters are only as
    meaningful as the inputs' distances, so scale or embed them first (pass
    ``embedding``). Clusters are formed with :class:`~sklearn.cluster.KMeans`
    up to 50 clusters and :class:`~sklearn.cluster.MiniBatchKMeans` beyond, as
    in the paper. Labelled points are read from ``learner.X_training`` where
    the learner has one (modAL learners do); other learners count as having
    none.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbatchbald import ActiveLearner, BatchBALDQuery, TypiClustQuery
    >>> X, y = load_digits(return_X_y=True)
    >>> learner = ActiveLearner(  # no labels, no fitted model
    ...     RandomForestClassifier(100, min_samples_leaf=3, random_state=0),
    ...     query_strategy=TypiClustQuery(random_state=0),
    ... )
    >>> idx, rows = learner.query(X, n_instances=10)
    >>> learner.teach(rows, y[idx])  # the first fit
    >>> learner.query_strategy = BatchBALDQuery(random_state=0)
    >>> idx, rows = learner.query(X, n_instances=5)
    >>> idx.shape
    (5,)
    """

    def __init__(
        self,
        *,
        embedding=None,
        n_neighbors=20,
        min_cluster_size=5,
        max_clusters=500,
        pool_subsample=None,
        random_state=None,
    ):
        self.embedding = embedding
        self.n_neighbors = n_neighbors
        self.min_cluster_size = min_cluster_size
        self.max_clusters = max_clusters
        self.pool_subsample = pool_subsample
        self.random_state = random_state

    def _check_params(self):
        check_int(self.n_neighbors, "n_neighbors")
        check_int(self.min_cluster_size, "min_cluster_size")
        check_int(self.max_clusters, "max_clusters")
        if self.pool_subsample is not None:
            check_int(self.pool_subsample, "pool_subsample", hint="or None")
        embedding = self.embedding
        if not (
            embedding is None or callable(embedding) or hasattr(embedding, "transform")
        ):
            raise TypeError(
                "embedding must be None (the inputs), a callable X -> array of "
                "shape (n, n_features), or a transformer with a transform "
                f"method; got {type(embedding).__name__}."
            )
        return check_random_state(self.random_state)

    def _embedder(self, X_pool):
        """The function that maps inputs to the rows distances are taken on."""
        embedding = self.embedding
        if embedding is None or not hasattr(embedding, "transform"):
            return embedding
        try:
            check_is_fitted(embedding)
        except NotFittedError:
            # the pool stands for the input distribution; no labels are used
            with self._naming_non_numeric_columns(X_pool, "X_pool"):
                embedding = clone(embedding).fit(X_pool)
        return embedding.transform

    @contextlib.contextmanager
    def _naming_non_numeric_columns(self, X, name):
        """Turn the embedding's failure on non-numeric columns into advice."""
        try:
            yield
        except (TypeError, ValueError) as exc:
            columns = _non_numeric_columns(X)
            if not columns:
                raise
            raise ValueError(
                f"embedding={self.embedding!r} failed on {name}, whose columns "
                f"{columns!r} are not numeric ({exc}); "
                f"{_encode_columns_hint(columns, has_missing(X), _date_columns(X))}."
            ) from exc

    def _embed(self, embed, X, name):
        if embed is None and isinstance(X, Mapping):
            raise ValueError(
                f"{name} is a dict of inputs ({', '.join(map(repr, X))}), and "
                "TypiClustQuery measures distances between the rows of one "
                "array: pass embedding=, a function of the dict that returns one "
                "row of features per input (e.g. a frozen network's penultimate "
                "layer, or np.hstack of the inputs)."
            )
        if embed is None and is_torch_dataset(X):
            raise ValueError(
                f"{name} is a {type(X).__name__}, a torch Dataset, and "
                "TypiClustQuery measures distances between rows of features: "
                "pass embedding=, a function of the Dataset that returns one row "
                "of features per item (e.g. a frozen encoder's outputs over a "
                "DataLoader of it, or the cached embeddings of its items)."
            )
        if embed is None:
            Z = X
        else:
            with self._naming_non_numeric_columns(X, name):
                Z = embed(X)
        where = "" if embed is None else " after embedding"
        # check_array turns some non-numeric frames (categories) into object
        # arrays instead of refusing them: name their columns first.
        columns = _non_numeric_columns(Z) if hasattr(Z, "dtypes") else []
        if columns:
            missing = has_missing(Z)
            raise ValueError(
                _non_numeric_message(name + where, columns, missing, _date_columns(Z))
            )
        try:
            Z = check_array(
                Z,
                accept_sparse="csr",
                allow_nd=True,
                dtype="numeric",
                input_name=name,
            )
        except ValueError as exc:
            if "NaN" in str(exc) or "infinity" in str(exc):
                # an embedding for the raw inputs, encoder included if they
                # have strings: imputing alone would drop the encoding
                raw_columns = _non_numeric_columns(X)
                fix = (
                    _encoding_embedding(raw_columns, True, _date_columns(X))
                    if raw_columns
                    else "make_pipeline(SimpleImputer(), StandardScaler())"
                )
                try:
                    rows = nonfinite_rows_message(Z)
                except (TypeError, ValueError):
                    rows = None
                found = re.search(r"in (\d+ row\(s\) \(first: \[[^]]*\]\))", rows or "")
                which = f" in {found.group(1)}" if found else ""
                raise ValueError(
                    f"{name}{where} contains NaN or infinity{which}, and "
                    "TypiClustQuery measures distances between rows: drop or "
                    "re-embed those rows (embeddings of inputs that failed to "
                    "encode), or impute missing features first, e.g. with "
                    f"embedding={fix}."
                ) from exc
            columns = _non_numeric_columns(Z)
            if columns:
                message = _non_numeric_message(
                    name + where, columns, has_missing(Z), _date_columns(Z)
                )
                raise ValueError(message) from exc
            if embed is None and _is_text(Z):
                raise ValueError(
                    f"{name} is not a numeric array with one row of features per "
                    "input, and TypiClustQuery clusters such rows: for text or "
                    "other raw inputs pass embedding=, e.g. "
                    "embedding=TfidfVectorizer() or a callable that encodes X."
                ) from exc
            raise
        if Z.ndim > 2:
            Z = Z.reshape(Z.shape[0], -1)  # images: one row of pixels each
        if Z.shape[0] != count_rows(X, name):
            raise ValueError(
                f"embedding returned {Z.shape[0]} rows for the {count_rows(X, name)} "
                f"rows of {name}; it must return one row per input row, for the "
                "rows it is given: annotation_round passes the pool's rows not "
                "yet asked, a learner on a Dataset pool the items not yet "
                "taught, and pool_subsample a subset. With embeddings cached for "
                "a whole Dataset, index them by the rows given (a Subset's "
                ".indices are positions in the Dataset that holds the items), or "
                "pass the embeddings as the pool."
            )
        return Z

    def _cluster(self, Z, n_clusters, seed):
        if n_clusters <= _MAX_FULL_KMEANS:
            kmeans = KMeans(n_clusters, random_state=seed)
        else:
            kmeans = MiniBatchKMeans(n_clusters, random_state=seed)
        return kmeans.fit_predict(Z)

    def __call__(self, learner, X_pool, n_instances=1):
        """Pick ``n_instances`` typical points of ``X_pool``, one per cluster.

        Parameters
        ----------
        learner : modAL learner or any object
            Only its ``X_training`` attribute (the labelled inputs, None before
            the first fit) is read; its model is never called.
        X_pool : array-like of shape (n_pool, ...)
            The unlabelled pool.
        n_instances : int, default=1
            Batch size.

        Returns
        -------
        indices : ndarray of shape (n_instances,), dtype int64
            Indices into ``X_pool`` in pick order, distinct.
        scores : ndarray of shape (n_instances,), dtype float64
            The typicality of each pick (inverse mean distance to its nearest
            neighbours; +inf for a point with exact duplicates).
        """
        rng = self._check_params()
        if X_pool is None:
            raise ValueError("X_pool is None: pass the unlabelled pool to query from.")
        n_pool = count_rows(X_pool, "X_pool")
        rng = call_generator(self.random_state, rng, call_context(learner, n_pool))
        if n_pool == 0:
            raise ValueError(
                "X_pool is empty: there is nothing left to query. Stop the loop, "
                "or add unlabelled samples to the pool."
            )
        check_int(
            n_instances,
            "n_instances",
            max_val=n_pool,
            hint="a strategy never returns a partial batch: ask for at most the "
            "pool size",
        )
        if self.pool_subsample is None and n_pool > _SLOW_POOL:
            warnings.warn(
                f"TypiClustQuery clusters all {n_pool} pool points: at 10^6 "
                "(64 dimensions) a first batch of 20 took 363 s on 2 cores, "
                "and 6.9 s with "
                "pool_subsample=100_000, which picks from a random subset "
                "(the indices are still the full pool's) and covered the same "
                "classes.",
                SkbatchbaldWarning,
                stacklevel=user_stacklevel(),
            )
        candidates, X_pool = subsample_pool(
            X_pool, n_pool, n_instances, self.pool_subsample, rng
        )
        X_labelled = getattr(learner, "X_training", None)
        if X_labelled is not None and count_rows(X_labelled, "X_training") == 0:
            X_labelled = None
        embed = self._embedder(X_pool)
        Z_pool = self._embed(embed, X_pool, "X_pool")
        if X_labelled is None:
            Z, n_labelled = Z_pool, 0
        else:
            Z_labelled = self._embed(embed, X_labelled, "X_training")
            if Z_labelled.shape[1] != Z_pool.shape[1]:
                raise ValueError(
                    f"X_pool has {Z_pool.shape[1]} features (after embedding) but "
                    f"the learner's X_training has {Z_labelled.shape[1]}: both "
                    "must describe the same inputs."
                )
            if sparse.issparse(Z_pool) or sparse.issparse(Z_labelled):
                Z = sparse.vstack([Z_labelled, Z_pool], format="csr")
            else:
                Z = np.vstack([Z_labelled, Z_pool])
            n_labelled = Z_labelled.shape[0]
        n_clusters = min(n_labelled + n_instances, max(self.max_clusters, n_instances))
        labels = self._cluster(Z, n_clusters, draw_seed(rng))
        picked, scores = self._select(Z, labels, n_labelled, n_clusters, n_instances)
        return candidates[picked].astype(np.int64), scores

    def _select(self, Z, labels, n_labelled, n_clusters, n_instances):
        """Visit uncovered clusters, largest first; take each one's most typical."""
        size = np.bincount(labels, minlength=n_clusters)
        covered = np.bincount(labels[:n_labelled], minlength=n_clusters)
        small = size < self.min_cluster_size
        available = np.bincount(labels[n_labelled:], minlength=n_clusters)
        typicality = {}  # cluster -> (pool indices, typicality), when first visited
        picked, scores = [], []
        for _ in range(n_instances):
            # lexsort: the last key sorts first; cluster id breaks ties.
            order = np.lexsort((np.arange(n_clusters), -size, covered, small))
            cluster = next(c for c in order if available[c] > 0)
            if cluster not in typicality:
                members = np.flatnonzero(labels == cluster)
                values = _typicality(Z[members], self.n_neighbors)
                in_pool = members >= n_labelled
                typicality[cluster] = [members[in_pool] - n_labelled, values[in_pool]]
            indices, values = typicality[cluster]
            best = int(np.argmax(values))  # ties: the lowest pool index
            picked.append(indices[best])
            scores.append(values[best])
            values[best] = -np.inf  # taken: never picked twice
            covered[cluster] += 1
            available[cluster] -= 1
        return np.asarray(picked, np.int64), np.asarray(scores, np.float64)
