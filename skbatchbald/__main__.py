"""``python -m skbatchbald``: the same as the ``skbatchbald`` command."""

from skbatchbald.experiment.cli import main

raise SystemExit(main())
