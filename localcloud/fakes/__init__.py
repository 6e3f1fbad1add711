"""Local fake servers for the external APIs, speaking their wire format over real HTTP.

`python -m localcloud` serves them on 127.0.0.1, by default on 4571-4573 (`--fakes-port`), and
records where (localcloud/run_files.py): a local deploy points the local environment's settings
at them; tests start their own on free ports.
"""

from __future__ import annotations

from localcloud.fakes.server import FakeServer

# name -> offset from the first port of the fakes (`--fakes-port`, default FIRST_PORT)
OFFSETS = {"ticket-broker": 0, "tushare": 1, "aviasales": 2}
FIRST_PORT = 4571


def default_url(name: str) -> str:
    return f"http://127.0.0.1:{LOCAL_PORTS[name]}"


def wanted_ports(first: int = FIRST_PORT) -> dict[str, int]:
    """name -> the port each fake asks for: `first` and the next ones; 0 for any free port."""
    return {name: first + offset if first else 0 for name, offset in OFFSETS.items()}


# name -> port of each fake by default, where environments.toml's local settings point
LOCAL_PORTS = wanted_ports()


def start_local(first: int = FIRST_PORT) -> dict[str, FakeServer]:
    """Start every fake on its port of `wanted_ports(first)`; one whose port is taken (another
    local cloud's, another program's) takes a free port instead, as its `url` says."""
    from localcloud.fakes.aviasales import FakeAviasales
    from localcloud.fakes.ticket_broker import FakeTicketBroker
    from localcloud.fakes.tushare import FakeTushare

    fakes: dict[str, FakeServer] = {
        "ticket-broker": FakeTicketBroker(),
        "tushare": FakeTushare(),
        "aviasales": FakeAviasales(),
    }
    for name, port in wanted_ports(first).items():
        try:
            fakes[name].start(port)
        except OSError:
            fakes[name].start(0)
    return fakes
