"""Simulated people: the updates a person causes (messages, button presses, edits)."""

from __future__ import annotations

import copy
import itertools
from typing import Unpack

from bot.fakeapi.markup import command_entities
from bot.fakeapi.model import (
    ACCESSIBLE_FOR,
    FakeState,
    JSONDict,
    PendingCallback,
    QueuedUpdate,
    Sender,
)


class SimulatedPeople(FakeState):
    """Each helper enqueues its update for getUpdates *and* returns it."""

    def enqueue(self, update: JSONDict) -> JSONDict:
        """Queue `update` for getUpdates, giving it the next update_id if it has none."""
        with self._cond:
            update = copy.deepcopy(update)
            update.setdefault("update_id", next(self._update_ids))
            self._queue.append(QueuedUpdate(update))
            self._cond.notify_all()
            return copy.deepcopy(update)

    def redeliver(self, update: JSONDict) -> JSONDict:
        """Deliver an identical copy of `update` (same update_id) once more.

        It is handed out even if the bot has already confirmed a higher
        offset, as when Telegram repeats an update after a lost confirmation.
        """
        with self._cond:
            self._queue.append(QueuedUpdate(copy.deepcopy(update), redelivered=True))
            self._cond.notify_all()
            return copy.deepcopy(update)

    def user_message(
        self,
        user_id: int,
        text: str,
        *,
        entities: list[JSONDict] | None = None,
        reply_to_message_id: int | None = None,
        **sender: Unpack[Sender],
    ) -> JSONDict:
        """A person sends `text`; each command in it gets its bot_command entity, where
        Telegram finds one (see markup.command_entities).

        Pass `entities` to send others instead (`[]`: none).
        """
        content: JSONDict = {"text": text}
        if entities is None:
            entities = command_entities(text)
        if entities:
            content["entities"] = entities
        if reply_to_message_id is not None:
            content["reply_to_message"] = self._replied_message(
                user_id, reply_to_message_id, sender
            )
        return self._message_update(user_id, sender, content)

    def user_sticker(
        self, user_id: int, *, emoji: str = "👍", **sender: Unpack[Sender]
    ) -> JSONDict:
        """A person sends a sticker."""
        n = next(self._file_ids)
        sticker = {
            "file_id": f"CAACAgIAAxkBAAE{n}",
            "file_unique_id": f"AgAD{n}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "TestStickers",
            "file_size": 23_000,
        }
        return self._message_update(user_id, sender, {"sticker": sticker})

    def user_photo(
        self, user_id: int, *, caption: str | None = None, **sender: Unpack[Sender]
    ) -> JSONDict:
        """A person sends a photo (three sizes, as Telegram delivers it), perhaps captioned
        (a command in the caption marked in caption_entities, as Telegram does)."""
        n = next(self._file_ids)
        sizes = [
            {
                "file_id": f"AgACAgIAAxkBAAE{n}-{size}",
                "file_unique_id": f"AQAD{n}{size}",
                "width": size,
                "height": size * 3 // 4,
                "file_size": size * 40,
            }
            for size in (90, 320, 1280)
        ]
        content: JSONDict = {"photo": sizes, **self._captioned(caption)}
        return self._message_update(user_id, sender, content)

    @staticmethod
    def _captioned(caption: str | None) -> JSONDict:
        if caption is None:
            return {}
        entities = command_entities(caption)
        return {"caption": caption, **({"caption_entities": entities} if entities else {})}

    def user_voice(self, user_id: int, *, duration: int = 3, **sender: Unpack[Sender]) -> JSONDict:
        """A person sends a voice message."""
        n = next(self._file_ids)
        voice = {
            "file_id": f"AwACAgIAAxkBAAE{n}",
            "file_unique_id": f"AgADv{n}",
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": duration * 4000,
        }
        return self._message_update(user_id, sender, {"voice": voice})

    def user_location(
        self,
        user_id: int,
        latitude: float = 52.520008,
        longitude: float = 13.404954,
        **sender: Unpack[Sender],
    ) -> JSONDict:
        """A person shares a location (Berlin by default)."""
        location = {"latitude": latitude, "longitude": longitude}
        return self._message_update(user_id, sender, {"location": location})

    def user_document(
        self,
        user_id: int,
        content: bytes = b"hello",
        *,
        filename: str = "notes.txt",
        mime_type: str = "text/plain",
        caption: str | None = None,
        **sender: Unpack[Sender],
    ) -> JSONDict:
        """A person sends a file, perhaps captioned (see `user_photo`)."""
        n = next(self._file_ids)
        document = {
            "file_id": f"BQACAgIAAxkBAAE{n}",
            "file_unique_id": f"AgADd{n}",
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        message: JSONDict = {"document": document, **self._captioned(caption)}
        return self._message_update(user_id, sender, message)

    def edited_message(
        self, user_id: int, message_id: int, text: str, **sender: Unpack[Sender]
    ) -> JSONDict:
        """A person edits their earlier message `message_id` to read `text`."""
        with self._cond:
            user, chat = self._person(user_id, sender)
            original = self._user_messages.get((chat["id"], message_id))
            message: JSONDict = {
                "message_id": message_id,
                "from": user,
                "chat": chat,
                "date": original["date"] if original else self._now(),
                "edit_date": self._now(),
                "text": text,
            }
            entities = command_entities(text)  # as Telegram marks commands in an edit too
            if entities:
                message["entities"] = entities
            self._user_messages[(chat["id"], message_id)] = message
            return self.enqueue({"edited_message": message})

    def callback_press(
        self,
        user_id: int,
        message_id: int,
        data: str,
        **sender: Unpack[Sender],
    ) -> JSONDict:
        """A person presses an inline button with `data` under bot message `message_id`.

        The query carries the bot message as it is now; for an unknown or deleted
        message, or one sent more than 48 hours ago, it carries an inaccessible message
        (date 0), as Telegram does (the buttons of a days-old question still work).
        """
        with self._cond:
            user, chat = self._person(user_id, sender)
            stored = self._bot_messages.get((chat["id"], message_id))
            recent = stored is not None and self._now() - stored.payload["date"] <= ACCESSIBLE_FOR
            if stored is not None and not stored.deleted and recent:
                message = copy.deepcopy(stored.payload)
            else:
                message = {"chat": chat, "message_id": message_id, "date": 0}
            query_id = str(next(self._callback_ids))
            self._callbacks[query_id] = PendingCallback(user_id, chat["id"], message_id, data)
            query = {
                "id": query_id,
                "from": user,
                "message": message,
                "chat_instance": str(abs(chat["id"]) * 7919 + 17),
                "data": data,
            }
            return self.enqueue({"callback_query": query})

    def press_button(self, user_id: int, label: str, **sender: Unpack[Sender]) -> JSONDict:
        """A person presses the button labelled `label` in the latest bot message with it."""
        with self._cond:
            chat_id = self._chat_id_of(user_id, sender)
            message_id, data = self._find_button(chat_id, label, None)
            return self.callback_press(user_id, message_id, data, **sender)

    @staticmethod
    def _chat_id_of(user_id: int, sender: Sender) -> int:
        chat_id = sender.get("chat_id")
        if chat_id is not None:
            return chat_id
        return user_id if sender.get("chat_type", "private") == "private" else -user_id

    def _person(self, user_id: int, sender: Sender) -> tuple[JSONDict, JSONDict]:
        """The `from` user and the chat for a simulated update; remembers the chat."""
        names: JSONDict = {
            "first_name": sender.get("first_name") or "Erika",
            "last_name": sender.get("last_name"),
            "username": sender.get("username"),
        }
        names = {key: value for key, value in names.items() if value is not None}
        user: JSONDict = {"id": user_id, "is_bot": False, **names}
        language = sender.get("language_code", "de")
        if language is not None:
            user["language_code"] = language
        chat_type = sender.get("chat_type", "private")
        if chat_type == "private":
            chat: JSONDict = {"id": self._chat_id_of(user_id, sender), "type": "private", **names}
        else:
            chat = {
                "id": self._chat_id_of(user_id, sender),
                "type": chat_type,
                "title": "Testgruppe",
            }
        with self._cond:
            self._chats[chat["id"]] = chat
        return user, copy.deepcopy(chat)

    def _message_update(self, user_id: int, sender: Sender, content: JSONDict) -> JSONDict:
        with self._cond:
            user, chat = self._person(user_id, sender)
            message: JSONDict = {
                "message_id": self._next_message_id(chat["id"]),
                "from": user,
                "chat": chat,
                "date": self._now(),
                **content,
            }
            self._user_messages[(chat["id"], message["message_id"])] = message
            return self.enqueue({"message": message})

    def _replied_message(self, user_id: int, message_id: int, sender: Sender) -> JSONDict:
        chat_id = self._chat_id_of(user_id, sender)
        with self._cond:
            stored = self._bot_messages.get((chat_id, message_id))
            if stored is not None:
                return copy.deepcopy(stored.payload)
            if (chat_id, message_id) in self._user_messages:
                return copy.deepcopy(self._user_messages[(chat_id, message_id)])
        raise ValueError(f"no message {message_id} in chat {chat_id} to reply to")

    def _find_button(self, chat_id: int, label: str, message_id: int | None) -> tuple[int, str]:
        """(message id, callback data) of the latest button labelled `label`."""
        candidates = [
            m
            for m in sorted(self._bot_messages.values(), key=lambda m: m.sequence, reverse=True)
            if m.chat_id == chat_id and not m.deleted
            if message_id is None or m.message_id == message_id
        ]
        labels = {
            m.message_id: [text for row in m.view()["buttons"] for text, _ in row]
            for m in candidates
        }
        for stored in candidates:
            for text, data in itertools.chain.from_iterable(stored.view()["buttons"]):
                if text == label:
                    if data is None:
                        raise AssertionError(f"button {label!r} has no callback data")
                    return stored.message_id, data
        available = [f"#{m}: {texts}" for m, texts in labels.items() if texts]
        where = f"message {message_id}" if message_id is not None else f"chat {chat_id}"
        raise AssertionError(
            f"no button labelled {label!r} in {where}; buttons there: "
            + ("; ".join(available) if available else "none")
        )
