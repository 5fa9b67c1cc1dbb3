"""Sphinx configuration of the skbatchbald documentation.

Built with ``make docs`` (``sphinx-build -W --keep-going``: every warning is an
error). The build needs no network: no intersphinx inventories are fetched, and
the gallery examples use data that ship with scikit-learn.
"""

import os
import re
import sys
import warnings
from pathlib import Path

import skbatchbald

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the package, also when it is not installed
sys.path.insert(0, str(ROOT / "docs" / "_ext"))  # the table directives

project = "skbatchbald"
author = "the skbatchbald developers"
copyright = "the skbatchbald developers, BSD-3-Clause"
version = release = skbatchbald.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    # MathJax copied into _static: formulas render without a network (the
    # default loads MathJax from a CDN).
    "sphinx-mathjax-offline",
    # Tables of reproducing.rst computed from the raw results at build time.
    "reproduction_tables",
    # The evaluation table of user_guide/stopping.rst, from its CSV.
    "stopping_tables",
]

source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_ext",
    "Thumbs.db",
    ".DS_Store",
    "**.ipynb_checkpoints",
]
default_role = "literal"
pygments_style = "sphinx"

# -- API reference: autosummary + numpydoc ------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": False, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False  # no intersphinx, so no inventories to link to

# Every public docstring is validated; a failure is a warning, so an error
# under -W. Excluded are only the checks the project deliberately does not follow:
#   ES01  an extended summary is optional: many one-line summaries say it all
#   SA01  a "See Also" section is optional
#   SA04  "See Also" entries may be bare names (a list of sibling functions)
#   EX01  Examples (run as doctests) are required of the main classes and
#         functions by review, not of every method
#   RT02  a single return value is named, as in scikit-learn
#         (``log_probs : ndarray of shape (N, K, C)``)
numpydoc_validation_checks = {"all", "ES01", "SA01", "SA04", "EX01", "RT02"}
# Module constants have no docstring of their own: the validator would check the
# docstring of ``tuple`` or ``dict``. api.rst describes them.
numpydoc_validation_exclude = {
    r"^skbatchbald\.experiment\.(DATASETS|MODELS|STRATEGIES|PRESETS)$",
}

# -- Gallery: sphinx-gallery executes examples/plot_*.py at build time --------
os.environ.setdefault("MPLBACKEND", "Agg")
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # Only plot_*.py files become gallery pages.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"^(?!.*plot_)",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "ExampleTitleSortKey",
    "doc_module": ("skbatchbald",),
    "backreferences_dir": "generated/backreferences",
    "show_memory": False,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "min_reported_time": 1,
}

# -- HTML ------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skbatchbald {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 6,
    # Gallery pages get the full width for code and figures.
    "secondary_sidebar_items": {"auto_examples/*": []},
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
    "icon_links": [],
    "use_edit_page_button": False,
    # no version switcher, analytics or other remote JSON: the site works offline
}
html_context = {"default_mode": "light"}
# Pages without sub-pages get no (empty) section navigation.
html_sidebars = {
    page: []
    for page in (
        "index",
        "install",
        "quickstart",
        "design",
        "reproducing",
        "benchmarks",
        "changelog",
    )
}

# -- MyST: only used to include CHANGELOG.md --------------------------------------
myst_heading_anchors = 2

# -- Which members a class page lists ----------------------------------------------
# skorch hooks that MCDropoutClassifier overrides to plug into skorch's loops;
# users never call them, and skorch documents their contract.
_SKORCH_HOOKS = {"check_data", "get_dataset", "get_loss", "initialize"}


def _skip_member(app, what, name, obj, skip, options):
    """Document only methods defined in skbatchbald (plus ``__call__``).

    Methods inherited from skorch, scikit-learn or modAL are documented by those
    projects; listing them here would also validate docstrings we do not own.
    """
    module = getattr(obj, "__module__", None) or ""
    if callable(obj) and not module.startswith("skbatchbald"):
        return True
    if name in _SKORCH_HOOKS and module.startswith(
        ("skbatchbald.classifier", "skbatchbald.heads")
    ):
        return True
    # torch modules are called as module(x); their classes document the shapes.
    if name == "forward" and module.startswith(("skbatchbald.nn", "skbatchbald.heads")):
        return True
    if name == "__call__":
        return False
    return None


def _drop_builtin_docstring(app, what, name, obj, options, lines):
    """Module constants would show the docstring of ``tuple`` or ``dict``."""
    if what == "data" and getattr(obj, "__doc__", None) == type(obj).__doc__:
        lines[:] = []


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("autodoc-process-docstring", _drop_builtin_docstring, priority=100)


# matplotlib's Agg backend is chosen above; examples must not try to show().
warnings.filterwarnings(
    "ignore",
    category=UserWarning,
    message=re.escape("FigureCanvasAgg is non-interactive, and thus cannot be shown"),
)
