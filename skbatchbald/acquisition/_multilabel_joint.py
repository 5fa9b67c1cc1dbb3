"""One label's joint over the batch: rows p(c | ω_k) of its configurations c.

For a candidate x,

    H(y_{B, l}, y_{x, l}) = -Σ_c w_c Σ_y q_c(y) log q_c(y),
    q_c(y) = (1/K) Σ_k p(c | ω_k) p(y_{x, l} = y | ω_k)

is two (N x K) @ (K x rows) products. Each row is rescaled by its largest
entry, the scale kept as a log. Exact rows enumerate every configuration
(w_c = 1); once there would be more than ``n_joint_samples`` of them, rows are
configurations drawn from the posterior predictive and w_c = 1 / (M p(c)),
the estimator of Kirsch, van Amersfoort & Gal (2019, Sec. 3.2).
"""

import numpy as np


def _binary_entropy_bound(p0, p1):
    """-p0 log p0 - p1 log p1, overwriting p0 and p1; an upper bound.

    Probabilities below the smallest normal float are raised to it: -p log p
    increases there, so the result is at least the entropy, by under 1e-305.
    """
    tiny = np.finfo(p0.dtype).tiny
    terms = np.log(np.maximum(p0, tiny, out=p0))
    terms *= p0
    other = np.log(np.maximum(p1, tiny, out=p1))
    other *= p1
    terms += other
    return np.negative(terms, out=terms)


class LabelJoint:
    """The joint of one label's batch labels: rows p(c | ω_k) and their weights."""

    def __init__(self, n_mc_samples):
        self.rows = np.ones((1, n_mc_samples))  # the empty batch: one configuration
        self.log_scale = np.zeros(1)
        self.exact = True
        self._cache = {}

    def _weights(self):
        if self.exact:
            return np.exp(self.log_scale)
        return 1.0 / (len(self.rows) * self.rows.mean(axis=1))

    def joint_entropy(self, probs, chunk):
        """H(batch, y_x) for every candidate x; ``probs`` (2, N, K) of the label."""
        weights = self._weights()
        _, n_pool, n_mc_samples = probs.shape
        entropy = np.empty(n_pool)
        for start in range(0, n_pool, chunk):
            block = probs[:, start : start + chunk]
            total = np.zeros(block.shape[1])
            for y in (0, 1):
                q = block[y] @ (self.rows.T / n_mc_samples)  # (chunk, rows)
                with np.errstate(divide="ignore", invalid="ignore"):
                    terms = q * (np.log(q) + self.log_scale)
                total -= np.where(q > 0, terms, 0.0) @ weights
            entropy[start : start + len(total)] = total
        return entropy

    def joint_entropy_bound(self, probs, depth=1, max_cells=2**22):
        """An upper bound of `joint_entropy` for every candidate, from few rows.

        Both the exact and the drawn rows give ``H(B) + Σ_c π_c H(y_x | c)``
        with ``π_c = w_c p(c) / s_c`` (p(c) exact, 1/M drawn) and
        ``p(y_x | c) = Σ_k p(ω_k | c) p_k(y_x)``. The entropy is concave, so
        merging the rows of a group G into their π-weighted mixture can only
        raise the sum: ``Σ_{c in G} π_c H(y_x | c) <= π_G H(y_x | G)``. A group
        is the rows whose ``depth`` most probable samples ω_k are the same, in
        order (at most K groups for depth 1, K (K - 1) for depth 2), so that
        its rows have similar posteriors; a deeper split refines the groups and
        so gives a bound at least as tight. One group is the BALD bound.
        Candidates are taken in chunks of at most ``max_cells`` (group,
        candidate) cells.
        """
        merged, group_mass = self._groups(depth)
        n_pool = probs.shape[1]
        bound = np.empty(n_pool)
        chunk = max(1, max_cells // len(merged))  # at most max_cells per (G, n)
        for start in range(0, n_pool, chunk):
            block = probs[:, start : start + chunk]
            entropy = _binary_entropy_bound(block[0] @ merged.T, block[1] @ merged.T)
            bound[start : start + chunk] = entropy @ group_mass
        return self.batch_entropy() + bound

    def _groups(self, depth):
        """(G, K) mixtures p(ω_k | G) and (G,) masses π_G; cached until extended."""
        if depth not in self._cache:
            n_rows, n_mc_samples = self.rows.shape
            if depth == 1:
                group = np.argmax(self.rows, axis=1)
            else:
                top = np.argsort(-self.rows, axis=1, kind="stable")[:, :depth]
                # the top samples in order as one number: a 1-d unique is faster
                key = top @ n_mc_samples ** np.arange(depth - 1, -1, -1)
                _, group = np.unique(key, return_inverse=True)
            members = np.zeros((group.max() + 1, n_rows))
            members[group, np.arange(n_rows)] = 1.0
            merged = members @ (self._weights()[:, None] * self.rows) / n_mc_samples
            group_mass = merged.sum(axis=1)  # π_G; the rows of merged sum to it
            kept = group_mass > 0
            self._cache[depth] = merged[kept] / group_mass[kept, None], group_mass[kept]
        return self._cache[depth]

    def batch_entropy(self):
        """H(y_{B, l}): exact, or its estimate -(1/M) Σ_c log p(c) from draws."""
        mean = self.rows.mean(axis=1)
        log_p = self.log_scale + np.log(mean)
        return -np.sum(self._weights() * mean * log_p)

    def extend(self, probs_x, n_joint_samples, rng):
        """Add the picked point, whose label probabilities are ``probs_x`` (2, K)."""
        probs_x = probs_x.T
        self._cache = {}
        if self.exact:
            rows = np.concatenate(
                [self.rows * probs_x[:, 0], self.rows * probs_x[:, 1]]
            )
            log_scale = np.concatenate([self.log_scale, self.log_scale])
        else:
            # Draw each configuration's next label from p(y_x | c), so that
            # the rows stay draws from the posterior predictive.
            q1 = self.rows @ probs_x[:, 1]
            q0 = self.rows @ probs_x[:, 0]
            ones = rng.random(len(self.rows)) * (q0 + q1) < q1
            rows = self.rows * np.where(ones[:, None], probs_x[:, 1], probs_x[:, 0])
            log_scale = self.log_scale
        largest = rows.max(axis=1)
        keep = largest > 0  # configurations of probability 0 add nothing
        self.rows = rows[keep] / largest[keep, None]
        self.log_scale = log_scale[keep] + np.log(largest[keep])
        if self.exact and len(self.rows) > n_joint_samples:
            # p(c) = exp(scale) mean_k rows: draw the configurations by it
            p = np.exp(self.log_scale) * self.rows.mean(axis=1)
            drawn = rng.choice(len(p), size=n_joint_samples, p=p / p.sum())
            self.rows, self.log_scale = self.rows[drawn], self.log_scale[drawn]
            self.exact = False
