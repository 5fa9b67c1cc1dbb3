"""MCDropoutClassifier: a skorch classifier that draws consistent MC-dropout samples.

One module per idea: the estimator (``_estimator.py``), input conversion
(``_inputs.py``), what a module's outputs are (``_outputs.py``), what
``save_params`` keeps (``_saved_state.py``), ``n_jobs`` shards (``_shards.py``)
and the locks that keep seeded results thread-independent (``_locks.py``);
the multi-label sibling, ``MCDropoutMultiLabelClassifier`` (``_multilabel.py``),
and the regressor, ``MCDropoutRegressor`` (``_regressor.py``).
"""

from ._estimator import MCDropoutClassifier
from ._multilabel import MCDropoutMultiLabelClassifier
from ._regressor import MCDropoutRegressor

# Pickles, reprs and the API reference name the class by its public path.
MCDropoutClassifier.__module__ = __name__
MCDropoutMultiLabelClassifier.__module__ = __name__
MCDropoutRegressor.__module__ = __name__

__all__ = ["MCDropoutClassifier", "MCDropoutMultiLabelClassifier", "MCDropoutRegressor"]
