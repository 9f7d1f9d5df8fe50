"""`headed`: short notes join the message they are about."""

from __future__ import annotations

from flows.replies import Button, Document, Reply, headed

QUESTION = Reply("How satisfied are you?", ((Button("1", "a:t:rating:1"),),), question=True)


def test_notes_head_the_first_message_and_keep_its_buttons() -> None:
    [reply, after] = headed(("Thank you.", "Let's go on."), (QUESTION, Reply("later")))
    assert reply.text == "Thank you.\n\nLet's go on.\n\nHow satisfied are you?"
    assert reply.buttons == QUESTION.buttons and reply.question
    assert after == Reply("later")


def test_without_notes_nothing_changes() -> None:
    assert headed((), (QUESTION,)) == (QUESTION,)


def test_a_file_or_picture_keeps_the_notes_as_messages_of_their_own() -> None:
    export = Reply("", document=Document("data.json", b"{}", caption="Your data"))
    assert headed(("Here it is.",), (export,)) == (Reply("Here it is."), export)
    assert headed(("Nothing to ask.",), ()) == (Reply("Nothing to ask."),)
