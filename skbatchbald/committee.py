"""modAL's Committee, working with the labels pandas gives: text of object dtype.

modAL-python 0.4.2.1 merges its learners' classes with ``np.unique(...,
axis=0)``, which numpy refuses for object arrays (the classes of a model
fitted on a pandas Series of strings), and collects votes in a float array,
which refuses any text label. :class:`Committee` keeps modAL's constructor,
methods and query strategies and fixes these two.
"""

import contextlib

import numpy as np
from sklearn.metrics import accuracy_score, r2_score

from ._labels import label_probabilities
from ._modal_ports import check_modal_strategy_target
from ._pickled_version import VersionedPickle
from .modal import (
    ActiveLearner,
    _ModalCommittee,
    _query_return,
    _strategy_picks,
    _warn_labelled_rows_picked,
)
from .sampling import is_multilabel, is_regression_model

__all__ = ["Committee"]


class Committee(VersionedPickle, _ModalCommittee):
    """A modAL ``Committee`` of learners that takes labels of any dtype.

    A query-by-committee learner: each member is a fitted learner (an
    :class:`~skbatchbald.ActiveLearner`), one posterior sample for BALD and
    BatchBALD, and modAL's committee strategies
    (``vote_entropy_sampling``, ``max_disagreement_sampling``,
    ``consensus_entropy_sampling``) score their votes. Everything is modAL's
    but two fixes for labels that are text, as a pandas Series of strings
    gives them (object dtype): the members' classes are merged without
    numpy's ``axis`` argument, which object arrays refuse (modAL raised
    ``TypeError: The axis argument to unique is not supported for dtype
    object`` when built), and votes keep the labels' dtype instead of floats
    (``vote`` and ``vote_entropy_sampling`` raised "could not convert string
    to float" for any text label). Members that are multi-label classifiers
    vote and predict a 0/1 indicator per row (a label is predicted where its
    mean probability over the members is above 0.5); members that are
    regressors predict their mean prediction and score R², as modAL's
    ``CommitteeRegressor`` does.

    Parameters
    ----------
    learner_list : list of ActiveLearner
        The members; each should be fitted on its own bootstrap of the
        labels (``bootstrap_init=True``) or be a different model, so that
        they disagree where the labels leave room.
    query_strategy : callable, default=modAL's vote_entropy_sampling
        ``query_strategy(committee, X_pool, n_instances=...)``, e.g.
        :class:`~skbatchbald.BatchBALDQuery` or one of modAL's committee
        strategies.
    on_transformed : bool, default=False
        As in modAL: whether the strategy sees the members' transformed pool.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Every class a member knows, sorted, in the members' dtype; for
        multi-label members, the labels' column numbers ``0, ..., L - 1``.
    n_classes_ : int
        Number of classes (of labels, for multi-label members).

    See Also
    --------
    ActiveLearner : The members.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbatchbald import ActiveLearner, BatchBALDQuery, Committee
    >>> X, y = load_iris(return_X_y=True, as_frame=True)
    >>> names = y.map({0: "setosa", 1: "versicolor", 2: "virginica"})
    >>> committee = Committee(
    ...     learner_list=[
    ...         ActiveLearner(
    ...             RandomForestClassifier(10, random_state=seed),
    ...             X_training=X.iloc[::10], y_training=names.iloc[::10],
    ...             bootstrap_init=True,
    ...         )
    ...         for seed in range(3)
    ...     ],
    ...     query_strategy=BatchBALDQuery(random_state=0),
    ... )
    >>> committee.classes_.tolist()
    ['setosa', 'versicolor', 'virginica']
    >>> idx, rows = committee.query(X, n_instances=3)
    >>> len(idx)
    3
    """

    def _multilabel(self):
        """Whether the members are fitted multi-label classifiers."""
        return bool(self.learner_list) and all(
            is_multilabel(learner.estimator) for learner in self.learner_list
        )

    def _regressors(self):
        """Whether the members are regressors (no classes, no probabilities)."""
        return bool(self.learner_list) and all(
            is_regression_model(learner.estimator) for learner in self.learner_list
        )

    def _check_classifiers(self, method):
        if self._regressors():
            raise AttributeError(
                f"Committee.{method} gives class probabilities, and the "
                "committee's learners are regressors: predict gives their mean "
                "prediction and vote each member's."
            )

    def _set_classes(self):
        try:
            known = [learner.estimator.classes_ for learner in self.learner_list]
        except AttributeError:  # unfitted members, as modAL handles them
            self.classes_, self.n_classes_ = None, 0
            return
        if self._multilabel():
            # the labels (columns of y), as OneVsRestClassifier numbers them;
            # modAL merged a forest's per-label [0, 1] into one class
            # from the fitted models: a member built from a fitted estimator
            # has no y_training
            n_labels = {len(classes) for classes in known}
            if len(n_labels) > 1:
                raise ValueError(
                    "the committee's learners were taught label indicators of "
                    f"different widths {sorted(n_labels)}: every member must "
                    "know the same labels (columns of y)."
                )
            self.classes_ = np.arange(n_labels.pop())
            self.n_classes_ = len(self.classes_)
            return
        if all(np.ndim(classes) == 1 for classes in known):
            # the classes of one label column: merged without numpy's axis
            # argument, which object arrays (text from pandas) refuse
            self.classes_ = np.unique(np.concatenate(known))
            self.n_classes_ = len(self.classes_)
            return
        super()._set_classes()

    def teach(self, X, y, bootstrap=False, only_new=False, **fit_kwargs):
        """Add X and y to every member's labelled set and refit the members.

        modAL's ``teach``, undone for every member when a member's fit
        raises (or is interrupted with Ctrl-C): modAL adds the rows to all
        members before fitting any, so a failure left the members taught
        and a retry taught the rows twice.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The new rows.
        y : array-like of shape (n_samples,)
            Their labels.
        bootstrap : bool, default=False
            Fit each member on a bootstrap resample of its labelled set.
        only_new : bool, default=False
            Fit the members on X and y only (each keeps the rows).
        **fit_kwargs : dict
            Passed to each member's ``fit``.
        """
        # members of this package (modAL's own learners have no undo)
        members = [m for m in self.learner_list if isinstance(m, ActiveLearner)]
        with contextlib.ExitStack() as undo:
            for i, member in enumerate(members):
                undo.enter_context(
                    member._labelled_set_kept_on_error(
                        "Committee.teach", note=i == len(members) - 1
                    )
                )
            super().teach(X, y, bootstrap=bootstrap, only_new=only_new, **fit_kwargs)

    def query(self, X_pool, return_metrics=False, *query_args, **query_kwargs):
        """Ask the query strategy which pool rows to label next.

        As modAL's ``Committee.query``, with the strategy called once and the
        picked rows taken in the pool's own type (a list, a pandas Series or
        DataFrame, a dict of inputs).

        Parameters
        ----------
        X_pool : array-like of shape (n_pool, ...)
            The unlabelled pool, in the form the members take.
        return_metrics : bool, default=False
            Also return the strategy's scores of the picked rows.
        *query_args : tuple
            Passed to the query strategy after ``X_pool``.
        **query_kwargs : dict
            Passed to the query strategy, e.g. ``n_instances=10``.

        Returns
        -------
        query_idx : ndarray of int
            Indices into ``X_pool`` of the picked rows.
        query_instances : array-like
            The picked rows of ``X_pool``.
        query_metrics : ndarray or None
            The scores, only when ``return_metrics=True``.
        """
        if self.learner_list:  # the members' kind of target
            check_modal_strategy_target(
                self.query_strategy, self.learner_list[0].estimator
            )
        query_idx, query_metrics = _strategy_picks(
            self, X_pool, query_args, query_kwargs
        )
        if self.learner_list:  # the members share the labelled rows
            labelled = getattr(self.learner_list[0], "X_training", None)
            _warn_labelled_rows_picked(X_pool, query_idx, labelled)
        return _query_return(X_pool, query_idx, query_metrics, return_metrics)

    def vote_proba(self, X, **predict_proba_kwargs):
        """Each member's class probabilities, over the committee's classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The rows, in the form the members take.
        **predict_proba_kwargs : dict
            Passed to each member's ``predict_proba``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_learners, n_classes)
            Column ``j`` is ``classes_[j]``; 0 for a class a member does not
            know. For multi-label members, each label's probability of being
            present (``n_classes`` is the number of labels).
        """
        self._check_classifiers("vote_proba")
        if self._multilabel():
            return np.stack(
                [
                    label_probabilities(
                        learner.predict_proba(X, **predict_proba_kwargs),
                        getattr(learner.estimator, "classes_", None),
                    )
                    for learner in self.learner_list
                ],
                axis=1,
            )
        votes = []
        for position, learner in enumerate(self.learner_list):
            proba = np.asarray(learner.predict_proba(X, **predict_proba_kwargs))
            known = np.asarray(learner.estimator.classes_)
            unknown = known[~np.isin(known, self.classes_)]
            if unknown.size:
                raise ValueError(
                    f"learner {position} knows the class(es) {unknown.tolist()}, "
                    f"which the committee's classes_ {self.classes_.tolist()} lack: "
                    "it was taught outside the committee. Teach through "
                    "committee.teach, or build the Committee again from its "
                    "learners."
                )
            columns = np.searchsorted(self.classes_, known)
            full = np.zeros((proba.shape[0], self.n_classes_))
            full[:, columns] = proba
            votes.append(full)
        return np.stack(votes, axis=1)

    def predict(self, X, **predict_proba_kwargs):
        """The committee's prediction: the class of highest mean probability.

        For multi-label members, the labels whose mean probability over the
        members is above 0.5 (modAL took the arg max over the labels, as
        if they were classes).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The rows, in the form the members take.
        **predict_proba_kwargs : dict
            Passed to each member's ``predict_proba``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            A class of ``classes_`` per row, or a 0/1 label indicator.
        """
        if self._regressors():
            # stacked on a new axis: a multi-output member's outputs stay apart
            each = self._member_predictions(X, predict_proba_kwargs)
            return np.mean(np.stack(each, axis=1), axis=1)
        if self._multilabel():
            proba = self.predict_proba(X, **predict_proba_kwargs)
            return (proba > 0.5).astype(np.int64)
        return super().predict(X, **predict_proba_kwargs)

    def predict_proba(self, X, **predict_proba_kwargs):
        """The members' mean class probabilities (``vote_proba`` averaged).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The rows, in the form the members take.
        **predict_proba_kwargs : dict
            Passed to each member's ``predict_proba``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Column ``j`` is ``classes_[j]``, or label ``j``'s probability of
            being present for multi-label members.

        Raises
        ------
        AttributeError
            If the members are regressors.
        """
        self._check_classifiers("predict_proba")
        return super().predict_proba(X, **predict_proba_kwargs)

    def score(self, X, y, sample_weight=None):
        """Accuracy of ``predict`` (subset accuracy for multi-label), or R².

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The rows, in the form the members take.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Their true labels, or targets for regressor members.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows.

        Returns
        -------
        score : float
            ``accuracy_score``, or ``r2_score`` for regressor members (what a
            scikit-learn regressor's ``score`` gives).
        """
        if self._regressors():
            return r2_score(y, self.predict(X), sample_weight=sample_weight)
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)

    def vote(self, X, **predict_kwargs):
        """Each member's predicted label for each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The rows to vote on.
        **predict_kwargs : dict
            Passed to each member's ``predict``.

        Returns
        -------
        votes : ndarray of shape (n_samples, n_learners) or \
                (n_samples, n_learners, n_labels)
            In the labels' own dtype (modAL's are floats, which text refuses);
            for multi-label members, each member's 0/1 indicator.
        """
        each = self._member_predictions(X, predict_kwargs)
        if self._multilabel():
            return np.stack(each, axis=1)
        return np.column_stack(each)

    def _member_predictions(self, X, predict_kwargs):
        """Each member's ``predict(X)``, as arrays, in the members' order."""
        return [
            np.asarray(learner.predict(X, **predict_kwargs))
            for learner in self.learner_list
        ]
