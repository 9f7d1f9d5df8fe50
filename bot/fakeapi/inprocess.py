"""`InProcessRequest`: python-telegram-bot's transport answered in-process by the fake."""

from __future__ import annotations

import asyncio
import threading
from urllib.parse import urlsplit

from telegram._utils.defaultvalue import DefaultValue  # what HTTPXRequest uses, too
from telegram._utils.types import ODVInput
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from bot.fakeapi.api import FakeBotApi
from bot.fakeapi.model import ApiError, JSONDict, UploadedFile, encode_body


class InProcessRequest(BaseRequest):
    """python-telegram-bot's transport replaced by direct calls of `FakeBotApi.handle`."""

    def __init__(self, api: FakeBotApi, *, read_timeout: float | None = 5.0) -> None:
        self._api = api
        self._read_timeout = read_timeout
        self._shut_down = False

    @property
    def read_timeout(self) -> float | None:
        """Default read timeout; a `delay_next` longer than it raises TimedOut."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to open; like HTTPXRequest it works before initialize()."""
        self._shut_down = False

    async def shutdown(self) -> None:
        """Refuse further requests, like a closed HTTPXRequest."""
        self._shut_down = True

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
        """Answer `url` (…/bot<token>/<method>) from the fake: (status, JSON body)."""
        if self._shut_down:
            raise RuntimeError("This InProcessRequest is not initialized!")
        prefix, _, api_method = urlsplit(url).path.rpartition("/")
        if not prefix.endswith(self._api.token):
            return 401, encode_body(ApiError(401, "Unauthorized").envelope())
        params: JSONDict = dict(request_data.parameters) if request_data else {}
        files = {
            name: UploadedFile(filename, data if isinstance(data, bytes) else data.read(), mime)
            for name, (filename, data, mime) in (
                request_data.multipart_data if request_data else {}
            ).items()
        }
        if api_method == "getUpdates" and float(params.get("timeout") or 0) > 0:
            status, body = await self._held_get_updates(params)
        else:
            status, body = self._api.handle(api_method, params, files)
        delay = self._api.take_delay(api_method)
        if delay:
            timeout = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
            if timeout is not None and delay > timeout:
                await asyncio.sleep(timeout)
                raise TimedOut
            await asyncio.sleep(delay)
        return status, encode_body(body)

    async def _held_get_updates(self, params: JSONDict) -> tuple[int, JSONDict]:
        """Long polling in a worker thread; a cancelled poll stops waiting at once."""
        cancel = threading.Event()
        try:
            return await asyncio.to_thread(self._api.handle, "getUpdates", params, cancel=cancel)
        except asyncio.CancelledError:
            cancel.set()
            self._api._wake()
            raise
