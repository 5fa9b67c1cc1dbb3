"""A run's folder: config.json, results.csv and what a resumed run needs.

Every file is written whole to a temporary name and renamed over the old one,
so a kill at any moment leaves either the old or the new file, never a torn
one. results.csv gains one row per finished round, under a lock so that worker
processes can share the folder; rows already there are never changed. A batch
acquired but not yet trained on waits in ``pending/`` so that a resumed run
need not repeat the acquisition.
"""

import json
import os
import secrets
from pathlib import Path

import numpy as np

from .._folder_lock import (
    FolderBusy,
    FolderUnlockable,
    hold_folder,
    release_folder,
)
from ._config import ExperimentConfig

__all__ = ["COLUMNS", "TIMING", "ResultsFolder", "atomic_write", "read_results_csv"]

COLUMNS = (
    "dataset",
    "model",
    "strategy",
    "trial",
    "round",
    "n_labels",
    "test_accuracy",
    "validation_accuracy",
    "n_epochs",
    "best_epoch",
    "training_seconds",
    "acquisition_seconds",
    "test_seconds",
    "acquired_labels",
    "class_entropy",
    "copies_in_batch",
    "saturated",
    "acquired_indices",
    # Last, so that the files of older runs, which lack them, keep their order.
    "training_cpu_seconds",
    "acquisition_cpu_seconds",
    "test_cpu_seconds",
    "device",
)
# Columns that differ between two runs of the same rounds.
TIMING = (
    "training_seconds",
    "acquisition_seconds",
    "test_seconds",
    "training_cpu_seconds",
    "acquisition_cpu_seconds",
    "test_cpu_seconds",
    "device",
)
# Columns a summary needs; results.csv files of older runs lack the others.
REQUIRED = ("strategy", "trial", "round", "n_labels", "test_accuracy")
_TEXT = {"acquired_labels": str, "acquired_indices": str, "device": str}


def atomic_write(path, text):
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    # Created with mode 0666 less the process's umask, as open() would create
    # it (mkstemp's 0600 would hide it from others); the umask is never read.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_results_csv(path):
    """Read a results.csv.

    Raises ValueError with the missing columns if the file is not one of ours.
    """
    import pandas as pd

    try:
        results = pd.read_csv(path, dtype=_TEXT, keep_default_na=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not a results table of skbatchbald: {e}") from e
    missing = [name for name in REQUIRED if name not in results]
    if missing:
        raise ValueError(
            f"{path} is not a results table of skbatchbald run: it lacks the "
            f"columns {', '.join(missing)}."
        )
    for name in _TEXT:
        if name in results:
            results[name] = results[name].fillna("").astype(str)
    return _typed(results)


def _typed(results):
    """One dtype per column whatever the rows: saturated as 0.0/1.0/NaN.

    Rows written before the runner took a device ran on the CPU: their
    device is "cpu".
    """
    device = results.get("device")
    results["device"] = "cpu" if device is None else device.replace("", "cpu")
    if "saturated" in results:
        saturated = results["saturated"].replace({"True": 1.0, "False": 0.0})
        results["saturated"] = saturated.astype(float)
    return results


def _sorted(results, strategies):
    order = {name: i for i, name in enumerate(strategies)}
    key = results["strategy"].map(order).fillna(len(order))
    return (
        results.assign(_order=key)
        .sort_values(["trial", "_order", "round"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


class ResultsFolder:
    """The output folder of a run; see the module docstring."""

    def __init__(self, path):
        self.path = Path(path).expanduser()
        self.config_path = self.path / "config.json"
        self.csv_path = self.path / "results.csv"

    def _lock(self):
        from filelock import FileLock

        return FileLock(str(self.path / ".lock"))

    def read_config(self):
        """The ExperimentConfig and the whole config.json document."""
        try:
            document = json.loads(self.config_path.read_text())
            return ExperimentConfig.from_dict(document["config"]), document
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(
                f"{self.config_path} is not a config.json of skbatchbald run ({exc})."
            ) from exc
        except ValueError as exc:  # options this version refuses
            raise ValueError(f"{self.config_path}: {exc}") from exc

    def prepare(self, config, document):
        """Check that ``config`` may write here; create config.json if new.

        Raises ValueError, before anything is written, if the folder holds
        results of another configuration or files that are not ours.
        """
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"{self.path} exists and is not a folder.")
        if self.config_path.is_file():
            saved, _ = self.read_config()
            differences = saved.same_experiment(config)
            if differences:
                listed = "; ".join(
                    f"{name} {old!r} there, {new!r} here"
                    for name, (old, new) in differences.items()
                )
                raise ValueError(
                    f"{self.path} holds results of another configuration "
                    f"({listed}); choose another --output or the same options."
                )
            return
        if self.csv_path.exists():
            raise ValueError(
                f"{self.path} has a results.csv but no config.json, so its rows "
                "cannot be checked against this run; choose another --output."
            )
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write(self.config_path, json.dumps(document, indent=2) + "\n")

    def hold(self):
        """Hold the folder for one run; pass the result to :meth:`release`.

        Two runs with the same options in one folder would compute the same
        curves twice, and the second died on "round 1 was already recorded";
        the second is refused before it writes anything. The lock is on the
        folder itself (POSIX ``flock``), so no file is left behind and a
        killed run's lock goes with its process; where there is no
        ``flock`` (Windows), or the file system cannot lock a folder (NFS),
        nothing is held.
        """
        try:
            return hold_folder(self.path)
        except FolderUnlockable:
            return None  # e.g. NFS: runs in one folder are not kept apart
        except FolderBusy:
            raise ValueError(
                f"{self.path} is in use by another skbatchbald run still writing "
                "there; wait for it to finish (then the same command continues "
                "it), or choose another --output."
            ) from None

    @staticmethod
    def release(handle):
        """Let go of the folder :meth:`hold` held (closing releases the lock)."""
        release_folder(handle)

    def update_document(self, update):
        """Rewrite config.json with ``update(document)`` applied, atomically."""
        with self._lock():
            _, document = self.read_config()
            update(document)
            atomic_write(self.config_path, json.dumps(document, indent=2) + "\n")

    def rows(self):
        """results.csv as a DataFrame, or None if there is none yet."""
        if not self.csv_path.is_file():
            return None
        return read_results_csv(self.csv_path)

    def append(self, row, strategies):
        """Add one finished round to results.csv (sorted, atomically)."""
        import pandas as pd

        with self._lock():
            old = self.rows()
            new = pd.DataFrame.from_records([row], columns=list(COLUMNS))
            table = new if old is None else pd.concat([old, new], ignore_index=True)
            key = ["trial", "strategy", "round"]
            if table.duplicated(key).any():
                raise RuntimeError(f"round {row['round']} was already recorded")
            text = _sorted(table, strategies).to_csv(index=False)
            atomic_write(self.csv_path, text)

    def _pending_path(self, trial, strategy):
        return self.path / "pending" / f"trial{trial}-{strategy}.json"

    def save_pending(self, trial, strategy, batch):
        """Keep the batch acquired for the next round until it is recorded."""
        path = self._pending_path(trial, strategy)
        path.parent.mkdir(exist_ok=True)
        atomic_write(path, json.dumps(batch) + "\n")

    def load_pending(self, trial, strategy, round_):
        """The pending batch of ``round_``, or None."""
        path = self._pending_path(trial, strategy)
        if not path.is_file():
            return None
        batch = json.loads(path.read_text())
        return batch if batch["round"] == round_ else None

    def drop_pending(self, trial, strategy):
        """Forget the pending batch once its round is recorded."""
        self._pending_path(trial, strategy).unlink(missing_ok=True)

    def tidy(self):
        """Remove the row lock and an empty pending/ once no process writes here."""
        (self.path / ".lock").unlink(missing_ok=True)
        pending = self.path / "pending"
        if pending.is_dir() and not any(pending.iterdir()):
            pending.rmdir()


def indices_of(text):
    """Pool indices from a space-separated cell."""
    return np.array(text.split(), dtype=np.int64)
