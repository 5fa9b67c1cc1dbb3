"""The annotation loop through plain files: one CSV or JSON-lines file per batch.

The files are the state: a fresh process reads the directory and knows which
rows were asked for (every batch file), which are answered (batch files with
labels filled in) and which are still pending. A small record beside them,
written with each batch, lists the rows answered by then, so that an answer
that disappears later (an older copy saved over a labelled file) is refused
rather than forgotten.
"""

import contextlib
import csv
import functools
import io
import json
import numbers
import os
import re
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._folder_lock import (
    FolderBusy,
    FolderUnlockable,
    hold_folder,
    release_folder,
)
from .._warnings import SkbatchbaldWarning, user_stacklevel
from ._answers import (
    SKIPPED,
    check_answers,
    check_target_type,
    class_names,
    decimal_point,
    is_skipped,
    pool_index,
)
from ._batch import check_batch

__all__ = ["FileAnnotator"]

_COLUMNS = ("round", "rank", "pool_index", "reference", "score", "label")
_FORMATS = ("csv", "jsonl")
_SKIP_HINT = f", or {SKIPPED!r} if it cannot be labelled (the row is set aside)"
# Which rows of the earlier batches held an answer when the newest was written:
# a dot file, which file managers hide from the people who label.
_RECORD = ".skbatchbald-answered.json"


# A row that its reference moved to another pool row keeps, under this key, the
# pool_index its file holds: the record names rows as the files do, whatever
# order the pool comes in. A NUL is in no column name a file can give.
_WRITTEN_INDEX = "\0written pool_index"


def _written_index(where, row):
    """The pool index a batch file's row holds (before its reference moved it)."""
    if _WRITTEN_INDEX in row:
        return row[_WRITTEN_INDEX]
    return pool_index(row.get("pool_index"), where)


def _shown(indices, limit=10):
    """A list of pool rows for a message: the first ``limit`` of them."""
    more = f" and {len(indices) - limit} more" if len(indices) > limit else ""
    return f"{list(indices[:limit])}{more}"


def _write_atomically(path, text):
    # A crash while writing leaves either no batch file or a whole one, never a
    # truncated file that would be read as a short batch.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


_DELIMITERS = (",", ";", "\t")


def _decode(path):
    """A batch file's text: UTF-8 (with or without a byte-order mark) or UTF-16.

    Spreadsheets save UTF-8 with a byte-order mark ("CSV UTF-8"), UTF-16 with
    one ("Unicode Text"), or the system's legacy code page ("CSV"), whose
    letters beyond ASCII are not UTF-8: that one is refused, since guessing
    the code page could turn a label into another.
    """
    data = path.read_bytes()
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path.name} is not UTF-8 text (byte {exc.start}: "
            f"{data[exc.start : exc.start + 1]!r}); a spreadsheet or editor saved "
            "it in its own code page: save it again as 'CSV UTF-8' (a JSON-lines "
            "file as UTF-8) under the same name."
        ) from None


def _read_csv(path, *, numbers=False):
    """A CSV batch's rows as (where, row); ``numbers``: labels are numbers.

    Numbers with a decimal comma ("3,5") are read with a point in a file
    whose cells are separated by ';' or tabs, as spreadsheets write them in
    locales with a decimal comma; in a comma-separated file a comma in a
    number is refused (it may be a thousands separator).
    """
    text = _decode(path)
    header = text.lstrip().partition("\n")[0]
    if not header.strip():
        raise ValueError(
            f"{path.name} is empty; restore the batch written by the round (its "
            f"header row holds the columns {list(_COLUMNS)}), or delete the file "
            "if it is the newest and holds no labels, to ask for a new batch."
        )
    # A spreadsheet in a locale with a decimal comma separates with ";", and
    # "Unicode Text" with tabs: take the separator that finds the columns.
    delimiter = next(
        (
            d
            for d in _DELIMITERS
            if {"pool_index", "label"}
            <= {name.strip().strip('"') for name in header.split(d)}
        ),
        ",",
    )
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    fieldnames = [(name or "").strip() for name in reader.fieldnames or ()]
    reader.fieldnames = fieldnames
    missing = {"pool_index", "label"} - set(fieldnames)
    if missing:
        raise ValueError(
            f"{path} lacks the column(s) {sorted(missing)}; keep the columns "
            f"{list(_COLUMNS)} that the batch was written with."
        )
    # Each row is named by its line in the file, the header being line 1, as a
    # spreadsheet numbers its rows. Rows of bare separators (";;;;;"), which
    # spreadsheets write after the data, are no rows of the batch.
    rows = []
    for row in reader:
        if _is_blank(row):
            continue
        where = f"{path.name} line {reader.line_num}"
        extra = [cell for cell in row.get(None) or () if str(cell or "").strip()]
        if extra:
            # a label typed with the separator in it ("shipping,oops") splits
            # into two cells: the first would be taken for the whole answer
            raise ValueError(
                f"{where} has {len(extra)} more cell(s) than the header's "
                f"{len(fieldnames)} columns ({extra}): a label that holds the "
                f"separator {delimiter!r} must be in double quotes. Correct the "
                "line, keeping one cell per column."
            )
        if numbers and delimiter != ",":
            index = str(row.get("pool_index") or "").strip()
            row["label"] = decimal_point(
                row.get("label"), f"{where} (pool index {index})", delimiter
            )
        rows.append((where, row))
    return rows


def _is_blank(row):
    """Whether every cell of a CSV row is empty (cells beyond the header too)."""
    cells = []
    for value in row.values():
        cells.extend(value if isinstance(value, list) else [value])
    return not any(str(cell or "").strip() for cell in cells)


# A whole number as a spreadsheet or a float column may write it: "2", "2.0",
# "2.00". Not "2.000", which may be two thousand with a grouping point.
_WHOLE_NUMBER = re.compile(r"[+-]?\d+(?:\.0{1,2})?")


def _whole_number(value):
    """``value`` as an int if it is a whole number (``2``, ``"2"``, ``2.0``,
    ``"2.0"``), else None."""
    if isinstance(value, bool):  # JSON true is no number of a batch
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        return int(value.strip().partition(".")[0])
    return None


def _has_label(row):
    # a JSON label may be 0 or an empty list of tags: both are answers
    label = row.get("label")
    return label is not None and bool(str(label).strip())


def _ranks(rows):
    """Each row's ``rank`` as an int, or None when no row has one.

    A rank column deleted or cleared leaves the file's order. A rank written
    ``2.0`` (a spreadsheet or a float column re-saving the file) is rank 2;
    any other cell is refused, since the rows could not be put back in the
    order they were asked for.
    """
    cells = [row.get("rank") for _, row in rows]
    if all(cell is None or not str(cell).strip() for cell in cells):
        return None
    ranks = []
    for (where, _), cell in zip(rows, cells, strict=True):
        rank = _whole_number(cell)
        if cell is None or not str(cell).strip():
            raise ValueError(
                f"{where} has no rank, and other rows of the file have one; "
                "restore its rank as the batch was written (the rank says in "
                "which order the rows were asked for, 0 first), or clear the "
                "whole rank column to read the rows in the file's order."
            )
        if rank is None or rank < 0:
            raise ValueError(
                f"{where} has rank {cell!r}, which is not a whole number >= 0; "
                "restore it as the batch was written (the rank says in which "
                "order the rows were asked for, 0 first), or clear the whole "
                "rank column to read the rows in the file's order."
            )
        ranks.append(rank)
    return ranks


def _in_rank_order(rows):
    """Rows by their ``rank`` column: a file sorted in a spreadsheet reads as written.

    The loop fits on answers in request order; a person who sorts a batch by
    label or by image name must not change the model. Rows keep the file's
    order when the rank column was deleted or cleared; a rank that is not a
    whole number is refused (see :func:`_ranks`).
    """
    ranks = _ranks(rows)
    if ranks is None:
        return rows
    order = np.argsort(ranks, kind="stable")
    return [rows[i] for i in order]


def _missing_ranks(rows):
    """Ranks below a batch's highest that no row holds: rows deleted by hand.

    A deleted last row leaves no gap and is not seen; nor are ranks when the
    column was deleted or cleared.
    """
    ranks = set(_ranks(rows) or ())
    return sorted(set(range(max(ranks, default=-1) + 1)) - ranks)


def _read_jsonl(path):
    rows = []
    # as a CSV's: UTF-8 with or without a byte-order mark, or UTF-16
    # (PowerShell's ">" writes it), a legacy code page named
    for i, line in enumerate(_decode(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{path.name} line {i} is not valid JSON ({exc.msg}); write one "
                "JSON object per line."
            ) from None
        if not isinstance(row, dict) or "pool_index" not in row:
            raise ValueError(
                f"{path.name} line {i} is not an object with a 'pool_index'; "
                f"keep the keys {list(_COLUMNS)} that the batch was written with."
            )
        rows.append((f"{path.name} line {i}", row))
    return rows


def _length(values):
    try:
        return f"{len(values)} entries"
    except TypeError:
        return f"a {type(values).__name__}"


class FileAnnotator:
    """Ask for labels through batch files that people fill in.

    Each :meth:`request` writes one file, ``batch-001.csv``, ``batch-002.csv``,
    ... (or ``.jsonl``), with one row per pool row to label, in acquisition
    order, and the columns ``round``, ``rank``, ``pool_index``, ``reference``,
    ``score`` and an empty ``label``. A person fills in the ``label`` column
    and saves the file under the same name: the text of one of ``classes``
    (``target_type="multiclass"``), the item's tags separated by ``;``
    (``"multilabel"``; ``-`` for none), or a number (``"continuous"``).

    A row that cannot be labelled (a blurred image, a failed measurement) is
    answered with ``?``: it is set aside, neither taught nor asked for again
    (see :meth:`skipped`), as Label Studio's *Skip* button does. A batch
    counts as answered as soon as any of its labels is filled in; then every
    row must have a label or ``?`` (a half-labelled file is an error, so that
    nothing is taught from it by mistake). The directory is the whole state:
    a new ``FileAnnotator`` on the same directory, in a new process, continues
    where the last one stopped.

    Answers may be corrected, but not lost: each batch written records, in
    ``.skbatchbald-answered.json`` beside the files, which rows of the earlier
    batches had a label or ``?``, and a row recorded there that has an empty
    label now, or is gone from its file (an older copy of the file saved over
    the labelled one), stops every read naming the file and rows. Rows are
    read in ``rank`` order, whatever the file's order (``2.0`` is rank 2).

    Parameters
    ----------
    directory : str or path-like
        Where the batch files are written and read; created if missing. A
        leading ``~`` is expanded to the user's home folder.
    classes : array-like of shape (n_classes,) or None, default=None
        The labels (for ``"multilabel"``, the tags) an annotator may give;
        required unless ``target_type="continuous"``, where it must be None.
        A file's label is matched to a class by its text, ``str(c)``, and,
        where no two classes would match, also up to surrounding spaces, a
        space doubled inside, Unicode normalisation, case (``"dog"`` for
        ``"Dog"``) or a ``.0`` after an integer (``"3.0"``, as pandas writes
        a column that had empty cells); the answers are returned as the
        classes themselves (``3``, not ``"3"``, for ``classes=range(10)``).
    target_type : {"multiclass", "multilabel", "continuous"}, \
            default="multiclass"
        What an answer is, in scikit-learn's terms:

        - ``"multiclass"``: one class per row (two classes too); a cell
          naming several classes is refused.
        - ``"multilabel"``: a set of tags per row, written as their names
          separated by ``;`` (or ``,``, ``|``, ``/``, or spaces; a tag whose
          name holds one is read whole) and ``-`` for no tags, or a JSON
          list; the answers
          are a 0/1 indicator matrix whose column ``j`` is ``classes[j]``,
          the ``y`` of a multi-label classifier.
        - ``"continuous"``: a finite number per row (a regression target);
          in a file separated by ``;`` or tabs, as spreadsheets write in
          locales with a decimal comma, ``3,5`` reads as 3.5, and digits
          grouped by three that the file could mean two ways are refused.
    format : {"csv", "jsonl"}, default="csv"
        The batch files' format: CSV with a header row, or JSON lines (one
        object per row, ``"label": null`` until answered).
    reference : None, sequence or callable, default=None
        What the ``reference`` column shows a person for pool row ``i``:
        ``reference[i]`` for a sequence (e.g. file names of images; a pandas
        Series is read by position, ``reference.iloc[i]``, whatever its index),
        ``reference(i)`` for a callable; None writes the row's index label when
        :func:`annotation_round` is given a pandas pool, else ``"row i"``.
        It also identifies the row: each answer's recorded reference is
        checked against its pool row's reference now, and an answer whose
        reference moved to exactly one other row (a pool passed in another
        order, with its references in the same order) is taught to that row;
        one whose reference is on no row, or on several, raises a ValueError.
        A callable is only checked, never searched.

    See Also
    --------
    annotation_round : One round of the loop with any annotator.
    LabelStudioAnnotator : The same loop through a Label Studio server.

    Examples
    --------
    >>> import tempfile
    >>> from skbatchbald.annotation import FileAnnotator
    >>> annotator = FileAnnotator(tempfile.mkdtemp(), classes=["cat", "dog"])
    >>> annotator.request([7, 2], scores=[0.9, 0.4])
    >>> annotator.pending()
    array([7, 2])
    """

    def __init__(
        self,
        directory,
        classes=None,
        *,
        target_type="multiclass",
        format="csv",
        reference=None,
    ):
        self.directory = directory
        self.classes = classes
        self.target_type = target_type
        self.format = format
        self.reference = reference

    def _path(self):
        # expanded at each use, like every other parameter, so that a
        # directory set after construction is honoured too
        return Path(self.directory).expanduser()

    def _suffix(self):
        if self.format not in _FORMATS:
            raise ValueError(
                f"format must be one of {list(_FORMATS)}, got {self.format!r}."
            )
        return self.format

    def _batch_files(self):
        """(round, path) of every batch file, oldest first.

        ValueError if the directory holds batch files of the other format:
        reading on would ignore their answers and ask for their rows again.
        """
        suffix = self._suffix()
        pattern = re.compile(r"batch-(\d+)\.(csv|jsonl)")
        directory = self._path()
        if not directory.is_dir():
            return []
        found, other = [], []
        for path in directory.iterdir():
            match = pattern.fullmatch(path.name)
            if match and match.group(2) == suffix:
                found.append((int(match.group(1)), path))
            elif match:
                other.append(path.name)
        if other:
            (fmt,) = set(_FORMATS) - {suffix}
            raise ValueError(
                f"{directory} holds batch files in format {fmt!r} "
                f"({', '.join(sorted(other)[:3])}), and this FileAnnotator has "
                f"format={self.format!r}; pass format={fmt!r} to carry on with "
                "them, or use another directory for a new loop."
            )
        found.sort()
        missing = (
            sorted(set(range(1, found[-1][0] + 1)) - {r for r, _ in found})
            if found
            else []
        )
        if missing:
            # a labelled batch moved away: its answers would be lost and its
            # number reused for the next batch, over another file
            names = [f"batch-{r:03d}.{suffix}" for r in missing]
            raise ValueError(
                f"{directory} lacks {', '.join(names[:5])}, and holds later batches "
                f"(up to {found[-1][1].name}): a batch file was moved or deleted, "
                "and its answers would be lost. Put it back in the directory under "
                "its name."
            )
        return found

    def _check_no_stray_copies(self, pending_paths):
        """ValueError if a pending batch has a copy under another name.

        A person who saves the labelled batch as ``batch-001 (1).csv`` or
        ``batch-001.xlsx`` leaves ``batch-001.csv`` unlabelled, and the loop
        would wait on it without a word.
        """
        if not pending_paths:
            return
        stems = {path.stem.lower(): path for path in pending_paths}
        for other in sorted(self._path().iterdir()):
            name = other.name.lower()
            if other in pending_paths or name.endswith(".tmp"):
                continue  # .tmp: a write that a crash interrupted
            for stem, path in stems.items():
                if name.startswith(stem) and not name[len(stem) :][:1].isdigit():
                    raise ValueError(
                        f"{path.name} has no labels yet, and {self._path()} also "
                        f"holds {other.name!r}, which the loop does not read; save "
                        f"the labels in {path.name} (same name, {self.format} "
                        "format), or move the other file out of the directory."
                    )

    def _read_batches(self):
        """Each batch file's rows as written: list of (path, [(where, row), ...]).

        Rows are in ``rank`` order, and a ``pool_index`` written as a whole
        float (``64.0``, a spreadsheet's re-save) is read as the int.
        """
        if self._suffix() == "csv":
            numbers = self.target_type == "continuous"
            read = functools.partial(_read_csv, numbers=numbers)
        else:
            read = _read_jsonl
        batches = []
        for _, path in self._batch_files():
            rows = read(path)
            for _, row in rows:
                index = _whole_number(row.get("pool_index"))
                if index is not None:
                    row["pool_index"] = index
            batches.append((path, _in_rank_order(rows)))
        return batches

    def _batches(self, pool_ids=None):
        """Each batch file's rows: list of (path, [(where, row), ...]).

        Each row's ``pool_index`` is where its recorded reference is now (see
        :meth:`_locate`); answers recorded when a later batch was written
        must still be there (see :meth:`_check_recorded_answers`).
        """
        written = self._read_batches()
        batches = self._locate(written, pool_ids)
        self._check_recorded_answers(written)
        return batches

    def _record_path(self):
        return self._path() / _RECORD

    def _read_record(self):
        """The record of answered rows the newest :meth:`request` wrote, or None.

        ``{"written_with": name, "answered": {batch file name: [pool index,
        ...]}}``; None in a directory written before there was one.
        """
        path = self._record_path()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            record = json.loads(text)
            answered = record["answered"]
            written_with = str(record["written_with"])
            answered = {
                str(name): [int(i) for i in indices]
                for name, indices in answered.items()
            }
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ValueError(
                f"{path} is not the record of answered rows that the loop writes "
                f"({type(exc).__name__}: {exc}): it was edited. Delete it; the next "
                "batch written records the answers again."
            ) from None
        return written_with, answered

    def _check_recorded_answers(self, batches):
        """ValueError if a row answered when the newest batch was written has
        lost its answer.

        A stale copy of a labelled batch saved over it (a second person's
        spreadsheet open since before it was labelled) turns its rows back
        into pending rows: the next round would fit without them and wait
        for them, in silence. :meth:`request` records which rows of the
        earlier batches had a label or ``?``; a row recorded there that now
        has an empty label, or is in no row of its file, is refused. A
        changed answer (a correction, or ``?``) is an answer still.
        """
        record = self._read_record()
        if record is None:
            return  # a directory from before the record: nothing to hold to
        written_with, answered = record
        files = {path.name: rows for path, rows in batches}
        for name, recorded in sorted(answered.items()):
            if name not in files:
                raise ValueError(
                    f"{self._path()} lacks {name}, which held {len(recorded)} "
                    f"answer(s) when {written_with} was written: put it back in "
                    "the directory under its name. To start the loop over, use a "
                    f"new directory (or delete {_RECORD} with the batch files)."
                )
            labelled, present = set(), set()
            for where, row in files[name]:
                index = pool_index(row.get("pool_index"), where)
                present.add(index)
                if _has_label(row):
                    labelled.add(index)
            emptied = [i for i in recorded if i in present and i not in labelled]
            gone = [i for i in recorded if i not in present]
            if not (emptied or gone):
                continue
            lost = []
            if emptied:
                lost.append(f"pool row(s) {_shown(emptied)} now have an empty label")
            if gone:
                lost.append(
                    f"pool row(s) {_shown(gone)} are in no row of it (deleted, or "
                    "the pool_index cell edited)"
                )
            raise ValueError(
                f"{name} lost {len(emptied) + len(gone)} of the answers it held "
                f"when {written_with} was written: {' and '.join(lost)} (an "
                "older copy saved over the labelled file?). Restore those "
                "answers (from a backup, or label the rows again), or write "
                f"{SKIPPED!r} as a row's label to set it aside."
            )

    def _record_answers(self, batches, written_with):
        """Write the record of which rows of ``batches`` hold an answer now.

        Written before the new batch file: a crash in between leaves a record
        of answers that are all still there, never a batch without one.
        """
        answered = {}
        for path, rows in batches:
            indices = sorted(
                {_written_index(w, row) for w, row in rows if _has_label(row)}
            )
            if indices:
                answered[path.name] = indices
        if not answered and not self._record_path().exists():
            return  # nothing answered yet: no record to keep
        text = json.dumps({"written_with": written_with, "answered": answered})
        _write_atomically(self._record_path(), text + "\n")

    def _current_references(self, pool_ids):
        """Every pool row's reference now, or None when they cannot be listed."""
        if self.reference is None:
            return None if pool_ids is None else [str(v).strip() for v in pool_ids]
        if callable(self.reference):
            return None
        return [str(v).strip() for v in self.reference]

    def _locate(self, batches, pool_ids):
        """Check each asked row's recorded reference against its pool row now.

        The ``pool_index`` column is a position, and a pool passed in another
        order (rows shuffled, a DataFrame sorted by its index, another
        machine) would pair every answer with another row's features, in
        silence. The ``reference`` column says which row was asked for: a
        row whose reference is now carried by exactly one other pool row is
        moved there (rows are identified by their reference, as a pandas user
        identifies them by their index); one whose reference is nowhere, or
        on several rows, raises. A reference cell that is empty or the
        ``"row i"`` of a batch written without references is not checked.
        """
        if self.reference is None and pool_ids is None:
            # only "row i" references, which no order can break, but which
            # catch a pool_index cell edited by hand
            for _, rows in batches:
                for where, row in rows:
                    self._check_default_reference(where, row)
            return batches
        current = self._current_references(pool_ids)
        # A DataFrame indexed 0..n-1 (reset_index, or never set): its labels
        # are positions, and a recorded label found at another position is
        # a guess (the index was reset after a filter), so it is not moved.
        positional = (
            self.reference is None
            and current is not None
            and current == [str(i) for i in range(len(current))]
        )
        where_now, repeated = {}, set()
        for position, reference in enumerate(current or ()):
            if reference in where_now:
                repeated.add(reference)
            where_now.setdefault(reference, position)
        located = []
        for path, rows in batches:
            moved = []
            for where, row in rows:
                recorded = row.get("reference")
                recorded = "" if recorded is None else str(recorded).strip()
                index = pool_index(row.get("pool_index"), where)
                self._check_default_reference(where, row)  # an edited index
                if not recorded or recorded == f"row {index}":
                    moved.append((where, row))
                    continue
                if current is None:
                    now = self._reference(index).strip()
                else:
                    now = current[index] if index < len(current) else None
                if now == recorded:
                    moved.append((where, row))
                elif (
                    recorded in where_now
                    and recorded not in repeated
                    and not positional
                ):
                    moved.append(
                        (
                            where,
                            {
                                **row,
                                "pool_index": where_now[recorded],
                                _WRITTEN_INDEX: index,
                            },
                        )
                    )
                else:
                    message = self._moved_message(where, index, recorded, now)
                    if positional:
                        message += (
                            " X_pool's index is now 0..n-1, plain positions "
                            "(reset_index?), so its labels cannot find the row: "
                            "pass the pool with the index it had (e.g. "
                            "df.set_index('id'))."
                        )
                        # An index 0..n-1 then wrote each row's position as
                        # its reference; a recorded label that is no position
                        # of this pool (an ID, 5064) was written by another
                        # index, and is no pool_index to restore.
                        as_position = _whole_number(recorded)
                        if as_position is not None and 0 <= as_position < len(current):
                            message += (
                                " If the index is as it was, the pool_index cell "
                                f"was edited: restore it to {as_position}."
                            )
                    raise ValueError(message)
            located.append((path, moved))
        return located

    @staticmethod
    def _check_default_reference(where, row):
        """ValueError if a ``"row i"`` reference names another row than the
        ``pool_index`` beside it: the index was edited, and the answer would
        be taught to a row never asked for while the asked one is lost."""
        recorded = row.get("reference")
        match = re.fullmatch(r"row (\d+)", "" if recorded is None else str(recorded))
        index = pool_index(row.get("pool_index"), where)
        if match and int(match.group(1)) != index:
            raise ValueError(
                f"{where} has pool_index {index} but reference {recorded!r}: the "
                f"batch asked for pool row {match.group(1)}, so the pool_index "
                "cell was changed. Restore it; to label another row, let a "
                "later round ask for it."
            )

    def _moved_message(self, where, index, recorded, now):
        if now is None and self.reference is not None:
            now_text = f"reference has no entry for pool row {index}"
        elif now is None:
            now_text = f"the pool has no row {index} now"
        else:
            now_text = f"pool row {index} is {now!r} now"
        if self.reference is None:
            what = "X_pool (a DataFrame or Series, whose index labels are the rows)"
            unique = "an index without repeated labels"
        else:
            what = "X_pool and reference"
            unique = "a reference list without repeats"
        return (
            f"{where} asked for pool row {index} as {recorded!r}, but {now_text}, "
            "and no single row carries that reference: the answer would be taught "
            f"to another row. Pass {what} in the order they had when the batch "
            f"was written, or with {unique} that holds {recorded!r}, so that "
            "the row is found by it. If the pool is as it was, the file's "
            "reference cell was changed (a spreadsheet writes long IDs as "
            "2.02401E+11 and drops leading zeros): restore the reference column "
            "as the batch was written."
        )

    @staticmethod
    def _is_answered(rows):
        return any(_has_label(row) for _, row in rows)

    def _check_classes(self):
        """The checked classes; none may be named like the skip marker."""
        classes = check_target_type(self.target_type, self.classes)
        names = [] if classes is None else class_names(classes)
        if any(is_skipped(name) for name in names):
            raise ValueError(
                f"classes {names} hold a class named {SKIPPED!r}, which a batch "
                "file uses for a row that cannot be labelled; rename that class."
            )
        return classes

    @staticmethod
    def _answered_rows(batches, *, warn=True):
        """(where, row) of every row of the answered batches, in request order.

        ``warn``: about rows deleted from an answered batch (once per read:
        :meth:`answers` and :meth:`state` warn, :meth:`skipped` does not).
        """
        answered = [
            (path, rows) for path, rows in batches if FileAnnotator._is_answered(rows)
        ]
        for path, rows in answered if warn else ():
            missing = _missing_ranks(rows)
            if missing:
                # Not an error while the batch is the newest: a person may
                # delete a row they cannot label. But its pool row is taught
                # nothing and, being in no batch file, may be asked for again;
                # say so rather than in silence. Once a later batch is written,
                # a row answered then and deleted since is a taught answer lost,
                # refused by _check_recorded_answers.
                warnings.warn(
                    f"{path.name} lacks the row(s) of rank {missing} of the "
                    f"{len(rows) + len(missing)} rows asked for (deleted?): they "
                    "are not taught and may be asked for again; restore them with "
                    f"their labels to teach them ({SKIPPED!r} sets a row aside).",
                    SkbatchbaldWarning,
                    stacklevel=user_stacklevel(),
                )
        records = [(where, row) for _, rows in answered for where, row in rows]
        FileAnnotator._check_answered_once(records)
        return records

    @staticmethod
    def _check_answered_once(records):
        """ValueError if two rows with a label or ``?`` name one pool row.

        :func:`check_answers` sees only the taught rows; a row pasted twice,
        labelled once and ``?`` once, would be both taught and set aside.
        """
        first = {}
        for where, row in records:
            if not _has_label(row):
                continue  # an empty copy: check_answers names the missing label
            index = pool_index(row.get("pool_index"), where)
            if index in first:
                first_where, first_label = first[index]
                raise ValueError(
                    f"{where}: pool index {index} is answered twice (also in "
                    f"{first_where}), as {first_label!r} there and "
                    f"{row.get('label')!r} here; keep one answer per pool row "
                    "and remove the other row."
                )
            first[index] = (where, row.get("label"))

    def _pending_rows(self, batches):
        """The pool rows of the unanswered batches, in request order."""
        unanswered = [
            (path, rows) for path, rows in batches if not self._is_answered(rows)
        ]
        self._check_no_stray_copies([path for path, _ in unanswered])
        pending = [
            pool_index(row.get("pool_index"), where)
            for _, rows in unanswered
            for where, row in rows
        ]
        return np.asarray(pending, dtype=int)

    def _checked_answers(self, records, classes):
        """(pool indices, labels) of the answered rows that are not skipped."""
        records = [
            (where, row) for where, row in records if not is_skipped(row.get("label"))
        ]
        return check_answers(
            [row.get("pool_index") for _, row in records],
            [row.get("label") for _, row in records],
            classes,
            [where for where, _ in records],
            target_type=self.target_type,
            skip_hint=_SKIP_HINT,
            skip_marker=True,
        )

    @staticmethod
    def _skipped_rows(records):
        """The pool rows answered with the skip marker, in request order."""
        return np.asarray(
            [
                pool_index(row.get("pool_index"), where)
                for where, row in records
                if is_skipped(row.get("label"))
            ],
            dtype=int,
        )

    def _reference(self, index, pool_ids=None):
        if self.reference is None:
            return f"row {index}" if pool_ids is None else str(pool_ids[index])
        if callable(self.reference):
            return str(self.reference(index))
        # Pool indices are positions: a pandas Series or DataFrame column is
        # read by position, whatever its index (strings, or integers shuffled
        # by a train/test split, which reference[i] would read by label).
        values = getattr(self.reference, "iloc", self.reference)
        try:
            return str(values[index])
        except (IndexError, KeyError):
            raise ValueError(
                f"reference has no entry for pool row {index} (it holds "
                f"{_length(self.reference)}); pass one reference per pool row, in "
                "the pool's order, or a callable reference(i)."
            ) from None

    def request(self, pool_indices, scores=None, *, pool_ids=None):
        """Write a batch file asking for labels of these pool rows.

        Idempotent: asking again for the batch the newest file already holds
        (same rows, same order) writes nothing.

        Parameters
        ----------
        pool_indices : array-like of int
            Pool rows to label, in acquisition order (``rank`` 0 first).
        scores : array-like of float or None, default=None
            The acquisition score of each row, written to the ``score``
            column; None writes zeros.
        pool_ids : sequence or None, default=None
            The label of each pool row in the pool's index (a pandas pool's
            ``index``, which :func:`annotation_round` passes): the
            ``reference`` written when ``reference`` is None.

        Raises
        ------
        ValueError
            If a row was already asked for in an earlier batch, the indices or
            scores are malformed, an earlier batch's reference is on no
            single row of the pool now, an answer recorded when the newest
            batch was written is lost, or another process holds the directory
            (see :meth:`hold`, which a request holds too).

        Notes
        -----
        Before the batch file, it writes (atomically) the record of which
        rows of the earlier batches hold an answer now,
        ``.skbatchbald-answered.json``; every later read refuses a state in
        which one of them has lost it. A directory written before this record
        existed is checked from its next batch on.
        """
        indices, scores = check_batch(pool_indices, scores)
        self._check_classes()
        if indices.size == 0:
            self._batches(pool_ids)  # the files are checked all the same
            return
        # Held from reading the files to writing the batch and the record, as
        # a round holds it (the same thread holds it again): a request of
        # one's own, outside annotation_round, cannot interleave with a round
        # of another process. annotation_round has warned where nothing can
        # be held.
        with self._hold(warn=False):
            self._write_batch(indices, scores, pool_ids)

    def _write_batch(self, indices, scores, pool_ids):
        """:meth:`request`'s work, with the directory held."""
        batches = self._batches(pool_ids)
        asked = {}
        for _, rows in batches:
            for where, row in rows:
                asked[str(row.get("pool_index")).strip()] = where
        if batches:
            newest = [str(row.get("pool_index")).strip() for _, row in batches[-1][1]]
            if newest == [str(i) for i in indices]:
                return
        again = [int(i) for i in indices if str(i) in asked]
        if again:
            raise ValueError(
                f"pool rows {again} were already asked for ({asked[str(again[0])]}); "
                "request only rows that are in no batch file yet."
            )
        round_ = len(batches) + 1
        records = [
            {
                "round": round_,
                "rank": rank,
                "pool_index": int(index),
                "reference": self._reference(int(index), pool_ids),
                "score": float(score),
                "label": None,
            }
            for rank, (index, score) in enumerate(zip(indices, scores, strict=True))
        ]
        directory = self._path()
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"batch-{round_:03d}.{self._suffix()}"
        if path.exists():  # never write over a file, whatever happened to it
            raise ValueError(
                f"{path} exists already and is not a batch the loop can read; "
                "move it out of the directory."
            )
        self._record_answers(batches, path.name)
        if self.format == "csv":
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows({**r, "label": ""} for r in records)
            text = buffer.getvalue()
        else:
            # letters as they are ("ñ", not "\u00f1"): people read and edit it
            text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        _write_atomically(path, text)

    def pending(self, *, pool_ids=None):
        """Pool rows asked for whose batch file has no label yet.

        Parameters
        ----------
        pool_ids : sequence or None, default=None
            The label of each pool row in the pool's index, as for
            :meth:`answers`.

        Returns
        -------
        pool_indices : ndarray of int
            In request order: oldest batch first, each in acquisition order.

        Raises
        ------
        ValueError
            If an unlabelled batch file has a copy under another name in the
            directory (``batch-001 (1).csv``, ``batch-001.xlsx``): the labels
            were most likely saved there, where the loop does not read them;
            if a row's reference is on no single row of the pool now; or if
            a row answered when a later batch was written has lost its answer
            (a pending row that was taught before).
        """
        return self._pending_rows(self._batches(pool_ids))

    def answers(self, *, pool_ids=None):
        """Every answered row, checked all-or-nothing.

        Each row's recorded ``reference`` is checked against the one its pool
        row has now: ``reference[pool_index]``, or with ``reference=None``
        ``pool_ids[pool_index]``. A row whose reference has moved to exactly
        one other pool row (the pool came in another order) is answered for
        that row; one whose reference is on no row, or on several, raises.

        Parameters
        ----------
        pool_ids : sequence or None, default=None
            The label of each pool row in the pool's index (a pandas pool's
            ``index``, which :func:`annotation_round` passes); used when
            ``reference`` is None. Without it and without ``reference``, rows
            are taken at their recorded ``pool_index``.

        Returns
        -------
        pool_indices : ndarray of int
            In request order: oldest batch first, each in acquisition order.
        labels : ndarray
            The label of each: one of ``classes``; for ``"multilabel"`` a 0/1
            int indicator matrix of shape (n_answered, n_classes), column
            ``j`` for ``classes[j]``; for ``"continuous"`` floats.

        Raises
        ------
        ValueError
            Naming the file and row, if an answered batch has a row without a
            label, a label outside ``classes`` (a tag outside them, a number
            that is not finite), several classes for ``"multiclass"``, a pool
            index that is not an integer, a pool index answered twice (a
            label and ``?`` too), a ``rank`` that is not a whole number, a
            reference that is on no single row of the pool now, or a row that
            had an answer when a later batch was written and has none now
            (its file saved over with an older copy).

        Warns
        -----
        UserWarning
            If an answered batch lacks some of its ranks below its highest: rows
            deleted by hand, whose pool rows are not taught (a deleted last row
            leaves no gap and goes unnoticed).
        """
        classes = self._check_classes()
        records = self._answered_rows(self._batches(pool_ids))
        return self._checked_answers(records, classes)

    def skipped(self, *, pool_ids=None):
        """Pool rows answered with ``?``: set aside, not taught, not asked again.

        :func:`annotation_round` leaves them out of the next queries, so that
        a row no one can label does not come back in every batch. Writing a
        label over the ``?`` later teaches it like any other answer.

        Parameters
        ----------
        pool_ids : sequence or None, default=None
            The label of each pool row in the pool's index, as for
            :meth:`answers`.

        Returns
        -------
        pool_indices : ndarray of int
            In request order: oldest batch first, each in acquisition order.

        Raises
        ------
        ValueError
            If a pool index is not an integer or is answered twice (``?``
            and a label too), a row's reference is on no single row of the
            pool now, or an answer recorded when a later batch was written is
            lost.
        """
        self._check_classes()
        records = self._answered_rows(self._batches(pool_ids), warn=False)
        return self._skipped_rows(records)

    @contextlib.contextmanager
    def hold(self):
        """Hold the directory for one round: a second process is refused.

        :func:`annotation_round` holds it from reading the answers to writing
        the next batch, so two rounds run at once (a scheduler starting the
        next before the last ended) cannot both find no batch pending and
        write one each. The lock is a POSIX ``flock`` on the directory
        itself: no file is left behind, and a killed round's lock goes with
        its process. The thread that holds it may hold it again (a ``with
        annotator.hold():`` of your own around a round and the steps after
        it), other threads may not; a child process forked meanwhile does
        not inherit it. On Windows nothing is
        held, and where the file system cannot lock a directory (NFS) a
        warning says so.

        Yields
        ------
        annotator : FileAnnotator
            This annotator, holding the directory.

        Raises
        ------
        ValueError
            If another process holds the directory.
        """
        with self._hold(warn=True):
            yield self

    @contextlib.contextmanager
    def _hold(self, *, warn):
        """:meth:`hold`; ``warn``: where the directory cannot be locked."""
        path = self._path()
        path.mkdir(parents=True, exist_ok=True)
        try:
            handle = hold_folder(path)
        except FolderUnlockable as exc:
            handle = None
            if warn:
                warnings.warn(
                    f"{exc.strerror}: the file system cannot lock a directory "
                    "(NFS?), so a second round started meanwhile is not refused; "
                    "start one round at a time.",
                    SkbatchbaldWarning,
                    stacklevel=user_stacklevel(),
                )
        except FolderBusy:
            raise ValueError(
                f"another annotation round is running on {path} (a second "
                "skbatchbald label, or annotation_round in another process or "
                "thread); wait for it to finish, then run again. The thread that "
                "holds the directory may hold it again (nested), others may not."
            ) from None
        try:
            yield
        finally:
            release_folder(handle)

    def state(self, *, pool_ids=None):
        """The answers, the pending rows and the skipped rows, in one read.

        What :meth:`answers`, :meth:`pending` and :meth:`skipped` return,
        with the same checks, from one reading of the batch files:
        :func:`annotation_round` calls this once a round, where the three
        would read every file three times.

        Parameters
        ----------
        pool_ids : sequence or None, default=None
            The label of each pool row in the pool's index, as for
            :meth:`answers`.

        Returns
        -------
        state : sklearn.utils.Bunch
            ``answered`` and ``labels`` (as :meth:`answers`), ``pending`` (as
            :meth:`pending`) and ``skipped`` (as :meth:`skipped`).

        Raises
        ------
        ValueError
            As :meth:`answers` and :meth:`pending` do; the answers are
            checked first.

        Warns
        -----
        UserWarning
            As :meth:`answers` does.
        """
        classes = self._check_classes()
        batches = self._batches(pool_ids)
        records = self._answered_rows(batches)
        answered, labels = self._checked_answers(records, classes)
        return Bunch(
            answered=answered,
            labels=labels,
            pending=self._pending_rows(batches),
            skipped=self._skipped_rows(records),
        )
