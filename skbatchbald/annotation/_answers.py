"""The one check every answer goes through, whichever tool it comes from.

Both backends read labels as text (a CSV cell, a JSON value, a Label Studio
choice) and hand them here with a description of where each came from, so that
a bad answer is reported the same way everywhere and nothing is taught unless
every answer is good.
"""

import numbers
import re
import unicodedata

import numpy as np

__all__ = [
    "check_answers",
    "check_classes",
    "check_pool_indices",
    "class_names",
    "pool_index",
]


def check_classes(classes):
    """Return ``classes`` as a 1-d array of unique labels.

    ValueError if it is empty, not 1-d or holds two labels with the same text
    (the tools store labels as text, so ``1`` and ``"1"`` would be the same).
    """
    array = np.asarray(classes)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"classes must be a non-empty 1-d list of labels, got {classes!r}; "
            "pass the labels an annotator may choose, e.g. classes=range(10)."
        )
    names = class_names(array)
    if len(set(names)) != len(names):
        raise ValueError(
            f"classes {list(array)!r} hold two labels with the same text; the "
            "annotation tools store labels as text, so each must print differently."
        )
    return array


def class_names(classes):
    """The text an annotation tool shows (and stores) for each class."""
    return [str(c) for c in np.asarray(classes).tolist()]


def _is_missing(label):
    return label is None or (isinstance(label, str) and not label.strip())


def _integral(text):
    """``"3"`` for ``"3.0"``: pandas writes a column with empty cells as floats."""
    try:
        number = float(text)
    except ValueError:
        return text
    if number.is_integer() and not text.lstrip("+-").isdigit():
        return str(int(number))
    return text


# How a label's text is matched to a class name, strictest first; each rule is
# used only where it tells the classes apart. A class name may carry spaces of
# its own ("setosa "), which a tool returns as they are and a person editing a
# file may drop or add; a person may type "dog" for "Dog".
_MATCH_RULES = (
    lambda text: text,
    lambda text: text.strip(),
    # "é" typed as one code point or as "e" and a combining accent (macOS
    # file names, some keyboards): the same letter on screen
    lambda text: unicodedata.normalize("NFKC", text).strip(),
    lambda text: unicodedata.normalize("NFKC", text).strip().casefold(),
    lambda text: _integral(text.strip()),
)
# What people put between several tags in one cell; spaces only where no
# such mark is (class names may hold spaces: "big dog; cat").
_TAG_SEPARATORS = re.compile(r"\s*[;,|/]\s*")


def _class_code(text, lookups):
    """The code of the class ``text`` names by the first rule that finds one."""
    return next(
        (lookup[rule(text)] for rule, lookup in lookups if rule(text) in lookup),
        None,
    )


def _several_classes(text, lookups):
    """The distinct classes a cell holding several of them names, or None."""
    found = []
    for part in filter(None, _TAG_SEPARATORS.split(text.strip())):
        code = _class_code(part, lookups)
        # a part that names no class may be tags between spaces ("cat dog")
        codes = (
            [code]
            if code is not None
            else [_class_code(word, lookups) for word in part.split()]
        )
        if not codes or None in codes:
            return None
        found.extend(code for code in codes if code not in found)
    return found if len(found) > 1 else None


def pool_index(value, where):
    """``value`` as an int pool index; ValueError naming ``where`` if it is none."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{where}: pool index {value!r} is not an integer; restore the pool "
            "index written when the batch was requested."
        )
    return int(value)


def check_pool_indices(pool_indices, n_pool, where=None):
    """ValueError naming the first pool index outside ``range(n_pool)``.

    Parameters
    ----------
    pool_indices : array-like of int
        Pool indices, as returned by an annotator.
    n_pool : int
        Number of rows of the pool.
    where : list of str or None, default=None
        Where each index came from, for the message.
    """
    pool_indices = np.asarray(pool_indices, dtype=int)
    bad = np.flatnonzero((pool_indices < 0) | (pool_indices >= n_pool))
    if bad.size:
        i = bad[0]
        origin = f"{where[i]}: " if where is not None else ""
        raise ValueError(
            f"{origin}pool index {pool_indices[i]} is outside the pool of {n_pool} "
            "rows; the answers belong to another pool: pass the X_pool they were "
            "requested from."
        )


def check_answers(pool_indices, labels, classes, where):
    """Validate raw answers all-or-nothing and decode their labels.

    Parameters
    ----------
    pool_indices : list
        The pool index of each answer (ints, or text holding an int).
    labels : list
        The raw label of each answer: text (or a number) naming a class, or
        None/empty when missing.
    classes : array-like of shape (n_classes,)
        The labels an annotator may give; an answer names one by its text,
        exactly or, where no two classes would match, up to surrounding
        spaces, case, or a ``.0`` after an integer (``"3.0"`` for ``3``).
    where : list of str
        Where each answer came from (a file row, a task), for the messages.

    Returns
    -------
    pool_indices : ndarray of int
    labels : ndarray
        The decoded labels, taken from ``classes`` (so of its dtype).

    Raises
    ------
    ValueError
        For the first bad answer: a pool index that is not an integer, a pool
        index answered twice, a missing label or a label outside ``classes``.
    """
    classes = check_classes(classes)
    names = class_names(classes)
    # Each rule: the text a label and a class are compared by, and the classes
    # by that text, those that would clash left out (so "CAT" matches no class
    # when the classes are "cat" and "Cat").
    lookups = []
    for rule in _MATCH_RULES:
        texts = [rule(name) for name in names]
        lookups.append(
            (rule, {t: code for code, t in enumerate(texts) if texts.count(t) == 1})
        )
    indices, codes, first_seen = [], [], {}
    for value, label, origin in zip(pool_indices, labels, where, strict=True):
        index = pool_index(value, origin)
        if index in first_seen:
            raise ValueError(
                f"{origin}: pool index {index} is answered twice (also in "
                f"{first_seen[index]}); keep one answer per pool row and remove "
                "the other."
            )
        first_seen[index] = origin
        if _is_missing(label):
            raise ValueError(
                f"{origin} (pool index {index}) has no label; give it one of {names}."
            )
        text = str(label)
        code = _class_code(text, lookups)
        several = None if code is not None else _several_classes(text, lookups)
        if several is not None:
            raise ValueError(
                f"{origin} (pool index {index}) has label {text!r}, which names "
                f"{len(several)} classes ({[names[c] for c in several]}): an answer "
                "is one class per row (multi-class). Multi-label annotation (several "
                "tags per item) is not supported by the annotators; collect those "
                "labels outside them and teach a 0/1 indicator y (user guide: "
                "Multi-label)."
            )
        if code is None:
            raise ValueError(
                f"{origin} (pool index {index}) has label {text!r}, which is not "
                f"one of the classes {names}; correct the label, or add the class "
                "to classes."
            )
        indices.append(index)
        codes.append(code)
    return np.asarray(indices, dtype=int), classes[np.asarray(codes, dtype=int)]
