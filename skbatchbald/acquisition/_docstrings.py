"""Docstring pieces that several acquisition functions share word for word.

``@shared_doc`` fills a docstring's placeholder lines (``{stochastic}``) with
these, through the package's one mechanism (``skbatchbald/_docstrings.py``).
"""

from .._docstrings import shared_doc as _with_pieces

PIECES = {
    "stochastic": """\
    stochastic : None or {"power", "softmax", "softrank"}, default=None
        None: the ``n_instances`` highest scores. Otherwise the batch is drawn
        without replacement, each pick with probability ∝ score^β (``"power"``),
        exp(β score) (``"softmax"``) or rank^−β (``"softrank"``, rank 1 the
        highest score), by Gumbel-top-k (Kirsch et al., TMLR 2023).
    beta : float, default=None
        Inverse temperature of the stochastic draw, > 0; None means 1.0 and
        ``np.inf`` gives the top-k. Only with ``stochastic``.
""",
    "gumbel_random_state": """\
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, \
default=None
        Source of the Gumbel noise of a stochastic draw; the same int gives the
        same picks. The deterministic top-k uses it only when every pool point
        has the same score: the batch is then a uniform draw, with a
        :class:`TiedScoresWarning`, not the first rows of the pool.
""",
    "picked_indices": """\
    indices : ndarray of shape (n_instances,), int64
        Distinct pool indices, highest score first (ties to the lowest
        index, unless every score is the same: see ``random_state``), or in
        draw order when ``stochastic`` is set.
""",
}

shared_doc = _with_pieces(PIECES)
