import signal
import sys

from workflows.cli import main

signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `... | head` ends quietly, as other commands do
sys.exit(main())
