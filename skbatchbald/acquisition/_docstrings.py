"""Docstring pieces that several acquisition functions share word for word.

A placeholder line such as ``{stochastic}`` in a docstring decorated with
`shared_doc` becomes the piece of that name, so that the stochastic draw, the seed
and the order of the picks are described in one place.
"""

import re
import textwrap

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
        same picks. Unused by the deterministic top-k.
""",
    "picked_indices": """\
    indices : ndarray of shape (n_instances,), int64
        Distinct pool indices, highest score first (ties to the lowest
        index), or in draw order when ``stochastic`` is set.
""",
}


def shared_doc(fn):
    """Replace ``fn``'s placeholder lines by the `PIECES` they name.

    A piece takes the indentation of its placeholder, which depends on where the
    function is defined and, from Python 3.13, on the compiler's dedenting.
    """
    if fn.__doc__ is None:  # python -OO strips docstrings
        return fn

    def piece(match):
        indent, name = match.groups()
        if name not in PIECES:
            raise ValueError(f"{fn.__name__}: no docstring piece {name!r}")
        return textwrap.indent(textwrap.dedent(PIECES[name]), indent)

    fn.__doc__ = re.sub(r"^( *)\{(\w+)\}\n", piece, fn.__doc__, flags=re.MULTILINE)
    return fn
