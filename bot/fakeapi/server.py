"""`BotApiServer`: the fake behind a loopback HTTP server, for the real entry point."""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.fakeapi.api import FakeBotApi
from bot.fakeapi.model import ApiError, JSONDict, UploadedFile, bad_request, encode_body

# Parameters whose values are always strings; python-telegram-bot JSON-encodes only non-strings,
# so a text of "5" must not turn into the number 5.
_STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "data",
        "url", "action", "language_code", "description", "short_description", "name",
        "emoji", "title", "question", "filename", "business_connection_id",
        "message_effect_id", "document", "photo", "sticker", "voice", "audio", "video",
        "animation", "thumbnail", "address", "first_name", "last_name", "phone_number",
        "switch_inline_query", "secret_token", "ip_address", "certificate",
    }
)  # fmt: skip


def _form_value(name: str, value: str) -> Any:
    """Decode one form value the way python-telegram-bot encoded it."""
    if name in _STRING_PARAMS:
        return value
    try:
        decoded = json.loads(value, parse_constant=lambda constant: value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, dict | list | bool | int | float) else value


def _parse_multipart(content_type: str, body: bytes) -> tuple[JSONDict, dict[str, UploadedFile]]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    params: JSONDict = {}
    files: dict[str, UploadedFile] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition") or "")
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            params[name] = _form_value(name, content.decode("utf-8"))
            continue
        # Undo the header encoding: raw UTF-8 bytes arrive as surrogate escapes; httpx
        # percent-encodes quotes and control characters.
        filename = filename.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        filename = re.sub(r"%(22|[01][0-9A-F])", lambda m: chr(int(m[1], 16)), filename)
        files[name] = UploadedFile(filename, content, part.get_content_type())
    return params, files


def _parse_request(
    query: str, content_type: str, body: bytes
) -> tuple[JSONDict, dict[str, UploadedFile]]:
    """Parameters and uploads of one HTTP request (query string and any body)."""
    params: JSONDict = {k: _form_value(k, v) for k, v in parse_qsl(query, keep_blank_values=True)}
    files: dict[str, UploadedFile] = {}
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json" and body:
        decoded = json.loads(body)
        if not isinstance(decoded, dict):
            raise ValueError("JSON body is not an object")
        params.update(decoded)
    elif media_type == "multipart/form-data":
        form, files = _parse_multipart(content_type, body)
        params.update(form)
    elif body:
        form_pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        params.update({k: _form_value(k, v) for k, v in form_pairs})
    return params, files


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that can close its keep-alive connections on stop."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], api: FakeBotApi) -> None:
        self.api = api
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (a cancelled long poll, a killed bot) are normal, not errors."""
        if self.stopping.is_set() or isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


_PATH_RE = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, so each call does not open a connection
    disable_nagle_algorithm = True  # else small answers wait ~40 ms for delayed ACKs

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet (the default logs every request line, token included)."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        match = _PATH_RE.fullmatch(url.path)
        api = self.server.api
        if match is None:
            self._respond(404, ApiError(404, "Not Found").envelope())
            return
        if match["token"] != api.token:
            self._respond(401, ApiError(401, "Unauthorized").envelope())
            return
        method = match["method"]
        try:
            params, files = _parse_request(url.query, self.headers.get("Content-Type", ""), body)
        except ValueError:
            self._respond(400, bad_request("can't parse request").envelope())
            return
        try:
            status, envelope = api.handle(method, params, files)
        except Exception as exc:  # a bug in the fake: answer, then let handle_error print it
            self._respond(500, ApiError(500, f"Internal Server Error: {exc!r}").envelope())
            raise
        delay = api.take_delay(method)
        if delay:
            self.server.stopping.wait(delay)
        self._respond(status, envelope)

    def _respond(self, status: int, envelope: JSONDict) -> None:
        body = encode_body(envelope)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (e.g. a cancelled long poll)
            self.close_connection = True


class BotApiServer:
    """The fake behind a loopback HTTP server; a context manager that starts and stops it."""

    def __init__(self, api: FakeBotApi, host: str = "127.0.0.1", port: int = 0) -> None:
        self.api = api
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> BotApiServer:
        """Listen (port 0 picks a free one) and serve in a daemon thread."""
        if self._server is None:
            self._server = _Server(self._address, self.api)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fake-bot-api",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake held getUpdates and close open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        self.api.release_pollers()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._server is None:
            raise RuntimeError("BotApiServer is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Root URL, e.g. http://127.0.0.1:PORT."""
        return f"http://{self._address[0]}:{self.port}"

    @property
    def base_url(self) -> str:
        """Base URL for python-telegram-bot (it appends the token): http://127.0.0.1:PORT/bot."""
        return f"{self.url}/bot"

    def __enter__(self) -> BotApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
