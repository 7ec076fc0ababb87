"""``python -m bench``: run every benchmark and print the table."""

from .run import main

raise SystemExit(main())
