"""
A Gaussian process, as in modAL's regression example: BALD's batch vs BatchBALD's
==================================================================================

modAL's regression example fits a ``GaussianProcessRegressor`` and queries the
point of largest predictive standard deviation. The same model works with the
strategies here. A GP's posterior is Gaussian, so the information of a batch
about its latent function, 1/2 log det(I + Cov(f_B) / σ²), is known exactly:
the strategies take the latent posterior covariance
(:func:`~skbatchbald.sampling.gaussian_process_covariance`) and the GP's own
noise variance (``alpha`` plus the fitted ``WhiteKernel``), and draw nothing.

With one label per round the two agree. With a batch of six they do not:
BALD takes the six points of largest variance, which crowd where the GP is
least sure, a few neighbours that all ask the same question; BatchBALD's gains
account for what the points already in the batch tell, so its picks spread
out. The printed numbers are each batch's information in closed form, from the
GP's own posterior covariance.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel

from skbatchbald import ActiveLearner, BALDQuery, BatchBALDQuery
from skbatchbald.sampling import model_noise_variance

rng = np.random.default_rng(0)
X_pool = np.linspace(0, 20, 400)[:, None]
y_pool = np.sin(X_pool[:, 0]) + rng.normal(scale=0.3, size=len(X_pool))
# ten labels on the left part; the right part is unexplored
labelled = rng.choice(np.flatnonzero(X_pool[:, 0] < 12), size=10, replace=False)

kernel = RBF(length_scale=1.0, length_scale_bounds=(1e-2, 1e3)) + WhiteKernel(
    noise_level=1, noise_level_bounds=(1e-10, 1e1)
)
learner = ActiveLearner(
    GaussianProcessRegressor(kernel=kernel, random_state=0),
    X_training=X_pool[labelled],
    y_training=y_pool[labelled],
)
gp = learner.estimator
noise = model_noise_variance(gp)
print(f"fitted kernel: {gp.kernel_}; noise variance {noise:.3f}")

picks = {
    "BALD (top 6)": BALDQuery()(learner, X_pool, 6)[0],
    "BatchBALD": BatchBALDQuery()(learner, X_pool, 6)[0],
}

# The same closed form from scikit-learn's own output: the latent posterior
# covariance is predict's covariance less the white noise on its diagonal.
mean, cov = gp.predict(X_pool, return_cov=True)
latent = cov - (noise - gp.alpha) * np.eye(len(X_pool))
for name, idx in picks.items():
    block = latent[np.ix_(idx, idx)]
    information = 0.5 * np.linalg.slogdet(np.eye(len(idx)) + block / noise)[1]
    where = ", ".join(f"{x:.1f}" for x in np.sort(X_pool[idx, 0]))
    print(f"{name:13s} x = {where}: {information:.2f} nats")

std = np.sqrt(np.clip(np.diag(latent), 0, None))
fig, axes = plt.subplots(2, 1, figsize=(7, 6), sharex=True, layout="constrained")
for ax, (name, idx) in zip(axes, picks.items(), strict=True):
    ax.plot(X_pool[:, 0], mean, color="C0", label="posterior mean")
    ax.fill_between(X_pool[:, 0], mean - 2 * std, mean + 2 * std, color="C0", alpha=0.2)
    ax.scatter(X_pool[labelled, 0], y_pool[labelled], color="k", label="labelled")
    for x in X_pool[idx, 0]:
        ax.axvline(x, color="C3", linewidth=1)
    ax.set_title(f"{name}: the six picks (red)")
    ax.set_ylabel("y")
axes[0].legend(loc="lower left")
axes[1].set_xlabel("x")
plt.show()
