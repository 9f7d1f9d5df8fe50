"""A double of the Telegram Bot API for one bot: for the tests and for `feedbackbot chat`.

`FakeBotApi` is a thread-safe, in-memory model of what Telegram does for the
methods feedbackbot uses. Two transports put python-telegram-bot in front of it:

* `InProcessRequest` – a `telegram.request.BaseRequest` that answers in-process
  (the fast test layer)::

      app = (
          Application.builder().token(api.token)
          .request(InProcessRequest(api)).get_updates_request(InProcessRequest(api))
          .build()
      )

* `BotApiServer` – a loopback HTTP server for end-to-end tests that run the bot
  through its real entry point (`FEEDBACKBOT_API_BASE_URL=server.base_url`).

Choices worth knowing:

* Lengths (4096 for text, 1024 for captions, 200 for callback answers) are
  counted in Python characters (Unicode code points) of the text *after*
  entity parsing and trimming of surrounding whitespace. That is what Telegram
  measurably does (an all-emoji text of 4096 code points is accepted), even
  though entity offsets are UTF-16 code units.
* `parse_mode="HTML"` and `"MarkdownV2"` are parsed like Telegram does, to the
  degree that malformed markup answers "can't parse entities" and the stored
  `text` is what the person sees. Legacy `"Markdown"` is stored verbatim.
* Editing a message's text without `reply_markup` removes its inline keyboard,
  as on Telegram.
* A callback query can be answered once; a second answer, or an unknown id,
  is 400 "query is too old ...". A newer getUpdates ends a held one with
  409 Conflict, as when two bot instances poll.
* python-telegram-bot drops the "Bad Request: " prefix and capitalises the
  rest, so match its exceptions case-insensitively ("Message is too long").
* Methods: getMe, logOut, close, deleteWebhook, getWebhookInfo, set/get/deleteMyCommands,
  sendMessage, sendDocument, sendPhoto, sendChatAction, editMessageText,
  editMessageCaption, editMessageReplyMarkup, deleteMessage, answerCallbackQuery,
  getUpdates; setMyDescription, setMyShortDescription, setMyName and
  setChatMenuButton are accepted without effect. Anything else answers 404,
  which python-telegram-bot reports as InvalidToken.
* Each helper that simulates a person (`user_message`, `callback_press`, ...)
  enqueues its update *and* returns it, so fast tests can feed it to
  `Update.de_json` themselves and end-to-end tests can let the bot poll it.
"""

from bot.fakeapi.api import FakeBotApi
from bot.fakeapi.inprocess import InProcessRequest
from bot.fakeapi.markup import visible_text
from bot.fakeapi.model import ApiCall, ApiError, BotMessage, Sender, UploadedFile
from bot.fakeapi.server import BotApiServer

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
