"""`python -m localcloud [--port 4566]`: serve the local cloud until interrupted."""

from __future__ import annotations

import argparse
import signal
import threading

from localcloud.fakes import skipped_local, start_local
from localcloud.server import LocalCloud


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__)
    parser.add_argument("--port", type=int, default=4566, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument("--no-fakes", action="store_true", help="do not serve the fake external APIs")
    args = parser.parse_args(argv)

    try:
        cloud = LocalCloud(port=args.port, verbose=args.verbose).start(background=True)
    except OSError as exc:
        raise SystemExit(f"{exc} (is a local cloud already running? try another --port)") from exc
    fakes = {} if args.no_fakes else start_local()
    env = cloud.env()
    exports = "\n".join(f"  export {k}={v}" for k, v in env.items())
    print(
        f"localcloud serving on {cloud.endpoint} (region {cloud.region})\n"
        f"Point boto3 or the AWS CLI at it:\n{exports}\n"
        + "".join(f"Fake {name} API on {fake.url}\n" for name, fake in fakes.items())
        + "".join(
            f"Fake {name} API not started: port {port} is in use (another local cloud's?)\n"
            for name, port in ({} if args.no_fakes else skipped_local(fakes)).items()
        )
        + "Schedules fire and Kinesis pipes deliver in the background. Ctrl-C to stop.",
        flush=True,
    )
    stopped = threading.Event()
    # Set both explicitly: a shell that starts us in the background leaves SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            pass
    finally:
        cloud.stop()
        for fake in fakes.values():
            fake.stop()
        print("localcloud stopped", flush=True)


if __name__ == "__main__":
    main()
