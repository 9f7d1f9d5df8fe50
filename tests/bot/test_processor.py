"""One person's backlog of updates never holds up anybody else's."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.request import RequestData

from bot.app import build_application
from bot.fakeapi import FakeBotApi, InProcessRequest
from bot.processor import PerPersonUpdateProcessor
from storage import SQLiteStore
from tests.harness import MASTER_KEY, Clock, make_settings

SLOW, OTHER = 111_111, 222_222


class HeldChat(InProcessRequest):
    """Every message into one chat waits until released, as when Telegram's limit per
    chat (about one message a second) answers 429 and the bot sleeps on retry_after."""

    def __init__(self, api: FakeBotApi, chat_id: int) -> None:
        super().__init__(api)
        self.chat_id = chat_id
        self.released = asyncio.Event()

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        data: RequestData | None = args[0] if args else kwargs.get("request_data")
        if data is not None and data.parameters.get("chat_id") == self.chat_id:
            await self.released.wait()
        return await super().do_request(url, method, *args, **kwargs)


async def test_a_burst_from_one_person_does_not_hold_up_another(
    api: FakeBotApi, clock: Clock, data_dir: Path
) -> None:
    settings = make_settings(data_dir)
    request = HeldChat(api, SLOW)
    store = SQLiteStore(data_dir, base64.urlsafe_b64decode(MASTER_KEY))
    app = build_application(
        settings, store, request=request, get_updates_request=InProcessRequest(api), clock=clock
    )
    await app.initialize()
    assert app.post_init is not None and app.post_shutdown is not None
    await app.post_init(app)
    processor = app.update_processor
    tasks: list[asyncio.Task[None]] = []
    try:
        # More updates than may run at once, e.g. a hundred messages forwarded in one go.
        burst = [api.user_message(SLOW, f"forwarded {n}") for n in range(100)]
        for raw in [api.user_message(SLOW, "/start"), *burst, api.user_message(OTHER, "/start")]:
            update = Update.de_json(raw, app.bot)
            tasks.append(
                asyncio.create_task(processor.process_update(update, app.process_update(update)))
            )

        await api.wait_until_async(
            lambda: api.messages(OTHER), what="an answer to the other person"
        )
        assert "Einwilligung" in (api.messages(OTHER)[0]["text"] or "")
        assert api.messages(SLOW) == []

        request.released.set()
        await asyncio.gather(*tasks)
        answers = api.messages(SLOW)
        assert len(answers) == 1 + len(burst)  # the notice, then one answer to each message
    finally:
        request.released.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await app.shutdown()
        await app.post_shutdown(app)


async def test_at_most_the_limit_run_at_once_and_each_person_in_order(api: FakeBotApi) -> None:
    processor = PerPersonUpdateProcessor(max_concurrent_updates=4)
    go = asyncio.Event()
    running: list[tuple[int, int]] = []
    done: list[tuple[int, int]] = []

    async def work(person: int, n: int) -> None:
        running.append((person, n))
        await go.wait()
        running.remove((person, n))
        done.append((person, n))

    jobs = [(person, n) for n in range(3) for person in range(6)]
    tasks = [
        asyncio.create_task(
            processor.process_update(
                Update.de_json(api.user_message(1000 + p, "hi"), None), work(p, n)
            )
        )
        for p, n in jobs
    ]
    for _ in range(20):  # let every task run up to where it waits
        await asyncio.sleep(0)
    assert sorted(running) == [(0, 0), (1, 0), (2, 0), (3, 0)]  # four people, first updates
    assert processor.current_concurrent_updates == 4

    go.set()
    await asyncio.gather(*tasks)
    for person in range(6):
        assert [n for p, n in done if p == person] == [0, 1, 2]
    assert processor.max_concurrent_updates == 4
    assert processor.current_concurrent_updates == 0
