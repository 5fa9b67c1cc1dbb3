"""Texts in ActiveLearner: tables of one text column and bare labels are named."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skbatchbald import ActiveLearner, MarginQuery

TEXTS = [f"word{i % 4} common thing {i}" for i in range(40)]
LABELS = np.array(["billing", "bug", "shipping", "other"])[np.arange(40) % 4]
TABLE = r"is a table \({kind} of shape {shape}\).*df\['text'\] \(not df\[\['text'\]\]\)"


def _pipeline(vectorizer=TfidfVectorizer):
    return make_pipeline(vectorizer(), LogisticRegression())


@pytest.mark.parametrize(
    "model",
    [
        _pipeline,
        lambda: _pipeline(HashingVectorizer),
        lambda: GridSearchCV(_pipeline(), {"logisticregression__C": [1.0]}, cv=2),
    ],
    ids=["tfidf", "hashing", "search"],
)
def test_a_table_of_texts_is_named_with_the_column_fix(model):
    # each failed deep in scikit-learn: "inconsistent numbers of samples",
    # "'numpy.ndarray' object has no attribute 'lower'", rows shape (1,)
    frame = pd.DataFrame({"text": TEXTS})
    with pytest.raises(ValueError, match=TABLE.format(kind="DataFrame", shape="8x1")):
        ActiveLearner(model(), X_training=frame[:8], y_training=LABELS[:8])
    learner = ActiveLearner(
        model(), MarginQuery(), X_training=frame["text"][:8], y_training=LABELS[:8]
    )
    with pytest.raises(ValueError, match=TABLE.format(kind="DataFrame", shape="2x1")):
        learner.teach(frame[8:10], LABELS[8:10])
    column = frame[["text"]].to_numpy()
    with pytest.raises(ValueError, match=TABLE.format(kind="ndarray", shape="30x1")):
        learner.query(column[10:], n_instances=2)
    assert len(learner.y_training) == 8  # nothing taught
    # the fixes it names
    learner.teach(frame["text"][8:10], LABELS[8:10])
    idx, _ = learner.query(column[10:].ravel(), n_instances=2)
    assert len(set(idx.tolist())) == 2


def test_a_numeric_table_before_a_model_is_left_alone():
    X = np.random.default_rng(0).normal(size=(12, 3))
    learner = ActiveLearner(LogisticRegression(), X_training=X, y_training=LABELS[:12])
    assert learner.score(X, LABELS[:12]) > 0


def test_one_label_for_one_row_names_the_list():
    learner = ActiveLearner(_pipeline(), X_training=TEXTS[:8], y_training=LABELS[:8])
    with pytest.raises(ValueError, match=r"y is a single label \('bug'\).*\['bug'\]"):
        learner.teach(["app freezes"], "bug")
    learner.teach(["app freezes"], ["bug"])
    assert learner.y_training[-1] == "bug"


def test_labels_that_differ_in_case_or_spaces_are_warned_about():
    # "Billing " taught beside "billing" was a new class, without a word
    learner = ActiveLearner(_pipeline(), X_training=TEXTS[:8], y_training=LABELS[:8])
    with pytest.warns(
        UserWarning, match=r"differ only in case or spaces \('Billing ' vs 'billing'\)"
    ):
        learner.teach(TEXTS[8:10], ["Billing ", "bug"])
    assert "Billing " in learner.estimator.classes_
    with pytest.warns(UserWarning, match=r"'Other' vs 'other'"):
        ActiveLearner(
            _pipeline(), X_training=TEXTS[:3], y_training=["other", "Other", "bug"]
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learner.teach(TEXTS[10:12], ["bug", "shipping"])  # no new variant
        ActiveLearner(LogisticRegression(), X_training=np.eye(3), y_training=[1, 2, 3])


@pytest.mark.filterwarnings("ignore::skbatchbald.acquisition.TiedScoresWarning")
def test_rows_of_tokens_for_a_callable_analyzer_pass():
    # a callable analyzer (or preprocessor) reads array rows as documents
    from sklearn.feature_extraction.text import CountVectorizer

    tokens = np.array([t.split() for t in TEXTS])  # (40, 4) words
    model = make_pipeline(CountVectorizer(analyzer=list), LogisticRegression())
    learner = ActiveLearner(
        model, MarginQuery(), X_training=tokens[:8], y_training=LABELS[:8]
    )
    _, rows = learner.query(tokens[8:], n_instances=2)
    assert rows.shape == (2, 4)
    # a DataFrame is still read as its column names
    with pytest.raises(ValueError, match=r"is a table \(DataFrame"):
        learner.query(pd.DataFrame(tokens[8:]), n_instances=2)


def test_tags_joined_in_one_label_are_warned_about():
    # "red;cotton" beside "red" was learnt as one class of its own, in silence
    learner = ActiveLearner(_pipeline())
    y = ["red;cotton", "red", "blue;cotton", "blue", "red", "blue", "red;silk", "silk"]
    with pytest.warns(UserWarning, match=r"tags joined by ';'.*\['blue', 'red'"):
        learner.teach(TEXTS[:8], y)
    # a tag in another place: "cotton;red" beside "red;silk"
    with pytest.warns(UserWarning, match=r"tags such as \['red'\]"):
        ActiveLearner(
            _pipeline(),
            X_training=TEXTS[:3],
            y_training=["cotton;red", "red;silk", "x"],
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # one joined label, or joined labels sharing no tag: classes of their own
        ActiveLearner(_pipeline(), X_training=TEXTS[:3], y_training=["a;b", "c", "d"])
        ActiveLearner(_pipeline(), X_training=TEXTS[:3], y_training=["a;b", "c|d", "e"])
        # paths and codes: their parts keep their place and stand alone nowhere
        paths = ["Electronics|Phones", "Electronics|Laptops", "Home|Kitchen"]
        ActiveLearner(_pipeline(), X_training=TEXTS[:3], y_training=paths)
        codes = ["J45;asthma", "J45;severe asthma", "I10;hypertension"]
        ActiveLearner(_pipeline(), X_training=TEXTS[:3], y_training=codes)
        # a variant spelling beside unrelated joined labels is not joined tags
        warnings.filterwarnings("ignore", message=".*differ only in case")
        spelt = ["a;b", "c;d", "red", "red "]
        ActiveLearner(_pipeline(), X_training=TEXTS[:4], y_training=spelt)


def test_picks_that_copy_a_labelled_text_are_warned_about():
    from sklearn.ensemble import BaggingClassifier

    from skbatchbald import ActiveLearner, RandomQuery, SkbatchbaldWarning

    texts = [f"ticket {i % 7} about billing {i % 3}" for i in range(30)]
    y = [i % 2 for i in range(30)]
    learner = ActiveLearner(
        make_pipeline(TfidfVectorizer(), BaggingClassifier(LogisticRegression())),
        RandomQuery(random_state=0),
        X_training=texts[:6],
        y_training=y[:6],
    )
    # texts repeat every 21 rows: the pool holds copies of labelled ones
    with pytest.warns(SkbatchbaldWarning, match=r"equal rows already labelled"):
        learner.query(texts[6:], n_instances=24)


@pytest.mark.parametrize(
    ("container", "fix"),
    [
        (lambda texts: pd.Series(texts), "X.fillna('')"),
        (list, "[t if isinstance(t, str) else '' for t in texts]"),
        (lambda texts: np.array(texts, dtype=object), "[t if isinstance(t, str)"),
    ],
)
@pytest.mark.parametrize("missing", [None, np.nan, pd.NA])
def test_missing_texts_are_named_with_the_empty_text_fix(container, fix, missing):
    texts = ["card charged twice", "cannot login", missing, "refund please"]
    y = ["billing", "login", "other", "refund"]
    model = make_pipeline(TfidfVectorizer(), LogisticRegression())
    with pytest.raises(ValueError, match=r"missing text\(s\) \(None or NaN\)") as err:
        ActiveLearner(model, X_training=container(texts), y_training=y)
    assert "position(s) [2]" in str(err.value) and fix in str(err.value)
    # the fix it names fits
    filled = [t if isinstance(t, str) else "" for t in texts]
    learner = ActiveLearner(model, X_training=filled, y_training=y)
    pool = container(["late parcel", missing])
    with pytest.raises(ValueError, match=r"X_pool holds 1 missing text\(s\)"):
        learner.query(pool, n_instances=1)
