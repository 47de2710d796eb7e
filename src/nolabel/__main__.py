import sys

from nolabel.cli import main

sys.exit(main())
