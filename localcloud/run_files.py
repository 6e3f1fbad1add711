"""Where a local cloud of this checkout keeps its files: `.localcloud/` beside the code, with its
pid by port (what `--stop` reads and a deploy checks), where its fake external APIs listen (what a
local deploy points the settings at) and the log of one a deploy started; what a --port may be.
Importing this loads nothing else of the local cloud (nor moto)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

RUN_DIR = Path(__file__).resolve().parents[1] / ".localcloud"
LOG = RUN_DIR / "localcloud.log"


def pid_file(port: int) -> Path:
    return RUN_DIR / f"localcloud-{port}.pid"


def fakes_file(port: int) -> Path:
    return RUN_DIR / f"localcloud-{port}-fakes.json"


def record_fakes(port: int, urls: dict[str, str]) -> None:
    """Note the fakes' URLs (name -> URL) of the local cloud on `port`, whole or not at all: a
    deploy may read them at any moment."""
    RUN_DIR.mkdir(exist_ok=True)
    partial = fakes_file(port).with_suffix(".partial")
    partial.write_text(json.dumps(urls, indent=1))
    partial.replace(fakes_file(port))


def fake_urls(port: int) -> dict[str, str]:
    """name -> URL of each fake the local cloud of this checkout on `port` serves; none when no
    such local cloud runs (or it serves none: --no-fakes)."""
    try:
        # files left behind by a local cloud that was killed do not count: its pid is gone
        os.kill(int(pid_file(port).read_text()), 0)
        urls = json.loads(fakes_file(port).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in urls.items()} if isinstance(urls, dict) else {}


def port_number(text: str) -> int:
    """An argparse type for --port: 0 (any free port) to 65535, refused as bad usage (exit 2)
    rather than by bind() with a traceback, or taken modulo 65536 by a server that does not check."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: 0 (any free port) to 65535")
    return port
