import sys

from analytics.startup import lifelong_imports

with lifelong_imports():
    from analytics.cli import main

sys.exit(main())
