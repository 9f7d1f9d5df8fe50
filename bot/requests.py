"""The transport towards Telegram, with server errors told apart from lost connections."""

from __future__ import annotations

from telegram._utils.types import ODVInput
from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData


class TelegramServerError(NetworkError):
    """Telegram answered with a 5xx status: it failed to carry out the call.

    python-telegram-bot reports these as a plain NetworkError, like a connection that
    dropped, which may have been cut after the call took effect. Sending again is only
    reasonable after the former, so the renderer needs to tell them apart.
    """


class ServerErrorsRaised(BaseRequest):
    """Delegates every call to `inner`; a 5xx answer raises TelegramServerError."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

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
        code, payload = await self.inner.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if code >= 500:
            raise TelegramServerError(f"Telegram server error ({code})")
        return code, payload
