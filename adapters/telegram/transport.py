"""PTB's Bot API calls carried by aiohttp instead of PTB's default httpx.

Why: a button press costs one Bot API call (``answerCallbackQuery``), so when
two thousand members vote at once, the HTTP client is most of the adapter's CPU.
Measured in ``bench/polls.py``, PTB answering presses through httpx manages about
half the rate it manages through aiohttp, on the same machine and fake Bot API:
httpcore looks over every pooled connection, twice, for each request it places,
and each look is a system call. aiohttp is already a dependency (discord.py runs
on it), and PTB documents :class:`~telegram.request.BaseRequest` as the place for
another HTTP library: PTB still builds every request, and still turns every
status and error body into its exceptions (``RetryAfter``, ``Forbidden``…).
Only the sending is ours, so this module maps aiohttp's own failures the way
PTB's ``HTTPXRequest`` does: timeouts to ``TimedOut``, other network failures to
``NetworkError``.
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """A pool of at most ``connections`` keep-alive connections to the Bot API,
    with every wait bounded by ``timeout`` seconds unless a call says otherwise
    (getUpdates' long poll does)."""

    def __init__(self, connections: int, timeout: float | None) -> None:
        self._connections = connections
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Not trust_env (proxies from the environment, as httpx would use): it
            # also makes aiohttp look up ~/.netrc, in a thread, for every request,
            # which cost half the rate in bench/polls.py.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See :meth:`BaseRequest.do_request`: the status and body, whatever they are."""
        if self._session is None:
            raise RuntimeError("this AiohttpRequest is not initialized")
        timeouts = [
            self._timeout if isinstance(value, DefaultValue) else value
            for value in (read_timeout, write_timeout, connect_timeout, pool_timeout)
        ]
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=_client_timeout(*timeouts)
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's own timeouts subclass it too
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _body(request_data: RequestData | None) -> aiohttp.FormData | aiohttp.Payload | None:
    """The parameters as a form, as PTB's own transport sends them; multipart with
    the files when there are any (a meeting's calendar file). A plain form is
    encoded here: given a dict, aiohttp would build a multipart writer for every
    request (random boundary included) before finding it need not use it."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        return aiohttp.BytesPayload(
            request_data.url_encoded_parameters().encode(),
            content_type="application/x-www-form-urlencoded",
        )
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form


def _client_timeout(
    read: float | None, write: float | None, connect: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    """PTB's four timeouts in aiohttp's terms. aiohttp's ``connect`` covers waiting
    for a pooled connection as well as opening one; it has no write timeout, so a
    stalled upload is bounded by the sum of all four as the call's total."""
    parts = (read, write, connect, pool)
    total = None if None in parts else sum(part or 0.0 for part in parts)
    wait = None if connect is None or pool is None else connect + pool
    return aiohttp.ClientTimeout(total=total, connect=wait, sock_connect=connect, sock_read=read)
