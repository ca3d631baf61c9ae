"""``/healthz`` and ``/metrics`` over HTTP, for a container's health check, a
service monitor and Prometheus (``[health]`` in the config; off by default).

* ``/healthz`` answers 200 ``ok`` when every adapter is running and the database
  answers, and 503 with the reason otherwise — the question a supervisor asks
  every few seconds, so it costs one ``SELECT 1`` and asks no platform's API (that
  is ``organise-bot check``'s job).
* ``/metrics`` is Prometheus' text (:mod:`adapters.prometheus`), or 501 saying
  which extra to install when prometheus-client is missing.

``organise-bot health`` asks ``/healthz`` from the same machine: what compose.yaml's
health check runs, in an image that has no curl.
"""

from __future__ import annotations

import asyncio
import os
import urllib.error
import urllib.request
from importlib.util import find_spec

from aiohttp import web

from bot.app import App
from bot.config import HealthSettings
from bot.faults import StartupError
from storage.db import OPEN_ERRORS

DATABASE_TIMEOUT_SECONDS = 5.0
NO_METRICS = 'metrics need the metrics extra: pip install "organise-bot[metrics]"\n'


class HealthServer:
    """The endpoints of one running :class:`App`, on ``listen``:``port`` (0: any
    free port, which :attr:`port` then tells)."""

    def __init__(self, app: App, listen: str, port: int) -> None:
        self.app = app
        self.listen = listen
        self.wanted_port = port
        server = web.Application()
        server.router.add_get("/healthz", self._healthz)
        server.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(server, access_log=None)

    @property
    def port(self) -> int:
        address = self._runner.addresses[0]
        port: int = address[1]
        return port

    async def start(self) -> None:
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.listen, self.wanted_port).start()
        except OSError as error:  # the port is taken, or the address not this machine's
            await self._runner.cleanup()
            raise StartupError(
                f"cannot serve /healthz on {self.listen}:{self.wanted_port}: {_why(error)}; "
                "change [health] port or listen"
            ) from None

    async def stop(self) -> None:
        if self._runner.server is not None:  # set up, and not yet cleaned up
            await self._runner.cleanup()

    async def unhealthy(self) -> str | None:
        """Why the bot is not fit to serve, or None."""
        if not self.app.running:
            return "the adapters are not running"
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
                async with self.app.db.engine.connect() as connection:
                    await connection.exec_driver_sql("SELECT 1")
        except TimeoutError:
            return "the database does not answer"
        except OPEN_ERRORS as error:
            return f"the database does not answer ({type(error).__name__})"
        return None

    async def _healthz(self, _request: web.Request) -> web.Response:
        reason = await self.unhealthy()
        if reason is None:
            return web.Response(text="ok\n")
        return web.Response(status=503, text=f"{reason}\n")

    async def _metrics(self, _request: web.Request) -> web.Response:
        if find_spec("prometheus_client") is None:
            return web.Response(status=501, text=NO_METRICS)
        from adapters import prometheus

        async with self.app.db.session() as session:
            snapshot = await self.app.metrics.snapshot(session, self.app.clock.now())
        return web.Response(
            body=prometheus.render(snapshot), headers={"Content-Type": prometheus.CONTENT_TYPE}
        )


def _why(error: OSError) -> str:
    """The system's words for the error ("Address already in use"), without the
    sentence asyncio wraps them in."""
    return os.strerror(error.errno) if error.errno else str(error)


def probe(settings: HealthSettings) -> tuple[str, int]:
    """``organise-bot health``: what ``/healthz`` says, and the exit status (0: healthy)."""
    if not settings.port:
        return "the health endpoint is off: set [health] port (or HEALTH_PORT)", 2
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(settings.listen, settings.listen)
    host = f"[{host}]" if ":" in host else host
    url = f"http://{host}:{settings.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=DATABASE_TIMEOUT_SECONDS * 2) as answer:
            return answer.read().decode().strip(), 0
    except urllib.error.HTTPError as error:
        return error.read().decode().strip(), 1
    except OSError as error:
        return f"no answer from {url}: {error}", 1
