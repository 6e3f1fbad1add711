"""Local fake servers for the external APIs, speaking their wire format over real HTTP.

`python -m localcloud` serves them on fixed ports, where the local environment's settings
(environments.toml) point the workflows; tests start their own on free ports.
"""

from __future__ import annotations

from localcloud.fakes.server import FakeServer

# name -> port of the fakes the local environment uses
LOCAL_PORTS = {"ticket-broker": 4571, "tushare": 4572, "aviasales": 4573}


def start_local() -> dict[str, FakeServer]:
    """Start every fake on its local port; a port in use is skipped (another local cloud has it):
    `skipped_local()` names them."""
    from localcloud.fakes.aviasales import FakeAviasales
    from localcloud.fakes.ticket_broker import FakeTicketBroker
    from localcloud.fakes.tushare import FakeTushare

    fakes: dict[str, FakeServer] = {
        "ticket-broker": FakeTicketBroker(),
        "tushare": FakeTushare(),
        "aviasales": FakeAviasales(),
    }
    started = {}
    for name, fake in fakes.items():
        try:
            started[name] = fake.start(LOCAL_PORTS[name])
        except OSError:
            continue
    return started


def skipped_local(started: dict[str, FakeServer]) -> dict[str, int]:
    """The fakes `start_local` could not start -> their ports."""
    return {name: port for name, port in LOCAL_PORTS.items() if name not in started}
