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
    "NO_TAGS",
    "SKIPPED",
    "TARGET_TYPES",
    "check_answers",
    "check_classes",
    "check_pool_indices",
    "check_target_type",
    "class_names",
    "is_skipped",
    "pool_index",
]

# What an answer is: one class, a set of tags (a 0/1 indicator row of them),
# or a number; the names are scikit-learn's (type_of_target, TargetEncoder).
TARGET_TYPES = ("multiclass", "multilabel", "continuous")
# A multi-label answer of no tags: an empty cell is an unanswered row.
NO_TAGS = "-"
# A file's answer for a row its annotator cannot label (Label Studio's Skip):
# the row is set aside, neither taught nor asked for again.
SKIPPED = "?"


def is_skipped(label):
    """Whether a file's ``label`` cell is the skip marker ``SKIPPED`` (the
    full-width ``？`` of East Asian keyboards too: Unicode-normalised)."""
    return (
        isinstance(label, str)
        and unicodedata.normalize("NFKC", label).strip() == SKIPPED
    )


# What people write for "cannot label" other than the marker: named in the
# message, never read as a skip (a class may be called "none" or "x").
_SKIP_WORDS = {"skip", "skipped", "n/a", "na", "??", "???", "unknown", "unsure"}


def _looks_skipped(label):
    text = unicodedata.normalize("NFKC", str(label)).strip().casefold()
    return text in _SKIP_WORDS or text.strip("\"'") == SKIPPED


def check_target_type(target_type, classes, *, classes_required=True):
    """ValueError unless ``target_type`` is known and ``classes`` fit it.

    Returns the classes checked (None for numbers, or when they may come
    from elsewhere, a Label Studio config).
    """
    if not isinstance(target_type, str) or target_type not in TARGET_TYPES:
        raise ValueError(
            f"target_type must be one of {list(TARGET_TYPES)}, got {target_type!r}: "
            "'multiclass' for one class per row (two classes too), 'multilabel' "
            "for a set of tags per row, 'continuous' for a number per row."
        )
    if target_type == "continuous":
        if classes is not None:
            raise ValueError(
                "classes must be None for target_type='continuous', got "
                f"{np.asarray(classes).tolist()!r}; "
                "the answers are numbers, not classes."
            )
        return None
    if classes is None:
        if classes_required:
            what = "tags" if target_type == "multilabel" else "labels"
            raise ValueError(
                f"classes is required for target_type={target_type!r}: pass the "
                f"{what} an annotator may give, e.g. classes=range(10), or "
                "target_type='continuous' for numbers."
            )
        return None
    classes = check_classes(classes)
    if target_type == "multilabel" and NO_TAGS in [
        name.strip() for name in class_names(classes)
    ]:
        raise ValueError(
            f"classes {list(classes)!r} hold a tag named {NO_TAGS!r}, which a "
            "multi-label answer uses for 'no tags'; rename that tag."
        )
    return classes


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
    # "Golden  Retriever": a space typed twice inside a name
    lambda text: " ".join(unicodedata.normalize("NFKC", text).split()).casefold(),
    lambda text: _integral(text.strip()),
)
# What people put between several tags in one cell: marks (doubled, with
# spaces around) or spaces; a cell may also start or end with a mark.
_TAG_SEPARATORS = re.compile(r"(\s*[;,|/][\s;,|/]*|\s+)")
_EDGE_MARKS = " \t\r\n;,|/"


def _class_code(text, lookups):
    """The code of the class ``text`` names by the first rule that finds one."""
    return next(
        (lookup[rule(text)] for rule, lookup in lookups if rule(text) in lookup),
        None,
    )


def _segment(text, lookups):
    """The classes a cell of several tags names, longest names first, or None.

    The cell is cut at every mark and space, and runs of neighbouring pieces
    are matched as names with their marks kept, so that a tag whose own name
    holds a mark or a space ("T-shirt/top", "big dog") is read whole beside
    others ("T-shirt/top; casual") and never as two other tags. None when no
    cut names classes only.
    """
    pieces = _TAG_SEPARATORS.split(text.strip(_EDGE_MARKS))
    words = pieces[::2]  # pieces[1::2] are the marks between them
    n = len(words)
    # found[i]: the codes of words[i:] cut into names, or None
    found = [None] * n + [[]]
    for i in range(n - 1, -1, -1):
        for j in range(n, i, -1):  # the longest name first
            if found[j] is None:
                continue
            code = _class_code("".join(pieces[2 * i : 2 * j - 1]), lookups)
            if code is not None:
                found[i] = [code, *found[j]]
                break
    return found[0]


def _unknown_part(text, lookups):
    """The first piece between marks of a cell that names no class."""
    parts = filter(None, re.split(r"\s*[;,|/]\s*", text.strip(_EDGE_MARKS)))
    return next((p for p in parts if _segment(p, lookups) is None), text.strip())


def _several_classes(text, lookups):
    """The distinct classes a cell holding several of them names, or None."""
    codes = _segment(text, lookups)
    found = list(dict.fromkeys(codes or ()))
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


def _lookups(names):
    """Each matching rule with the classes by the text it gives.

    Classes that would clash under a rule are left out of its lookup (so
    "CAT" matches no class when the classes are "cat" and "Cat").
    """
    lookups = []
    for rule in _MATCH_RULES:
        texts = [rule(name) for name in names]
        lookups.append(
            (rule, {t: code for code, t in enumerate(texts) if texts.count(t) == 1})
        )
    return lookups


def _one_class(label, names, lookups, origin):
    """The code of the one class ``label`` names; ValueError otherwise."""
    if isinstance(label, (list, tuple)):
        # a tool's list of choices (Label Studio, a JSON list)
        codes = [_class_code(str(part), lookups) for part in label]
        if len(set(codes)) > 1:
            _refuse_several(label, None if None in codes else codes, names, origin)
        label = label[0]
    text = str(label)
    code = _class_code(text, lookups)
    if code is not None:
        return code
    several = _several_classes(text, lookups)
    if several is not None:
        _refuse_several(text, several, names, origin)
    hint = (
        f" ({NO_TAGS!r} is 'no tags' in a multi-label answer: for tags, pass "
        "target_type='multilabel')"
        if text.strip() == NO_TAGS
        else ""
    )
    raise ValueError(
        f"{origin} has label {text!r}, which is not one of the classes {names}"
        f"{hint}; correct the label, or add the class to classes."
    )


def _refuse_several(label, codes, names, origin):
    named = "" if codes is None else f", which names {len(set(codes))} classes"
    listed = "" if codes is None else f" ({[names[c] for c in dict.fromkeys(codes)]})"
    raise ValueError(
        f"{origin} has label {label!r}{named}{listed}: with "
        "target_type='multiclass' an answer is one class per row. For several "
        "tags per item pass target_type='multilabel' (classes are then the tags "
        "and y a 0/1 indicator matrix; user guide: Multi-label)."
    )


def _tags(label, names, lookups, origin):
    """The codes of the tags a multi-label answer names (none for ``NO_TAGS``)."""
    if isinstance(label, (list, tuple)):
        parts = [str(part) for part in label]
    elif str(label).strip() == NO_TAGS:
        parts = []
    else:
        text = str(label)
        codes = _segment(text, lookups)
        if codes is not None:
            return codes
        parts = [_unknown_part(text, lookups)]
    codes = []
    for part in parts:
        code = _class_code(part, lookups)
        if code is None:
            cell = str(label).strip()
            marker = {NO_TAGS: "no tags", SKIPPED: "skip the row"}.get(part.strip())
            if marker is not None and isinstance(label, (list, tuple)):
                raise ValueError(
                    f"{origin} has {part.strip()!r} ({marker}) in the list "
                    f"{list(label)!r}; in a list of tags, no tags is [] and a "
                    f"skipped row is the string {SKIPPED!r}, not a list."
                )
            if marker is not None and cell != part.strip():
                # '-' or '?' beside tags: the mark is meant for the cell alone
                raise ValueError(
                    f"{origin} has {part.strip()!r} ({marker}) beside other tags "
                    f"in {cell!r}; write the tags alone, or {part.strip()!r} "
                    "alone in the cell."
                )
            within = f" (in {cell!r})" if cell != part.strip() else ""
            raise ValueError(
                f"{origin} has tag {part.strip()!r}{within}, which is not one of "
                f"the tags {names}; separate tags with ';' (or ',', '|', '/'), "
                f"write {NO_TAGS!r} for no tags, or add the tag to classes."
            )
        codes.append(code)
    return codes


# A number written with a decimal comma ("3,5"): spreadsheets in locales
# that separate their CSV cells with ';' or tabs write numbers so.
_DECIMAL_COMMA = re.compile(r"\s*[+-]?\d*,\d+\s*")
# Digits grouped by three after a first group that is no zero ("1,250",
# "12.500"): a thousands separator, or a decimal mark, depending on the
# locale. A ';'-separated file is written where the comma is the decimal
# mark, so there only dots grouping digits are in doubt ("1.250"), and
# dots before a decimal comma are thousands ("1.234,5"); a tab-separated
# file does not tell.
_GROUPED = re.compile(r"\s*[+-]?[1-9]\d{0,2}([.,]\d{3})+\s*")
_DOTS_GROUPED = re.compile(r"\s*[+-]?[1-9]\d{0,2}(\.\d{3})+\s*")
_THOUSANDS_DOTS = re.compile(r"\s*[+-]?[1-9]\d{0,2}(\.\d{3})+,\d+\s*")
# What a number is: digits with one decimal point and an exponent (Python's
# float() also takes "1_5", which no person means as 15).
_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
_NOT_FINITE = re.compile(r"\s*[+-]?(nan|inf|infinity)\s*", re.IGNORECASE)


def decimal_point(text, where, delimiter=";"):
    """``"3.5"`` for ``"3,5"`` in a file written with a decimal comma.

    ``delimiter``: the file's cell separator, ``";"`` (a locale whose decimal
    mark is the comma) or a tab (a locale the file does not tell). ValueError
    naming ``where`` for a number that such a file could mean two ways; any
    other text as it is.
    """
    if not isinstance(text, str):
        return text
    if delimiter == ";" and _THOUSANDS_DOTS.fullmatch(text):
        return text.replace(".", "").replace(",", ".")
    doubtful = _DOTS_GROUPED if delimiter == ";" else _GROUPED
    if doubtful.fullmatch(text):
        raise ValueError(
            f"{where} has label {text.strip()!r}, which could be a number with a "
            "thousands separator or with a decimal mark; write it without a "
            "thousands separator, and with the file's decimal mark "
            f"({'a comma: 1,25' if delimiter == ';' else 'e.g. 1250 or 1.25'})."
        )
    if _DECIMAL_COMMA.fullmatch(text):
        return text.replace(",", ".")
    return text


def _number(label, origin):
    """A continuous answer as a finite float; ValueError otherwise."""
    if isinstance(label, (bool, list, tuple, dict)):
        value = None
    elif isinstance(label, numbers.Real):
        value = float(label)
    else:
        # a typographic minus (U+2212), as word processors and some
        # spreadsheets write negative numbers
        text = str(label).replace("\u2212", "-")
        plain = _NUMBER.fullmatch(text) or _NOT_FINITE.fullmatch(text)
        value = float(text.strip()) if plain else None
    if value is None:
        raise ValueError(
            f"{origin} has label {label!r}, which is not a number; with "
            "target_type='continuous' write the value as a number with a decimal "
            "point, e.g. 3.5."
        )
    if not np.isfinite(value):
        raise ValueError(
            f"{origin} has label {label!r}, which is not a finite number; give "
            f"the measured value, or write {SKIPPED!r} if the row has none (it is "
            "then set aside and not asked again; a deleted row is asked again)."
        )
    return value


def check_answers(
    pool_indices,
    labels,
    classes,
    where,
    *,
    target_type="multiclass",
    skip_hint="",
    skip_marker=False,
):
    """Validate raw answers all-or-nothing and decode their labels.

    Parameters
    ----------
    pool_indices : list
        The pool index of each answer (ints, or text holding an int).
    labels : list
        The raw label of each answer: text (or a number, or a tool's list of
        choices) naming a class, several tags or a number; None or empty
        text when missing.
    classes : array-like of shape (n_classes,) or None
        The labels (tags) an annotator may give; an answer names one by its
        text, exactly or, where no two classes would match, up to
        surrounding spaces, Unicode normalisation, case, or a ``.0`` after an
        integer (``"3.0"`` for ``3``). None for ``target_type="continuous"``.
    where : list of str
        Where each answer came from (a file row, a task), for the messages.
    target_type : {"multiclass", "multilabel", "continuous"}, default="multiclass"
        One class per answer; a set of tags per answer (text of tags
        separated by ``;``, ``,``, ``|`` or ``/``, or a list; ``"-"`` or an
        empty list for none); or a finite number per answer.
    skip_hint : str, default=""
        Appended to the message for a missing label: how the tool lets a
        person set a row aside.
    skip_marker : bool, default=False
        Whether the tool sets a row aside by writing ``SKIPPED`` (a batch
        file): a bad label that reads like a skip ("skip", "N/A", "??") then
        names it.

    Returns
    -------
    pool_indices : ndarray of int
    labels : ndarray
        The decoded labels: taken from ``classes`` (so of its dtype) for
        ``"multiclass"``; a 0/1 int indicator matrix of shape
        (n_answers, n_classes), column ``j`` for ``classes[j]``, for
        ``"multilabel"``; floats for ``"continuous"``.

    Raises
    ------
    ValueError
        For the first bad answer: a pool index that is not an integer, a pool
        index answered twice, a missing label, a label outside ``classes``,
        several classes in a multi-class answer, or a label that is not a
        finite number for a continuous target.
    """
    classes = check_target_type(target_type, classes)
    names = None if classes is None else class_names(classes)
    lookups = None if classes is None else _lookups(names)
    indices, decoded, first_seen = [], [], {}
    for value, label, origin in zip(pool_indices, labels, where, strict=True):
        index = pool_index(value, origin)
        if index in first_seen:
            raise ValueError(
                f"{origin}: pool index {index} is answered twice (also in "
                f"{first_seen[index]}); keep one answer per pool row and remove "
                "the other."
            )
        first_seen[index] = origin
        is_list = isinstance(label, (list, tuple))
        if _is_missing(label) or (
            is_list and not label and target_type != "multilabel"
        ):
            give = "a number" if names is None else f"one of {names}"
            if target_type == "multilabel":
                give = f"its tags from {names} ({NO_TAGS!r} for none)"
            raise ValueError(
                f"{origin} (pool index {index}) has no label; give it {give}"
                f"{skip_hint}."
            )
        try:
            decoded.append(
                _decode(
                    label, names, lookups, f"{origin} (pool index {index})", target_type
                )
            )
        except ValueError as exc:
            if skip_marker and _looks_skipped(label):
                # "skip", "N/A", "??": the tool's own way is named
                raise ValueError(
                    f"{exc} If the row cannot be labelled, write {SKIPPED!r} alone "
                    "in its label cell: the row is set aside."
                ) from None
            raise
        indices.append(index)
    indices = np.asarray(indices, dtype=int)
    if target_type == "multiclass":
        return indices, classes[np.asarray(decoded, dtype=int)]
    if target_type == "multilabel":
        indicator = np.zeros((len(decoded), len(names)), dtype=int)
        for row, codes in enumerate(decoded):
            indicator[row, codes] = 1
        return indices, indicator
    return indices, np.asarray(decoded, dtype=float)


def _decode(label, names, lookups, origin, target_type):
    """A class code, a list of tag codes or a number; ValueError naming origin."""
    if target_type == "multiclass":
        return _one_class(label, names, lookups, origin)
    if target_type == "multilabel":
        return _tags(label, names, lookups, origin)
    return _number(label, origin)
