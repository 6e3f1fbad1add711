import os
import sys

from workflows.cli import main

try:
    code = main()
    sys.stdout.flush()
except BrokenPipeError:  # the reader went away (`... | head`): end quietly, as other commands do
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's own flush at exit
    code = 128 + 13  # as a command ended by SIGPIPE: not the 1 of an execution that failed
sys.exit(code)
