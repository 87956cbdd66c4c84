"""`python -m assistant`: the same as the `assistant` command."""

import sys

from assistant.cli import main

if __name__ == "__main__":  # not when a worker process (spawned) imports this module
    sys.exit(main())
