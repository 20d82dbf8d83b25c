"""``python -m pppossh``: the same as the ``pppossh`` command."""

import sys

from .cli import main

sys.exit(main())
