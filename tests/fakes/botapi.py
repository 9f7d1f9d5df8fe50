"""The Bot API double moved into the package (`bot.fakeapi`) because `feedbackbot chat` runs it.

Kept as a re-export so that tests importing it from here keep working.
"""

from bot.fakeapi import (
    ApiCall,
    ApiError,
    BotApiServer,
    BotMessage,
    FakeBotApi,
    InProcessRequest,
    Sender,
    UploadedFile,
    visible_text,
)

__all__ = [
    "ApiCall",
    "ApiError",
    "BotApiServer",
    "BotMessage",
    "FakeBotApi",
    "InProcessRequest",
    "Sender",
    "UploadedFile",
    "visible_text",
]
