"""The transport towards Telegram, with server errors told apart from lost connections."""

from __future__ import annotations

from http import HTTPStatus

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
        if code in _NEVER_THE_BOT_APIS and not payload.lstrip().startswith(b"{"):
            # A web server's answer to a method it lacks, not Telegram's failure: said as
            # python-telegram-bot says a 404 that is no reply of the Bot API, so that `run`
            # names the address (found by an operator walk-through: "Telegram server error")
            raise TelegramServerError(
                f"{HTTPStatus(code).phrase} ({code}). Parsing the server response failed"
            )
        if code >= 500:
            raise TelegramServerError(f"Telegram server error ({code})")
        return code, payload


_NEVER_THE_BOT_APIS = frozenset({HTTPStatus.NOT_IMPLEMENTED, HTTPStatus.HTTP_VERSION_NOT_SUPPORTED})
"""5xx statuses the Bot API does not answer with, a plain web server does."""
