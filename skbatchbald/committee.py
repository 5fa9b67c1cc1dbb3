"""modAL's Committee, working with the labels pandas gives: text of object dtype.

modAL-python 0.4.2.1 merges its learners' classes with ``np.unique(...,
axis=0)``, which numpy refuses for object arrays (the classes of a model
fitted on a pandas Series of strings), and collects votes in a float array,
which refuses any text label. :class:`Committee` keeps modAL's constructor,
methods and query strategies and fixes these two.
"""

import contextlib

import numpy as np

from ._pickled_version import VersionedPickle
from .modal import (
    ActiveLearner,
    _ModalCommittee,
    _query_return,
    _strategy_picks,
    _warn_labelled_rows_picked,
)

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
    to float" for any text label).

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
        Every class a member knows, sorted, in the members' dtype.
    n_classes_ : int
        Number of classes.

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

    def _set_classes(self):
        try:
            known = [learner.estimator.classes_ for learner in self.learner_list]
        except AttributeError:  # unfitted members, as modAL handles them
            self.classes_, self.n_classes_ = None, 0
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
            know.
        """
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
        votes : ndarray of shape (n_samples, n_learners)
            In the labels' own dtype (modAL's are floats, which text refuses).
        """
        return np.column_stack(
            [
                np.asarray(learner.predict(X, **predict_kwargs))
                for learner in self.learner_list
            ]
        )
