"""Where a local cloud of this checkout keeps its files: `.localcloud/` beside the code, with its
pid by port (what `--stop` reads and a deploy checks) and the log of one a deploy started.
Importing this loads nothing else of the local cloud (nor moto)."""

from __future__ import annotations

from pathlib import Path

RUN_DIR = Path(__file__).resolve().parents[1] / ".localcloud"
LOG = RUN_DIR / "localcloud.log"


def pid_file(port: int) -> Path:
    return RUN_DIR / f"localcloud-{port}.pid"
