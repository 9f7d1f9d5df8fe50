"""The Bot API methods the fake implements, as Telegram answers them."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

from bot.fakeapi.markup import (
    as_json,
    checked_markup,
    int_param,
    message_markup,
    optional_str,
    visible_text,
)
from bot.fakeapi.model import (
    BLOCKED_DESCRIPTION,
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    ApiError,
    FakeState,
    JSONDict,
    StoredMessage,
    UploadedFile,
    bad_request,
)

_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_STALE_QUERY = "query is too old and response timeout expired or query ID is invalid"
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


class BotApiMethods(FakeState):
    """One method per Bot API call: (params, uploaded files) -> result, or raises ApiError."""

    # ----------------------------------------------------------------- getUpdates

    def _get_updates(self, params: JSONDict, cancel: threading.Event | None) -> list[JSONDict]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        deadline = time.monotonic() + timeout
        self._poll_generation += 1
        generation, release = self._poll_generation, self._release_generation
        self._confirm(offset)
        while True:
            if self._poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            # Telegram hands out updates in update_id order; a redelivered one comes first.
            batch = sorted(self._queue, key=lambda q: int(q.update["update_id"]))[:limit]
            remaining = deadline - time.monotonic()
            stop = release != self._release_generation or (cancel is not None and cancel.is_set())
            if batch or stop or remaining <= 0:
                break
            self._cond.wait(remaining)
        for queued in batch:
            queued.delivered = True
        return [q.update for q in batch]

    def _confirm(self, offset: int) -> None:
        """Forget updates confirmed by `offset` (a negative one keeps the last -offset)."""
        if offset < 0:
            self._queue = self._queue[offset:]
        elif offset > 0:
            self._queue = [
                q
                for q in self._queue
                if q.update["update_id"] >= offset or (q.redelivered and not q.delivered)
            ]

    def _get_me(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _delete_webhook(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        if as_json(params.get("drop_pending_updates")) is True:
            self._queue.clear()
        return True

    def _get_webhook_info(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }

    # ----------------------------------------------------------------- commands

    def _command_key(self, params: JSONDict) -> tuple[str, str]:
        scope = as_json(params.get("scope")) or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _set_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        commands = as_json(params.get("commands"))
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        for command in commands:
            if not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._command_key(params)
        if commands:
            self._command_sets[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self._command_sets.pop(key, None)
        return True

    def _get_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> list[JSONDict]:
        return self._command_sets.get(self._command_key(params), [])

    def _delete_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        self._command_sets.pop(self._command_key(params), None)
        return True

    # ----------------------------------------------------------------- sending

    def _chat(self, params: JSONDict) -> JSONDict:
        """The chat a call is aimed at; 403 if the person blocked the bot."""
        value = params.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        if chat_id in self._blocked:
            raise ApiError(403, BLOCKED_DESCRIPTION)
        chat = self._chats.get(chat_id)
        if chat is None:
            if self._strict_chats:
                raise bad_request("chat not found")
            if chat_id > 0:
                chat = {"id": chat_id, "type": "private", "first_name": "Unbekannt"}
            else:
                kind = "supergroup" if str(chat_id).startswith("-100") else "group"
                chat = {"id": chat_id, "type": kind, "title": "Testgruppe"}
            self._chats[chat_id] = chat
        return chat

    @staticmethod
    def _checked_text(
        params: JSONDict, name: str, limit: int, too_long: str
    ) -> tuple[str | None, str | None]:
        """(visible, raw) text of parameter `name`, checked against `limit`."""
        raw = optional_str(params, name)
        if raw is None:
            return None, None
        shown = visible_text(raw, optional_str(params, "parse_mode"))
        if len(shown) > limit:
            raise bad_request(too_long)
        return shown, raw

    def _store(
        self,
        chat: JSONDict,
        content: JSONDict,
        raw_text: str | None,
        params: JSONDict,
        markup: JSONDict | None,
        **extra: Any,
    ) -> JSONDict:
        payload: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": self.bot_user,
            "chat": dict(chat),
            "date": self._now(),
            **content,
        }
        if message_markup(markup) is not None:
            payload["reply_markup"] = markup
        stored = StoredMessage(
            sequence=next(self._sequence),
            payload=payload,
            raw_text=raw_text,
            parse_mode=optional_str(params, "parse_mode"),
            sent_markup=markup,
            **extra,
        )
        self._bot_messages[(chat["id"], stored.message_id)] = stored
        return payload

    def _send_message(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat = self._chat(params)
        shown, raw = self._checked_text(params, "text", MAX_TEXT_LENGTH, "message is too long")
        if not shown:
            raise bad_request("message text is empty")
        markup = checked_markup(params)
        return self._store(chat, {"text": shown}, raw, params, markup)

    def _uploaded(
        self, params: JSONDict, files: dict[str, UploadedFile], kind: str
    ) -> UploadedFile:
        """The file given for parameter `kind`: an upload, attach:// or a known file_id."""
        value = params.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"there is no {kind} in the request")
        elif kind in files:
            upload = files[kind]
        elif isinstance(value, str) and value in self._files:
            upload = self._files[value]
        elif value:
            raise bad_request("wrong file identifier/HTTP URL specified")
        else:
            raise bad_request(f"there is no {kind} in the request")
        if not upload.content:
            raise bad_request("file must be non-empty")
        return upload

    def _caption(self, params: JSONDict) -> tuple[JSONDict, str | None]:
        shown, raw = self._checked_text(
            params, "caption", MAX_CAPTION_LENGTH, "message caption is too long"
        )
        return ({"caption": shown} if shown else {}), raw

    def _new_file_id(self, upload: UploadedFile, prefix: str) -> tuple[str, str]:
        n = next(self._file_ids)
        file_id = f"{prefix}{n:08d}"
        self._files[file_id] = upload
        return file_id, f"AgAD{n:06d}"

    def _send_document(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat = self._chat(params)
        upload = self._uploaded(params, files, "document")
        caption, raw = self._caption(params)
        markup = checked_markup(params)
        file_id, unique_id = self._new_file_id(upload, "BQACAgIAAxkDAAI")
        document = {
            "file_name": upload.filename,
            "mime_type": upload.mime_type,
            "file_id": file_id,
            "file_unique_id": unique_id,
            "file_size": len(upload.content),
        }
        content = {"document": document, **caption}
        return self._store(chat, content, raw, params, markup, document=upload)

    def _send_photo(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat = self._chat(params)
        upload = self._uploaded(params, files, "photo")
        caption, raw = self._caption(params)
        markup = checked_markup(params)
        file_id, unique_id = self._new_file_id(upload, "AgACAgIAAxkDAAI")
        photo = [
            {
                "file_id": file_id,
                "file_unique_id": unique_id,
                "width": 800,
                "height": 600,
                "file_size": len(upload.content),
            }
        ]
        content = {"photo": photo, **caption}
        return self._store(chat, content, raw, params, markup, photo=upload.content)

    def _send_chat_action(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # ----------------------------------------------------------------- editing

    def _message_to_edit(self, params: JSONDict) -> StoredMessage:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")  # the fake has no inline messages
        chat = self._chat(params)
        message_id = int_param(params, "message_id", "message identifier is not specified")
        stored = self._bot_messages.get((chat["id"], message_id))
        if stored is None or stored.deleted:
            if (chat["id"], message_id) in self._user_messages:
                raise bad_request("message can't be edited")
            raise bad_request("message to edit not found")
        return stored

    def _apply_edit(
        self,
        stored: StoredMessage,
        content: JSONDict,
        raw_text: str | None,
        params: JSONDict,
        markup: JSONDict | None,
    ) -> JSONDict:
        """Apply an edit unless nothing visible changes ("message is not modified")."""
        old = stored.payload
        new_markup = message_markup(markup)
        parse_mode = optional_str(params, "parse_mode") if content else stored.parse_mode
        raw_text = raw_text if content else stored.raw_text
        unchanged = (
            all((old.get(key) or "") == value for key, value in content.items())
            and (raw_text, parse_mode) == (stored.raw_text, stored.parse_mode)
            and old.get("reply_markup") == new_markup
        )
        if unchanged:
            raise bad_request(_NOT_MODIFIED)
        old.update(content)
        for key in [k for k in ("text", "caption") if k in content and not content[k]]:
            del old[key]
        if new_markup is None:
            old.pop("reply_markup", None)
        else:
            old["reply_markup"] = new_markup
        old["edit_date"] = self._now()
        stored.raw_text, stored.parse_mode, stored.sent_markup = raw_text, parse_mode, markup
        stored.edited = True
        return old

    def _edit_message_text(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        stored = self._message_to_edit(params)
        if "text" not in stored.payload:
            raise bad_request("there is no text in the message to edit")
        shown, raw = self._checked_text(params, "text", MAX_TEXT_LENGTH, "message is too long")
        if not shown:
            raise bad_request("message text is empty")
        markup = checked_markup(params)
        return self._apply_edit(stored, {"text": shown}, raw, params, markup)

    def _edit_message_caption(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        stored = self._message_to_edit(params)
        if "text" in stored.payload:
            raise bad_request("there is no caption in the message to edit")
        caption, raw = self._caption(params)
        markup = checked_markup(params)
        content = {"caption": caption.get("caption", "")}
        return self._apply_edit(stored, content, raw, params, markup)

    def _edit_message_reply_markup(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> JSONDict:
        stored = self._message_to_edit(params)
        markup = checked_markup(params)
        return self._apply_edit(stored, {}, None, params, markup)

    def _delete_message(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        chat = self._chat(params)
        message_id = int_param(params, "message_id", "message identifier is not specified")
        stored = self._bot_messages.get((chat["id"], message_id))
        if stored is not None and not stored.deleted:
            stored.deleted = True
        elif self._user_messages.pop((chat["id"], message_id), None) is None:
            raise bad_request("message to delete not found")
        return True

    def _answer_callback_query(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        pending = self._callbacks.get(query_id)
        if pending is None or pending.answered:
            raise bad_request(_STALE_QUERY)
        text = optional_str(params, "text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        pending.answered = True
        self._callback_answers.append(
            {
                "callback_query_id": query_id,
                "data": pending.data,
                "text": text,
                "show_alert": as_json(params.get("show_alert")) is True,
                "url": optional_str(params, "url"),
                "cache_time": params.get("cache_time"),
            }
        )
        return True
