"""The annotation loop through a Label Studio project (label-studio-sdk 2.x).

The project is the whole state. Each pool row is a task whose data hold its
``pool_index``; a batch is the set of tasks carrying a prediction of the
round's model version ``skbatchbald-round-<r>-n<size>`` whose score ranks the
task within the batch; an answer is a task's first submitted (not skipped)
annotation that gives a label. A fresh process reads all of it back, so the
loop resumes after a crash from the server alone.
"""

import contextlib
import hashlib
import json
import re
import warnings
import xml.etree.ElementTree as ElementTree
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

import numpy as np
from sklearn.utils import Bunch

from .._warnings import SkbatchbaldWarning, user_stacklevel
from ._answers import (
    check_answers,
    check_target_type,
    class_names,
    pool_index,
)
from ._batch import check_batch

__all__ = ["LabelStudioAnnotator", "label_config"]

INSTALL_HINT = 'pip install "skbatchbald[label-studio]"'
_VERSION = re.compile(r"skbatchbald-round-(\d+)-n(\d+)")
_UNCERTAINTY = "Uncertainty sampling"
_PAGE_SIZE = 1000
# Up to this many rows, their tasks are found with a Data Manager filter.
_FILTERED_ROWS = 100
# The task data field that records what task_data gave when the task was made.
_DIGEST = "pool_digest"


def _sdk():
    try:
        import label_studio_sdk
    except ImportError as exc:
        raise ImportError(
            f"LabelStudioAnnotator needs label-studio-sdk 2.x ({exc}); install it "
            f"with {INSTALL_HINT}"
        ) from exc
    return label_studio_sdk


def _get(obj, key, default=None):
    """A field of an SDK object or of the plain dict the server sent."""
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _row(task):
    """The pool row of a task (an int, also when imported as text), or None."""
    value = (_get(task, "data") or {}).get("pool_index")
    return None if value is None else pool_index(value, f"task {_get(task, 'id')}")


def _label_studio_reply(body):
    """Whether an HTTP error's body is Label Studio's own error reply.

    Label Studio answers an API error with JSON holding ``detail`` and
    ``status_code`` (and ``version``); another server at the address (a web
    app, a proxy's page, Label Studio reached under a wrong path) sends a page
    or other JSON, which a message about a missing project or a bad key would
    misread.
    """
    return isinstance(body, dict) and "detail" in body and "status_code" in body


def _same_label(label):
    """A raw label as compared between annotations: choices in any order."""
    if isinstance(label, (list, tuple)):
        return tuple(sorted(map(str, label)))
    if isinstance(label, (int, float)) and not isinstance(label, bool):
        return float(label)
    return label


def _label_text(label):
    """A raw label for a message: '3', ['a', 'b'], 2.5, nothing chosen."""
    if label is None or (isinstance(label, (list, tuple)) and not label):
        return "nothing chosen"
    if isinstance(label, (list, tuple)) and len(label) == 1:
        return repr(str(label[0]))
    if isinstance(label, (list, tuple)):
        return repr([str(v) for v in label])
    return repr(label)


def _json_ready(value):
    """``value`` with numpy scalars and arrays as the Python values JSON takes.

    Features of a pool row are numpy values (``X[i]``, ``df.iloc[i]``), which
    the SDK cannot send: a row of float32 pixels would fail with its message
    about iterables.
    """
    if isinstance(value, dict):
        return {_json_ready(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_ready(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def _canonical(value):
    """``value`` as the fingerprint sees it: keys as text, floats to 7 digits.

    JSON sends keys as text anyway (and cannot sort int and str keys
    together); 7 significant digits are what float32 holds, so a pool
    reloaded as float64 is the same pool.
    """
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.7g}")
    return value


def _digest(data):
    """A short fingerprint of a task's JSON data, independent of key order."""
    text = json.dumps(_canonical(data), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _fields(data):
    """The field names of task data, nested ones too, without ours or values.

    Tasks that one ``task_data`` made all have the same fields; a task with
    others was made by another one, whose data this one cannot reproduce.
    """
    if not isinstance(data, dict):
        return None
    return {
        str(k): _fields(v) for k, v in data.items() if k not in ("pool_index", _DIGEST)
    }


def _shown(data):
    """A task's data for a message: its fields but ours, cut to 120 characters."""
    fields = {k: v for k, v in data.items() if k not in ("pool_index", _DIGEST)}
    text = json.dumps(fields, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def label_config(classes=None, *, data="image", target_type="multiclass"):
    """A Label Studio labelling config: one choice per class, or a number.

    Parameters
    ----------
    classes : array-like of shape (n_classes,) or None, default=None
        The labels (tags), shown (and stored) as ``str(c)``; None for
        ``target_type="continuous"``.
    data : {"image", "table"}, default="image"
        What a task shows: ``"image"`` an image from the task's ``image``
        field (a URL or a data URI); ``"table"`` the key/value pairs of its
        ``table`` field (a row of tabular data).
    target_type : {"multiclass", "multilabel", "continuous"}, \
            default="multiclass"
        One choice per task; any number of choices (``choice="multiple"``);
        or a number field (``<Number>``).

    Returns
    -------
    config : str
        XML for a project's ``label_config``, with a ``<Choices
        name="label">`` (or ``<Number name="label">``) tag that
        :class:`LabelStudioAnnotator` reads.

    Examples
    --------
    >>> from skbatchbald.annotation import label_config
    >>> print(label_config(["cat", "dog"]))  # doctest: +NORMALIZE_WHITESPACE
    <View>
      <Image name="image" value="$image"/>
      <Choices name="label" toName="image" choice="single" showInline="true">
        <Choice value="cat"/>
        <Choice value="dog"/>
      </Choices>
    </View>
    >>> print(label_config(target_type="continuous"))
    <View>
      <Image name="image" value="$image"/>
      <Number name="label" toName="image"/>
    </View>
    """
    tags = {
        "image": '<Image name="image" value="$image"/>',
        "table": '<Table name="table" value="$table"/>',
    }
    if data not in tags:
        raise ValueError(f"data must be one of {sorted(tags)}, got {data!r}.")
    classes = check_target_type(target_type, classes)
    if target_type == "continuous":
        answer = f'<Number name="label" toName="{data}"/>'
    else:
        choice = "multiple" if target_type == "multilabel" else "single"
        choices = "".join(
            f"\n    <Choice value={quoteattr(name)}/>" for name in class_names(classes)
        )
        answer = (
            f'<Choices name="label" toName="{data}" choice="{choice}" '
            f'showInline="true">{choices}\n  </Choices>'
        )
    return f"<View>\n  {tags[data]}\n  {answer}\n</View>"


class LabelStudioAnnotator:
    """Ask for labels through a Label Studio project.

    :meth:`request` makes sure each pool row of the batch has a task (its
    data hold ``pool_index``), then marks the batch with one prediction per
    task, of model version ``skbatchbald-round-<r>-n<size>`` and score
    ``rank / size``, and points the project at that version with uncertainty
    sampling. Label Studio's next-task endpoint (the *Label All Tasks*
    button) then serves the batch lowest score first, that is in our
    acquisition order. :meth:`answers` reads the first submitted annotation
    of every task that gives a label back as (pool index, label).

    The project is the state: a new ``LabelStudioAnnotator`` (in a new
    process, after a crash) finds the tasks, rounds and answers on the
    server; re-running :meth:`request` or :meth:`add_tasks` never duplicates
    tasks or predictions.

    What Label Studio 1.23 serves (read in its source, checked on a live
    server): each person gets the unlabelled task of the current model
    version with the lowest score that no one else holds (a task is locked
    while someone labels it). So one person gets the batch in exactly our
    order, and several people share it out in our order (with two, the first
    takes ranks 0, 2, 4, ..., the second 1, 3, 5, ...). Only a project with
    invited members (Label Studio Enterprise teams) shuffles: each person gets
    a random task among the ``n_members + 1`` lowest-scored ones, so the batch
    still comes before any other task, in roughly our order. Once every task
    of the batch is labelled, Label Studio serves random tasks: their answers
    are taught too, after the asked-for ones. A skipped task is set aside
    (:meth:`skipped`): the batch is complete without it, and it is never asked
    for again; labelled later from the Data Manager, it is taught.

    A task annotated by several people (overlap) teaches its first submitted
    annotation that gives a label (one submitted with nothing chosen gives
    none, except for tags, where it means no tags); where a later one gives
    another label, a :class:`~skbatchbald.SkbatchbaldWarning` names the task,
    both annotations and the one taught. A task whose data hold no
    ``pool_index`` (imported by hand, e.g. an example to train annotators) is
    no pool row: it is left out of the loop, with a warning the first time
    this annotator reads it answered.

    Parameters
    ----------
    url : str
        The server, e.g. ``"http://localhost:8080"``.
    api_key : str
        An access token (Account & Settings). A legacy token needs
        ``LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true`` on the server.
    project : int
        The project's id; its labelling config needs a ``<Choices>`` tag, or
        a ``<Number>`` tag for ``target_type="continuous"`` (see
        :func:`label_config`).
    classes : array-like of shape (n_classes,) or None, default=None
        The labels (tags) an annotator may give, matched to the config's
        choices by their text ``str(c)``; every one must be a choice. None
        takes the choices themselves (labels are then strings); None for
        ``target_type="continuous"``.
    task_data : callable or None, default=None
        ``task_data(i)`` returns the data of pool row ``i``'s task, e.g.
        ``{"image": url}`` for an image config or ``{"table": {...}}`` for a
        table config (numpy values, e.g. ``dict(zip(columns, X[i]))``, are
        sent as Python numbers and lists); ``pool_index`` is added, and
        ``pool_digest``, a fingerprint of the data: when the tasks are read
        back, a task whose row's ``task_data`` now gives other data (a pool
        reloaded in another order) is refused with a ValueError instead of
        teaching its answer to the wrong row. Needed to create tasks, and for
        that check: without it (or ``row_key``) nothing can tell which row a
        task shows, so pass it in every process that reads answers, also once
        every task exists. A task whose data have other fields than
        ``task_data`` gives (made by another one) is not checked.
    row_key : callable or None, default=None
        ``row_key(i)`` returns a stable name of pool row ``i`` (a file name,
        an ID), fingerprinted instead of ``task_data(i)``: for a
        ``task_data`` that gives new data on every call for the same row
        (presigned URLs, access tokens). Tasks made with one must be read
        with it.
    create_tasks : bool, default=True
        Whether a pool row without a task gets one, made from ``task_data``.
        False uses ``task_data`` for the check only, so that a process whose
        ``task_data`` may not fit the labelling config never adds a task (a
        missing one raises); ``skbatchbald label`` passes its table of the
        row's features so, unless ``--push-table`` is given.
    target_type : {"multiclass", "multilabel", "continuous"}, \
            default="multiclass"
        What an answer is: one choice (a task answered with several is
        refused, naming the task); any set of choices, the config's
        ``<Choices>`` having ``choice="multiple"`` (a task submitted with
        none has no tags), returned as a 0/1 indicator matrix whose column
        ``j`` is ``classes[j]``; or the number of a ``<Number>`` tag.
    from_name : str or None, default=None
        The ``<Choices>`` (or ``<Number>``) tag to read labels from, when the
        config has several.
    timeout : float, default=60
        Seconds to wait for one API call.

    See Also
    --------
    annotation_round : One round of the loop with any annotator.
    FileAnnotator : The same loop through plain files.
    label_config : A labelling config for images or table rows.
    """

    def __init__(
        self,
        url,
        api_key,
        project,
        *,
        classes=None,
        task_data=None,
        row_key=None,
        create_tasks=True,
        target_type="multiclass",
        from_name=None,
        timeout=60,
    ):
        self.url = url
        self.api_key = api_key
        self.project = project
        self.classes = classes
        self.target_type = target_type
        self.task_data = task_data
        self.row_key = row_key
        self.create_tasks = create_tasks
        self.from_name = from_name
        self.timeout = timeout
        # answered tasks without a pool_index already warned of: once each
        self._warned_foreign = set()

    # -- talking to the server -------------------------------------------------

    @contextlib.contextmanager
    def _errors(self):
        """Turn transport and HTTP errors into one-line errors naming the fix."""
        sdk = _sdk()
        import httpx  # a dependency of label-studio-sdk

        try:
            yield
        except httpx.TransportError as exc:
            raise ConnectionError(
                f"Label Studio at {self.url} is unreachable ({type(exc).__name__}: "
                f"{exc}); start it (label-studio start) or fix url."
            ) from None
        except sdk.core.api_error.ApiError as exc:
            if exc.status_code in (401, 404) and not _label_studio_reply(exc.body):
                raise ValueError(self._not_label_studio(exc.status_code)) from None
            if exc.status_code == 401:
                raise ValueError(
                    f"Label Studio at {self.url} rejected api_key (HTTP 401); copy "
                    "the access token from Account & Settings (a legacy token "
                    "needs LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true)."
                ) from None
            if exc.status_code == 404:
                raise ValueError(
                    f"Label Studio at {self.url} has no project {self.project!r} "
                    "(HTTP 404) or it was deleted; pass the id shown in the "
                    f"project's URL{self._path_hint()}."
                ) from None
            if exc.status_code == 200:  # a body the SDK could not read as JSON
                raise ValueError(
                    f"{self.url} answered with a web page, not Label Studio's API"
                    f"{self._path_hint() or '; check that url is the server'}."
                ) from None
            raise RuntimeError(
                f"Label Studio at {self.url} answered HTTP {exc.status_code}: "
                f"{str(exc.body)[:300]}"
            ) from None

    def _not_label_studio(self, status):
        """The message for an HTTP error that Label Studio did not send."""
        if urlsplit(self.url).path.rstrip("/"):
            fix = (
                f"pass the server's address as url: {self._base_url()!r} (unless "
                "Label Studio is served under that path), not a page's or the "
                "API's address"
            )
        else:
            fix = (
                "check url's host and port (label-studio start prints the address "
                "it serves, e.g. http://127.0.0.1:8080)"
            )
        return (
            f"The server at {self.url} does not look like Label Studio: it answered "
            f"the API call for project {self.project!r} (HTTP {status}) without "
            f"Label Studio's error reply; {fix}."
        )

    def _base_url(self):
        """The server's address from url; ValueError naming a malformed one."""
        parts = urlsplit(self.url) if isinstance(self.url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"url must be the server's address with its scheme, e.g. "
                f"'http://127.0.0.1:8080', got {self.url!r}; add 'http://' (or "
                "'https://') in front of host:port."
            )
        return f"{parts.scheme}://{parts.netloc}"

    def _path_hint(self):
        """Advice for a url with a path, e.g. a page's address copied whole."""
        if urlsplit(self.url).path.rstrip("/"):
            return (
                f", and the server's address as url: {self._base_url()!r} (unless "
                "Label Studio is served under that path), not a page's or the "
                "API's address"
            )
        return ""

    @contextlib.contextmanager
    def _connect(self):
        """The SDK client and the project for one call, its connections closed after."""
        self._base_url()
        if not isinstance(self.api_key, str) or not self.api_key.strip():
            raise ValueError(
                f"api_key must be a Label Studio access token, got "
                f"{self.api_key!r}; copy it from Account & Settings, e.g. "
                "api_key=os.environ['LABEL_STUDIO_API_KEY'] (an unset or empty "
                "variable gives this)."
            )
        sdk = _sdk()
        import httpx  # a dependency of label-studio-sdk

        # Our own HTTP client, closed when the call is done: the SDK's own
        # would keep its sockets to the server open until garbage collection.
        http = httpx.Client(timeout=self.timeout, follow_redirects=True)
        try:
            with self._errors():
                client = sdk.LabelStudio(
                    base_url=self.url,
                    api_key=self.api_key,
                    timeout=self.timeout,
                    httpx_client=http,
                )
                project = client.projects.get(id=self.project)
            yield client, project
        finally:
            http.close()

    def _answer_tag(self, project):
        """(from_name, classes) from the project's labelling config.

        The config's one ``<Choices>`` tag, or ``<Number>`` tag for numbers
        (the one named ``from_name``); classes None for numbers.
        """
        classes = check_target_type(
            self.target_type, self.classes, classes_required=False
        )
        kind = "Number" if self.target_type == "continuous" else "Choices"
        parsed = _get(project, "parsed_label_config") or {}
        tags = {
            name: tag
            for name, tag in parsed.items()
            if str(_get(tag, "type", "")).lower() == kind.lower()
        }
        if self.from_name is not None:
            tags = {k: v for k, v in tags.items() if k == self.from_name}
        if len(tags) != 1:
            what = "no" if not tags else f"{len(tags)}"
            named = f" named {self.from_name!r}" if self.from_name else ""
            need = (
                "one <Number> tag"
                if kind == "Number"
                else "one <Choices> tag with a <Choice> per class"
            )
            raise ValueError(
                f"The labelling config of Label Studio project {self.project} has "
                f"{what} <{kind}> tag(s){named} for target_type="
                f"{self.target_type!r}; give it {need} (see "
                "skbatchbald.annotation.label_config), or pass from_name."
            )
        ((from_name, tag),) = tags.items()
        if kind == "Number":
            return from_name, None
        if self.target_type == "multilabel":
            self._check_multiple_choice(project, from_name)
        names = [str(n) for n in _get(tag, "labels", [])]
        if classes is None:
            if not names:
                raise ValueError(
                    f"The <Choices name={from_name!r}> of Label Studio project "
                    f"{self.project} has no <Choice>; add one per class."
                )
            return from_name, check_target_type(self.target_type, np.asarray(names))
        missing = [n for n in class_names(classes) if n not in names]
        if missing:
            raise ValueError(
                f"The labelling config of Label Studio project {self.project} lacks "
                f"the class names {missing} in <Choices name={from_name!r}>; add a "
                "<Choice value=...> for each, or pass classes matching its choices."
            )
        return from_name, classes

    @staticmethod
    def _config_element(project, from_name, tag):
        """The labelling config's ``<tag name=from_name>`` element, or None.

        Label Studio's parsed config leaves out a tag's attributes (a
        ``<Choices>``'s ``choice``, a ``<Number>``'s ``min`` and ``max``), so
        the config's XML is read; one that does not parse gives None.
        """
        try:
            root = ElementTree.fromstring(_get(project, "label_config") or "")
        except ElementTree.ParseError:
            return None
        return next(
            (
                element
                for element in root.iter()
                if element.get("name") == from_name and element.tag.lower() == tag
            ),
            None,
        )

    def _check_multiple_choice(self, project, from_name):
        """ValueError if the tags' ``<Choices>`` lets a person pick one only."""
        element = self._config_element(project, from_name, "choices")
        choice = "multiple" if element is None else element.get("choice", "single")
        if choice != "multiple":
            raise ValueError(
                f"The <Choices name={from_name!r}> of Label Studio project "
                f"{self.project} has choice={choice!r}, so a person can "
                "pick one tag per task; with target_type='multilabel' "
                'set choice="multiple" in the labelling config (see '
                "skbatchbald.annotation.label_config)."
            )

    def _check_number_range(self, project, from_name, indices, values, where):
        """ValueError naming the first number outside the ``<Number>``'s range.

        Label Studio's form keeps a person within ``min`` and ``max``, but an
        answer imported or sent through the API is not checked by it.
        """
        element = self._config_element(project, from_name, "number")
        if element is None:
            return
        bounds = []
        for key, default in (("min", -np.inf), ("max", np.inf)):
            try:
                bounds.append(float(element.get(key, default)))
            except ValueError:  # a bound Label Studio itself would not read
                bounds.append(default)
        low, high = bounds
        outside = np.flatnonzero((values < low) | (values > high))
        if outside.size:
            i = outside[0]
            raise ValueError(
                f"{where[i]} (pool index {indices[i]}) has the number "
                f"{values[i]:g}, outside the range [{low:g}, {high:g}] of "
                f"<Number name={from_name!r}> in Label Studio project "
                f"{self.project}; correct the annotation, or widen min and max "
                "in the labelling config."
            )

    def _list_tasks(self, client, items=None, *, fields=None):
        """The project's tasks, all or those matching any Data Manager filter."""
        query = None
        if items is not None:
            query = json.dumps({"filters": {"conjunction": "or", "items": items}})
        fields = {"fields": "all"} if fields == "all" else {"include": "id,data"}
        with self._errors():
            return list(
                client.tasks.list(
                    project=self.project, query=query, page_size=_PAGE_SIZE, **fields
                )
            )

    def _marked_tasks(self, client):
        """Tasks with a prediction, an annotation or a skip, with all of them."""
        items = [
            {
                "filter": f"filter:tasks:{field}",
                "operator": "greater",
                "type": "Number",
                "value": 0,
            }
            for field in (
                "total_predictions",
                "total_annotations",
                "cancelled_annotations",
            )
        ]
        return self._list_tasks(client, items, fields="all")

    def _tasks_of_rows(self, client, indices):
        """Tasks of these pool rows: filtered on the server for a batch."""
        if len(indices) > _FILTERED_ROWS:  # a whole pool: one listing is faster
            return self._list_tasks(client)
        items = [
            {
                "filter": "filter:tasks:data.pool_index",
                "operator": "equal",
                "type": "Number",
                "value": int(i),
            }
            for i in indices
        ]
        return self._list_tasks(client, items)

    def _state(self, client, from_name):
        """Read the rounds, the pending tasks and the answers from the server.

        Returns a Bunch: ``sizes`` (round -> size), ``marked`` (task id ->
        (round, rank)), ``tasks`` (task id -> task, every task with a
        prediction, an annotation or a skip), ``pending``, ``answered`` and
        ``skipped`` (the rows of tasks that were skipped (cancelled) and have no
        submitted annotation), each asked-for ones first in request order;
        ``disputed``, the answered tasks whose annotations disagree, and
        ``foreign``, the ids of answered tasks with no ``pool_index``.
        """
        with self._errors():
            predictions = list(client.predictions.list(project=self.project))
        tasks = {_get(t, "id"): t for t in self._marked_tasks(client)}
        marked = {}  # task id -> (round, rank)
        sizes, members = {}, {}
        for prediction in predictions:
            match = _VERSION.fullmatch(str(_get(prediction, "model_version", "")))
            if not match:
                continue
            round_, size = int(match.group(1)), int(match.group(2))
            rank = round(float(_get(prediction, "score") or 0.0) * size)
            task_id = _get(prediction, "task")
            marked[task_id] = (round_, rank)
            sizes[round_] = size
            # tasks, not predictions: two identical requests at once give a
            # task two equal predictions, which serve it no differently
            members.setdefault(round_, set()).add(task_id)
        for round_, size in sorted(sizes.items()):
            self._check_round_size(round_, size, len(members[round_]))
        pending, answered, skipped = [], [], []
        disputed, foreign = [], []
        for task_id, task in tasks.items():
            every = _get(task, "annotations") or []
            order = marked.get(task_id)
            raw_index = (_get(task, "data") or {}).get("pool_index")
            if raw_index is None:
                # not a pool row's task (one imported by hand, e.g. to train
                # annotators): no part of the loop, as when tasks are created
                if any(not _get(a, "was_cancelled") for a in every):
                    foreign.append(task_id)
                continue
            annotations = sorted(
                (a for a in every if not _get(a, "was_cancelled")),
                key=lambda a: _get(a, "id"),
            )
            if annotations:
                first, label, others = self._answer_of(annotations, from_name)
                key = (0, *order) if order else (1, _get(first, "id"), 0)
                where = f"task {task_id}"
                if len(annotations) > 1:
                    where += f", annotation {_get(first, 'id')}"
                answered.append((key, raw_index, label, where))
                if others:
                    disputed.append(
                        (key, task_id, raw_index, (_get(first, "id"), label), others)
                    )
            elif every:
                # Skip: the person cannot label it; the batch goes on without it
                first_id = min(_get(a, "id") for a in every)
                key = (0, *order) if order else (1, first_id, 0)
                skipped.append((key, _row(task)))
            elif order:
                pending.append((order, _row(task)))
        pending.sort(key=lambda p: p[0])
        answered.sort(key=lambda a: a[0])
        skipped.sort(key=lambda a: a[0])
        disputed.sort(key=lambda d: d[0])
        return Bunch(
            sizes=sizes,
            marked=marked,
            tasks=tasks,
            pending=pending,
            answered=answered,
            skipped=skipped,
            disputed=[d[1:] for d in disputed],
            foreign=sorted(foreign),
        )

    def _check_round_size(self, round_, size, n_tasks):
        """ValueError if a round has fewer or more tasks than it asked for."""
        version = f"skbatchbald-round-{round_}-n{size}"
        if n_tasks < size:
            raise ValueError(
                f"Label Studio project {self.project} has {n_tasks} of the {size} "
                f"tasks asked for in round {round_}: tasks were deleted by hand. "
                f"Delete the predictions of model version {version} (Data "
                "Manager, Actions) so that their rows can be asked for again."
            )
        if n_tasks > size:
            # Two processes that both found no batch pending each asked for
            # round r: one model version then marks both batches, ranks
            # interleaved, served as one batch of twice the size.
            raise ValueError(
                f"Label Studio project {self.project} has {n_tasks} tasks marked "
                f"for round {round_}, which asked for {size}: two rounds ran at "
                "once (two processes, e.g. a scheduler and a person) and each "
                f"asked for a batch. Delete the predictions of model version "
                f"{version} (Data Manager, Actions; answers given stay and are "
                "taught), then run one round, and run rounds one at a time."
            )

    def _label_of(self, annotation, from_name):
        """The raw label of one annotation: its choices or number, or None."""
        # a multi-label task submitted with no choice has no tags
        label = [] if self.target_type == "multilabel" else None
        key = "number" if self.target_type == "continuous" else "choices"
        for item in _get(annotation, "result") or []:
            if _get(item, "from_name") == from_name:
                label = (_get(item, "value") or {}).get(key)
        return label

    def _answer_of(self, annotations, from_name):
        """A task's answer: (annotation, raw label, [(id, label) disagreeing]).

        The first submitted annotation that gives a label is the answer. For
        one class or a number, an annotation submitted with nothing chosen
        answers nothing (the round would refuse it as having no label), so a
        teammate's later answer is taken rather than holding up the loop;
        when no annotation gives one, the first is returned, for that error.
        For tags, submitting none is an answer (no tags), so the first is
        taken. Later annotations with another label are returned, for a
        warning: with overlap, a disagreement is what a team wants to see.
        """
        labels = [(a, self._label_of(a, from_name)) for a in annotations]
        if self.target_type != "multilabel":
            given = [(a, label) for a, label in labels if label not in (None, [])]
        else:
            given = labels
        first, label = (given or labels)[0]
        others = [
            (_get(a, "id"), other)
            for a, other in given
            if a is not first and _same_label(other) != _same_label(label)
        ]
        return first, label, others

    # -- the annotator protocol ------------------------------------------------

    def add_tasks(self, pool_indices):
        """Create a task for each of these pool rows that has none yet.

        Pushing the whole pool up front (``add_tasks(range(n_pool))``) lets
        people browse it; otherwise :meth:`request` creates the batch's tasks.

        Parameters
        ----------
        pool_indices : array-like of int
            Pool rows; those with a task already are left alone.

        Returns
        -------
        task_ids : dict
            Pool index -> task id, for every row of ``pool_indices``.

        Raises
        ------
        ValueError
            If a row has two tasks, or rows lack tasks and ``task_data`` is None
            or ``create_tasks`` False.
        """
        indices, _ = check_batch(pool_indices, None)
        with self._connect() as (client, project):
            self._answer_tag(project)
            return self._add_tasks(client, indices)

    def _add_tasks(self, client, indices):
        existing = {}
        for task in self._tasks_of_rows(client, indices):
            row = _row(task)
            if row is None:
                continue  # not a pool row's task
            if row in existing:
                raise ValueError(
                    f"Label Studio project {self.project} has two tasks for pool row "
                    f"{row} (tasks {existing[row]} and {_get(task, 'id')}); delete "
                    "one of them."
                )
            existing[row] = _get(task, "id")
        missing = [int(i) for i in indices if int(i) not in existing]
        if missing:
            if self.task_data is None or not self.create_tasks:
                raise ValueError(
                    f"Pool rows {missing[:10]} have no task in Label Studio project "
                    f"{self.project} (none was imported, or they were deleted by "
                    "hand): pass task_data (and create_tasks=True) so that they "
                    "can be created "
                    "(skbatchbald label: --push-table, for a config of "
                    "label_config(classes, data='table')), or import tasks whose "
                    "data hold each row's pool_index."
                )
            tasks = [self._task(i) for i in missing]
            with self._errors():
                response = client.projects.import_tasks(
                    id=self.project, request=tasks, return_task_ids=True
                )
            existing.update(zip(missing, _get(response, "task_ids"), strict=True))
        return {int(i): existing[int(i)] for i in indices}

    def _task(self, index):
        """Pool row ``index``'s task data: task_data's, made JSON, and its row."""
        data = self.task_data(index)
        if not isinstance(data, dict):
            raise ValueError(
                f"task_data({index}) returned {type(data).__name__}, not a dict; "
                'return the task\'s fields, e.g. {"image": url}.'
            )
        data = _json_ready(data)
        key = data if self.row_key is None else self._row_key(index)
        try:
            json.dumps(data)
            digest = _digest(key)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"task_data({index}) holds a value that is not JSON ({exc}); return "
                "strings, numbers, lists and dicts of them."
            ) from None
        # the digest lets a later process check that row `index` is still the
        # row this task shows (a pool reloaded in another order is not)
        return {**data, "pool_index": index, _DIGEST: digest}

    def _row_key(self, index):
        """``row_key(index)`` as JSON-ready data, for the fingerprint."""
        key = _json_ready(self.row_key(index))
        try:
            json.dumps(key)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"row_key({index}) returned a value that is not JSON ({exc}); "
                "return a string or number naming the row, e.g. its file name."
            ) from None
        return key

    def _check_rows_unchanged(self, tasks):
        """ValueError if a task made here shows other data than its row now.

        A task made by :meth:`add_tasks` or :meth:`request` records the digest
        of what ``task_data`` gave for its row; a pool reloaded in another
        order (or changed) gives its rows other data, and an answer would be
        taught to the wrong row. Tasks imported by hand carry no digest and
        are not checked, nor is anything when ``task_data`` and ``row_key``
        are None. Nor is a task whose data have other fields than
        ``task_data`` gives: another ``task_data`` made it (images made in
        Python, read by ``skbatchbald label``, whose ``task_data`` is a table
        of the row's features), and what it shows cannot be compared.
        """
        if self.task_data is None and self.row_key is None:
            return
        changed = []
        for task in tasks:
            data = _get(task, "data") or {}
            if _DIGEST not in data or _row(task) is None:
                continue
            row = _row(task)
            if self.row_key is not None:
                now = {"row_key": self._row_key(row)}
                now[_DIGEST] = _digest(now["row_key"])
            else:
                now = self._task(row)
                if _fields(now) != _fields(data):
                    continue
            if now[_DIGEST] != data[_DIGEST]:
                changed.append((row, _get(task, "id"), data, now))
        if not changed:
            return
        row, task_id, then, now = changed[0]
        rows = sorted(c[0] for c in changed)
        if self.row_key is None:
            what = "other data than their pool rows give now"
            given = f"row {row} now gives {_shown(now)}"
        else:
            what = "other data than row_key gives for their pool rows now"
            given = f"row_key({row}) now gives {_shown(now)}"
        raise ValueError(
            f"{len(changed)} task(s) of Label Studio project {self.project} show "
            f"{what} (rows {rows[:10]}): task {task_id} was made for row {row} "
            f"from {_shown(then)}, and {given}. The pool was reordered or changed "
            "since the tasks were made, so their answers would be taught to other "
            "rows. Load the pool in the order it had then (e.g. sort it by a "
            "stable id), or pass a task_data that gives what it gave then; if "
            "task_data gives new data on every call for the same row (presigned "
            "URLs, tokens), pass row_key, a stable name of each row (e.g. "
            "row_key=lambda i: file_names[i]), which the check then compares "
            "instead."
        )

    def request(self, pool_indices, scores=None):
        """Mark a batch for labelling, served in this order.

        Creates the missing tasks, adds one prediction per task in one call
        (score ``rank / size``), then points the project at the round's model
        version with uncertainty sampling. Idempotent: re-running it with
        the newest batch changes nothing; after a crash half-way it completes
        the batch.

        Parameters
        ----------
        pool_indices : array-like of int
            Pool rows to label, in acquisition order.
        scores : array-like of float or None, default=None
            The acquisition scores; checked, but Label Studio keeps the rank
            as the prediction's score.

        Raises
        ------
        ValueError
            If a row was already asked for or answered, the config lacks the
            classes, or a task shows other data than ``task_data`` gives for
            its row now (the pool was reordered).
        """
        indices, _ = check_batch(pool_indices, scores)
        with self._connect() as (client, project):
            from_name, classes = self._answer_tag(project)
            read = self._state(client, from_name)
            self._check_rows_unchanged(read.tasks.values())
            if indices.size == 0:
                return
            sizes = read.sizes
            newest = max(sizes, default=0)
            newest_rows = [
                (rank, _row(read.tasks[tid]))
                for tid, (round_, rank) in read.marked.items()
                if round_ == newest and tid in read.tasks
            ]
            if [i for _, i in sorted(newest_rows)] == indices.tolist():
                self._point_project(client, newest, sizes[newest], project)
                return
            answered_rows, _ = check_answers(
                [a[1] for a in read.answered],
                [a[2] for a in read.answered],
                classes,
                [a[3] for a in read.answered],
                target_type=self.target_type,
            )
            asked = {i for _, i in [*read.pending, *read.skipped]}
            asked |= set(answered_rows.tolist())
            again = [int(i) for i in indices if int(i) in asked]
            if again:
                raise ValueError(
                    f"Pool rows {again[:10]} were already asked for, skipped or "
                    "answered in "
                    f"Label Studio project {self.project}; request only rows asked "
                    "for in no round."
                )
            task_ids = self._add_tasks(client, indices)
            round_, size = newest + 1, indices.size
            version = f"skbatchbald-round-{round_}-n{size}"
            # One call for the whole batch: a crash leaves all or none of it.
            predictions = [
                {
                    "task": task_ids[int(i)],
                    "result": [],
                    "score": rank / size,
                    "model_version": version,
                }
                for rank, i in enumerate(indices)
            ]
            with self._errors():
                response = client.projects.import_predictions(
                    id=self.project, request=predictions
                )
            if _get(response, "created") != size:
                raise RuntimeError(
                    f"Label Studio created {_get(response, 'created')} of the {size} "
                    f"predictions of {version}; see the server's log."
                )
            # Label Studio accepts a model version only once predictions carry it,
            # so this comes last; pending() redoes it after a crash in between.
            self._point_project(client, round_, size)

    def _point_project(self, client, round_, size, project=None):
        version = f"skbatchbald-round-{round_}-n{size}"
        if (
            project is not None
            and _get(project, "model_version") == version
            and _get(project, "sampling") == _UNCERTAINTY
        ):
            return
        with self._errors():
            client.projects.update(
                id=self.project,
                model_version=version,
                sampling=_UNCERTAINTY,
            )

    def pending(self):
        """Pool rows asked for and not answered yet.

        The project is pointed at the model version of the oldest round with
        a pending task, so that Label Studio serves it: after a
        :meth:`request` that stopped between adding the predictions and
        pointing the project, or a task of an earlier round that became
        pending again (its skip or answer deleted), which the newest round's
        model version would leave to be served at random.

        Returns
        -------
        pool_indices : ndarray of int
            In request order: oldest round first, each in acquisition order.
        """
        with self._connect() as (client, project):
            from_name, _ = self._answer_tag(project)
            read = self._state(client, from_name)
            self._check_rows_unchanged(read.tasks.values())
            return self._pending_rows(client, project, read.sizes, read.pending)

    def _pending_rows(self, client, project, sizes, pending):
        """The pending rows, the project pointed at the oldest one's round."""
        if pending:
            (oldest, _), _ = pending[0]
            self._point_project(client, oldest, sizes[oldest], project)
        return np.asarray([i for _, i in pending], dtype=int)

    def answers(self):
        """Every answered task, checked all-or-nothing.

        A task's answer is its first submitted (not skipped) annotation that
        gives a label (for tags, the first submitted one); tasks with no
        ``pool_index`` in their data are left out.

        Returns
        -------
        pool_indices : ndarray of int
            Asked-for rows in request order (oldest round first, each in
            acquisition order), then rows labelled without being asked for, in
            the order they were labelled.
        labels : ndarray
            The label of each: one of ``classes``; for ``"multilabel"`` a 0/1
            int indicator matrix of shape (n_answered, n_classes); for
            ``"continuous"`` floats.

        Raises
        ------
        ValueError
            Naming the task, if an annotation has no choice or one outside
            ``classes``, several choices for ``"multiclass"``, no finite
            number for ``"continuous"`` (or one outside the ``<Number>``'s
            ``min`` and ``max``), a task's ``pool_index`` is not an integer, two tasks
            answer the same pool row, or a task shows other data than
            ``task_data`` gives for its row now (the pool was reordered). Also
            if a round has more tasks than it asked for (two rounds ran at
            once) or fewer (tasks deleted by hand).

        Warns
        -----
        SkbatchbaldWarning
            Naming the tasks whose annotations give different labels, and the
            answer taught; and, once per annotator, the answered tasks with no
            ``pool_index``, which are left out.
        """
        with self._connect() as (client, project):
            from_name, classes = self._answer_tag(project)
            read = self._state(client, from_name)
            self._check_rows_unchanged(read.tasks.values())
            return self._checked_answers(project, from_name, classes, read)

    def _checked_answers(self, project, from_name, classes, read):
        """(pool indices, labels) of the answered tasks, checked all-or-nothing.

        Warns of the answered tasks left out (no ``pool_index``) and of the
        tasks whose annotations disagree, once the answers are good.
        """
        answered = read.answered
        where = [a[3] for a in answered]
        indices, labels = check_answers(
            [a[1] for a in answered],
            [a[2] for a in answered],
            classes,
            where,
            target_type=self.target_type,
            skip_hint=(
                " in Label Studio, or Skip the task if it cannot be labelled "
                "(it is set aside)"
            ),
        )
        if self.target_type == "continuous":
            self._check_number_range(project, from_name, indices, labels, where)
        self._warn_foreign(read.foreign)
        self._warn_disputed(read.disputed)
        return indices, labels

    def _warn_foreign(self, task_ids):
        """Warn once of the answered tasks that carry no ``pool_index``."""
        new = [t for t in task_ids if t not in self._warned_foreign]
        if not new:
            return
        self._warned_foreign.update(new)
        more = f" and {len(new) - 10} more" if len(new) > 10 else ""
        warnings.warn(
            f"Label Studio project {self.project} has {len(new)} answered task(s) "
            f"without a pool_index in their data (tasks {new[:10]}{more}), "
            "imported by hand rather than made by skbatchbald: they are no pool "
            "rows, so their answers are left out of the loop; to teach one, give "
            "its task the pool_index of its row.",
            SkbatchbaldWarning,
            stacklevel=user_stacklevel(),
        )

    def _warn_disputed(self, disputed):
        """Warn of the tasks whose annotations give different labels."""
        if not disputed:
            return
        shown = []
        for task_id, row, (first_id, label), others in disputed[:3]:
            says = ", ".join(
                f"annotation {other_id} says {self._label_text(other)}"
                for other_id, other in others
            )
            shown.append(
                f"task {task_id} (pool row {row}): annotation {first_id} says "
                f"{self._label_text(label)} (taught), {says}"
            )
        more = f"; and {len(disputed) - 3} more" if len(disputed) > 3 else ""
        warnings.warn(
            f"Label Studio project {self.project} has {len(disputed)} task(s) whose "
            "annotations disagree, of which the first submitted one with a label "
            f"is taught: {'; '.join(shown)}{more}. Review them in the Data Manager "
            "and delete the wrong annotation (or correct it), so that the label "
            "meant is taught.",
            SkbatchbaldWarning,
            stacklevel=user_stacklevel(),
        )

    def _label_text(self, label):
        """A raw label for a message: '3', ['a', 'b'], 2.5, no tags."""
        if self.target_type == "multilabel" and not label:
            return "no tags"
        return _label_text(label)

    def skipped(self):
        """Pool rows whose tasks were skipped and never submitted.

        A person who presses *Skip* cannot label the task: it is set aside,
        so the batch is complete without it (:meth:`pending` leaves it out)
        and :func:`annotation_round` never asks for it again. An annotation
        submitted later (from the Data Manager, or by a teammate the project
        serves it to) makes it an answer, taught like any other.

        Returns
        -------
        pool_indices : ndarray of int
            Asked-for rows in request order (oldest round first, each in
            acquisition order), then rows skipped without being asked for.
        """
        with self._connect() as (client, project):
            from_name, _ = self._answer_tag(project)
            read = self._state(client, from_name)
            return np.asarray([i for _, i in read.skipped], dtype=int)

    def state(self):
        """The answers, the pending rows and the skipped rows, in one read.

        What :meth:`answers`, :meth:`pending` and :meth:`skipped` return, with
        the same checks (and :meth:`pending`'s pointing of the project), from
        one listing of the project: :func:`annotation_round` calls this once
        a round, where the three would list the project three times.

        Returns
        -------
        state : sklearn.utils.Bunch
            ``answered`` and ``labels`` (as :meth:`answers`), ``pending`` (as
            :meth:`pending`) and ``skipped`` (as :meth:`skipped`).

        Raises
        ------
        ValueError
            As :meth:`answers` does; nothing is changed on the server then.

        Warns
        -----
        SkbatchbaldWarning
            As :meth:`answers` does.
        """
        with self._connect() as (client, project):
            from_name, classes = self._answer_tag(project)
            read = self._state(client, from_name)
            self._check_rows_unchanged(read.tasks.values())
            answered, labels = self._checked_answers(project, from_name, classes, read)
            return Bunch(
                answered=answered,
                labels=labels,
                pending=self._pending_rows(client, project, read.sizes, read.pending),
                skipped=np.asarray([i for _, i in read.skipped], dtype=int),
            )
