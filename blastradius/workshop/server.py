"""Serve the workshop dashboard: Solara on uvicorn, on localhost, with nothing fetched from the internet.

:func:`serve` loads the inventory once (a :class:`~blastradius.workshop.state.Workshop`
every browser shares), configures Solara before it is imported (no telemetry, idle
sessions culled, no banner), forbids Solara's asset proxy to fetch from a CDN
(every font, icon and script comes from the ``solara-assets`` package) and runs
the server until Ctrl-C, which stops it cleanly.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from blastradius.errors import BlastRadiusError, import_extra

__all__ = ["DEFAULT_HOST", "DEFAULT_IDLE_MINUTES", "DEFAULT_PORT", "Server", "serve"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: A browser's session (its scenario) is dropped after this long with no connection.
DEFAULT_IDLE_MINUTES = 30

_log = logging.getLogger("blastradius.workshop")


def _configure_solara(idle_minutes: float) -> None:
    """Solara's settings are read from the environment when it is first imported: set them first."""
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"  # nothing leaves the machine
    os.environ["SOLARA_KERNEL_CULL_TIMEOUT"] = f"{max(1, round(idle_minutes * 60))}s"
    os.environ["SOLARA_THEME_SHOW_BANNER"] = "False"
    os.environ["SOLARA_THEME_TITLE"] = "blastradius workshop"
    os.environ.setdefault("SOLARA_APP", "blastradius.workshop.app")
    import_extra("solara", extra="workshop", purpose="the workshop dashboard")
    import_extra("solara_assets", extra="workshop", purpose="the workshop dashboard, offline")
    import solara.server.cdn_helper as cdn
    import solara.server.settings as settings

    settings.telemetry.mixpanel_enable = False
    settings.kernel.cull_timeout = os.environ["SOLARA_KERNEL_CULL_TIMEOUT"]

    def refuse(url: str) -> bytes:
        _log.warning("not fetching %s: the workshop runs offline", url)
        raise BlastRadiusError(f"the workshop runs offline and does not fetch {url}")

    cdn.fetch_from_cdn = refuse
    # served over http on this machine, Solara falls back to a same-site (lax) session cookie, as it should here
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)


def _free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: a port in TIME_WAIT is free
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


class Server:
    """The workshop server, for the command line and the tests: :meth:`run` blocks, :meth:`stop` ends it."""

    def __init__(
        self,
        inventory: str | Path,
        *,
        overlays: Iterable[str | Path] = (),
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        out: str | Path = "workshop",
        trials: int | None = None,
        idle_minutes: float = DEFAULT_IDLE_MINUTES,
    ) -> None:
        _configure_solara(idle_minutes)
        from blastradius.workshop import app  # after Solara is configured: it reads its settings when imported
        from blastradius.workshop.state import Workshop

        uvicorn = import_extra("uvicorn", extra="workshop", purpose="the workshop dashboard")
        if port and not _free(host, port):
            raise BlastRadiusError(f"port {port} on {host} is in use: choose another with --port")
        self.workshop = Workshop(inventory, overlays=overlays, trials=trials, out=out)
        app.use_workshop(self.workshop)
        self.host, self.port = host, port
        config = uvicorn.Config(
            "solara.server.starlette:app", host=host, port=port, log_level="warning", lifespan="on", ws_max_size=2**24
        )
        self._server = uvicorn.Server(config)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def run(self, *, on_ready: Callable[[str], Any] | None = None) -> None:
        """Serve until :meth:`stop` or Ctrl-C; ``on_ready`` is called with the URL once it listens."""
        import asyncio

        async def main() -> None:
            task = asyncio.ensure_future(self._server.serve())
            while not self._server.started and not task.done():
                await asyncio.sleep(0.05)
            if self._server.started and on_ready is not None:
                on_ready(self.url)
            await task

        asyncio.run(main())

    def stop(self) -> None:
        self._server.should_exit = True


def serve(
    inventory: str | Path,
    *,
    overlays: Iterable[str | Path] = (),
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    out: str | Path = "workshop",
    trials: int | None = None,
    idle_minutes: float = DEFAULT_IDLE_MINUTES,
) -> None:
    """Serve the workshop of ``inventory`` at ``http://HOST:PORT/`` until Ctrl-C; print the URL when ready."""
    server = Server(
        inventory, overlays=overlays, host=host, port=port, out=out, trials=trials, idle_minutes=idle_minutes
    )
    w = server.workshop

    def ready(url: str) -> None:
        print(
            f"workshop of {w.name} ({len(w.base.plugins):,} plugins; {w.trials:,} trials, seed {w.seed}) at {url}\n"
            f"  saved scenarios and reports go to {w.out}/; idle sessions end after {idle_minutes:g} minutes; "
            "Ctrl-C stops it",
            flush=True,
        )
        if host not in ("127.0.0.1", "localhost", "::1"):
            print(f"  listening on {host}: anyone who can reach this machine can open it", file=sys.stderr)

    try:
        server.run(on_ready=ready)
    except KeyboardInterrupt:  # the server has shut down already; the signal is passed on after it
        pass
    print("workshop stopped", flush=True)
