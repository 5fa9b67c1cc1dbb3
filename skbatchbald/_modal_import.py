"""Import modAL, or fail with the install command and the reason for it."""

from importlib import metadata

#: The one modAL release skbatchbald is tested with.
MODAL_VERSION = "0.4.2.1"

INSTALL_COMMAND = f"pip install --no-deps modAL-python=={MODAL_VERSION}"

_WHY_NO_DEPS = (
    "--no-deps is needed because modAL-python 0.4.2.1 pins skorch==0.9.0, which no "
    "longer imports; an install without it silently falls back to modAL 0.4.1, "
    "whose query contract differs. modAL itself imports pandas: pip install pandas."
)


def import_modal_models():
    """Return the ``modAL.models`` module, checking that it is the supported release.

    Returns
    -------
    module
        ``modAL.models``.

    Raises
    ------
    ImportError
        If modAL is missing, cannot be imported, or is not release 0.4.2.1; the
        message gives the exact install command and why it uses ``--no-deps``.
    """
    try:
        import modAL.models as modal_models
    except ImportError as exc:
        raise ImportError(
            f"This part of skbatchbald needs modAL, which could not be imported "
            f"({exc}). Install it with:\n    {INSTALL_COMMAND}\n{_WHY_NO_DEPS}"
        ) from exc
    try:
        installed = metadata.version("modAL-python")
    except metadata.PackageNotFoundError:
        # Imported from a source checkout: nothing to compare against.
        return modal_models
    if installed != MODAL_VERSION:
        raise ImportError(
            f"skbatchbald needs modAL-python {MODAL_VERSION}, found {installed}. "
            f"Reinstall it with:\n    pip install --no-deps --force-reinstall "
            f"modAL-python=={MODAL_VERSION}\n{_WHY_NO_DEPS}"
        )
    return modal_models
