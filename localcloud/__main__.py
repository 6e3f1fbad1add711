"""`python -m localcloud [--port 4566] [--fakes-port 4571]`: serve the local cloud until interrupted.
`python -m localcloud --stop [--port 4566]`: stop the one this checkout serves on that port.

The fake external APIs (ticket broker, Tushare, Aviasales) listen on --fakes-port and the next two
ports, or on free ones where those are taken; `python deploy.py --env local` into this local cloud
points the local settings at them.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import threading
import time
from pathlib import Path

from localcloud.fakes import FIRST_PORT, FakeServer, start_local, wanted_ports
from localcloud.run_files import RUN_DIR, fakes_file, pid_file, port_number, record_fakes
from localcloud.server import LocalCloud

# the exit of a command that did nothing and must change (another port), as the README's table
BAD_USAGE_EXIT = 2


class NotServed(Exception):
    """No local cloud of this checkout serves the port: nothing to stop."""


def stop(port: int, timeout: float = 30.0) -> str:
    """Stop the local cloud this checkout serves on `port` (not another checkout's or user's)."""
    path = pid_file(port)
    try:
        pid = int(path.read_text())
    except (OSError, ValueError):
        raise NotServed(
            f"no local cloud of this checkout serves port {port} (no {path}){_served_hint(port)}"
        ) from None
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"localcloud" not in cmdline.read_bytes():
        path.unlink(missing_ok=True)  # the pid is another process's now
        return f"the local cloud on port {port} (pid {pid}) had already stopped"
    with contextlib.suppress(ProcessLookupError):  # already gone: then it has stopped
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _running(pid):
        if time.monotonic() > deadline:
            raise SystemExit(f"the local cloud on port {port} (pid {pid}) did not stop within {timeout:.0f}s")
        time.sleep(0.1)
    path.unlink(missing_ok=True)
    return f"stopped the local cloud on port {port} (pid {pid})"


def _served_hint(port: int) -> str:
    """Which other ports this checkout's local clouds serve, with the command that stops each:
    --port defaults to 4566 whatever PYFLOWS_ENDPOINT says."""
    served = []
    for path in sorted(pid_file(port).parent.glob("localcloud-*.pid")):
        try:
            other, pid = int(path.stem.rsplit("-", 1)[1]), int(path.read_text())
        except (OSError, ValueError):
            continue
        if other != port and _running(pid):
            served.append(f"python -m localcloud --stop --port {other}")
    return f"; it serves another port: {' or '.join(served)}" if served else ""


def _running(pid: int) -> bool:
    """Whether the process runs: not gone, nor ended and waiting for its parent (a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False, prog="python -m localcloud", description=__doc__)
    parser.add_argument("--port", type=port_number, default=4566, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument(
        "--fakes-port",
        type=_fakes_port,
        default=FIRST_PORT,
        metavar="PORT",
        help=f"first port of the fake external APIs, which take it and the next two (default {FIRST_PORT}; "
        "0: any free ports); one that is taken gets a free port",
    )
    parser.add_argument("--no-fakes", action="store_true", help="do not serve the fake external APIs")
    parser.add_argument("--stop", action="store_true", help="stop the one this checkout serves on --port")
    args = parser.parse_args(argv)
    if args.stop:
        try:
            print(stop(args.port))
        except NotServed as error:
            parser.exit(BAD_USAGE_EXIT, f"{error}\n")
        return

    # Before anything is served: a stop asked for as soon as the banner shows (or sooner) must find
    # the handlers in place, not end the process mid-print with its files left behind.
    stopped = threading.Event()
    # Set both explicitly: a shell that starts us in the background leaves SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    try:
        cloud = LocalCloud(port=args.port, verbose=args.verbose).start(background=True)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise SystemExit(str(exc)) from exc
        parser.exit(
            BAD_USAGE_EXIT,
            f"{exc} (is a local cloud already running? stop it with python -m localcloud --stop --port "
            f"{args.port}, or serve on another --port)\n",
        )
    served = pid_file(cloud.port)
    fakes: dict[str, FakeServer] = {}
    try:  # from here on, whatever ends it stops what it started and removes its files
        fakes = {} if args.no_fakes else start_local(args.fakes_port)
        # before the pid, which a deploy waits for: by then it finds where the fakes listen
        record_fakes(cloud.port, {name: fake.url for name, fake in fakes.items()})
        RUN_DIR.mkdir(exist_ok=True)
        served.write_text(str(os.getpid()))
        print(_banner(cloud, fakes, wanted_ports(args.fakes_port)), flush=True)
        while not stopped.wait(0.5):
            pass
    finally:
        cloud.stop()
        for fake in fakes.values():
            fake.stop()
        served.unlink(missing_ok=True)
        fakes_file(cloud.port).unlink(missing_ok=True)
        print("localcloud stopped", flush=True)


def _banner(cloud: LocalCloud, fakes: dict[str, FakeServer], wanted: dict[str, int]) -> str:
    exports = "\n".join(f"  export {k}={v}" for k, v in cloud.env().items())
    return (
        f"localcloud serving on {cloud.endpoint} (region {cloud.region})\n"
        f"Point boto3 or the AWS CLI at it:\n{exports}\n"
        # pyflows' own commands take the local endpoint from environments.toml, unless told
        f"Point deploy.py --env local, python -m workflows and python -m console at it:\n"
        f"  export PYFLOWS_ENDPOINT={cloud.endpoint}   (needed on a port other than environments.toml's)\n"
        + "".join(
            f"Fake {name} API on {fake.url}{_moved(fake.url, wanted[name])}\n" for name, fake in fakes.items()
        )
        + ("python deploy.py --env local into it points the local settings at them.\n" if fakes else "")
        + "Schedules fire and Kinesis pipes deliver in the background. "
        + f"Ctrl-C to stop (or python -m localcloud --stop --port {cloud.port})."
    )


def _fakes_port(text: str) -> int:
    port = port_number(text)
    if port > 65535 - 2:
        raise argparse.ArgumentTypeError(f"expected 0 or a port up to 65533, got {text}")
    return port


def _moved(url: str, wanted: int) -> str:
    """Why a fake listens on another port than it asked for."""
    return f" (port {wanted} is in use)" if wanted and not url.endswith(f":{wanted}") else ""


if __name__ == "__main__":
    main()
