"""``python -m app.cli``: the same as the ``lumetrix`` command."""

from app.cli import main

main()
