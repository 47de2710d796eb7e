"""``python -m nolabel ...`` = ``nolabel ...`` (handy under ``torchrun -m nolabel``)."""

import sys

from nolabel.cli import main

sys.exit(main())
