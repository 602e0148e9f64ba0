"""``python -m ripple_services``: the same as ``ripple service``."""

from .cli import main

raise SystemExit(main())
