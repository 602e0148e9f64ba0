"""``python -m ripple_services``: the same as ``ripple service``."""

from ripple_services.cli import main

raise SystemExit(main())
