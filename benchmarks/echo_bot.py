"""The baseline bot for the HTTP benchmark: python-telegram-bot's bare echo bot, long polling.

Reads FEEDBACKBOT_TOKEN and FEEDBACKBOT_API_BASE_URL like the real bot, so the same
loopback Bot API double serves both.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None and update.effective_message.text is not None:
        await update.effective_message.reply_text(update.effective_message.text)


def main() -> None:
    application = (
        Application.builder()
        .token(os.environ["FEEDBACKBOT_TOKEN"])
        .base_url(os.environ["FEEDBACKBOT_API_BASE_URL"])
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.run_polling(allowed_updates=["message"])


if __name__ == "__main__":
    main()
