import os
import sys

from analytics.startup import lifelong_imports

try:
    with lifelong_imports():
        from analytics.cli import main
    code = main()
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr, flush=True)
    # at once: the interpreter's exit would wait for the model steps still running in their threads
    os._exit(130)
sys.exit(code)
