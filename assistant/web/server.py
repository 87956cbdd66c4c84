"""The pages' server: a few Starlette routes under a random secret, run by uvicorn on 127.0.0.1.

Two pages: the session's (`PageServer`), whose buttons post cues on the runner's queue as keys
do, and the history's (`HistoryServer`), the weekly chart until its Close button is pressed.
Each is a door into what the couple keeps, so one middleware (`Guard`) refuses, with a bare 403,
any request without the secret, with a Host that is not this loopback address and port (DNS
rebinding), or from another origin; and it adds a strict Content-Security-Policy and no-store to
every answer. There is no CORS.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import secrets
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from assistant.devices import Post
from assistant.errors import DeviceError
from assistant.events import CUES, CueHeard, QuickExitRequested
from assistant.web.page import PageView

try:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.datastructures import Headers, MutableHeaders
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
    from starlette.routing import BaseRoute, Mount, Route
    from starlette.staticfiles import StaticFiles
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
except ImportError as error:  # pragma: no cover - both are dependencies of the package
    raise DeviceError(f"the page needs Starlette and uvicorn ({error}): pip install starlette uvicorn") from error

HOST = "127.0.0.1"
STATIC = Path(__file__).parent / "static"
STARTUP_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 5.0
CLOSE_POLL_S = 0.5

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
"""On every answer, refusals included."""

SAFE_METHODS = ("GET", "HEAD")


class Guard:
    """Every request passes here first: the secret, the Host and the Origin, or 403 and nothing else."""

    def __init__(self, app: ASGIApp, *, secret: str, port: int) -> None:
        self.app = app
        self.secret = secret.encode()
        self.hosts = {f"{HOST}:{port}", f"localhost:{port}"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http" or not self.allows(scope["method"], scope["path"], Headers(scope=scope)):
            await PlainTextResponse("Forbidden", status_code=403, headers=SECURITY_HEADERS)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def allows(self, method: str, path: str, headers: Headers) -> bool:
        host = headers.get("host", "").lower()
        if host not in self.hosts:
            return False  # another name for this address: a page that rebound its own name to us
        given = path.removeprefix("/").split("/", 1)[0].encode()
        if not hmac.compare_digest(given, self.secret):
            return False
        # Asked by another page (a page of another port on this machine is "same-site"), not this one
        # or the address typed or opened from the terminal ("none"); older browsers do not say.
        if headers.get("sec-fetch-site", "none") not in ("same-origin", "none"):
            return False
        origin = headers.get("origin")
        if origin is None:
            # Browsers send Origin with every request that changes something; only a GET may lack it.
            return method in SAFE_METHODS
        return origin == f"http://{host}"


def build_app(routes: Sequence[BaseRoute], *, secret: str, port: int) -> Starlette:
    """`routes` and the pages' files under `/secret/`, behind the guard."""
    files = Mount("/static", StaticFiles(directory=STATIC))
    return Starlette(
        routes=[Mount(f"/{secret}", routes=[*routes, files])], middleware=[Middleware(Guard, secret=secret, port=port)]
    )


async def _page(request: Request) -> Response:
    """Both pages are one document: its script tells them apart by their address."""
    return FileResponse(STATIC / "index.html", media_type="text/html")


def session_routes(view: PageView, post: Post) -> list[BaseRoute]:
    """The session's page, its stream of changes, and the two things it can ask: a cue, or to leave."""

    async def events(request: Request) -> Response:
        return StreamingResponse(_changes(view), media_type="text/event-stream")

    async def cue(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return PlainTextResponse("Send JSON.", status_code=415)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return PlainTextResponse("Send JSON.", status_code=400)
        name = body.get("cue") if isinstance(body, dict) else None
        if name not in CUES:
            return PlainTextResponse("No such cue.", status_code=400)
        post(CueHeard(name, source="key"))  # a button is a key: same queue, same meaning
        return Response(status_code=204)

    async def leave(request: Request) -> Response:
        post(QuickExitRequested())
        return Response(status_code=204)

    return [
        Route("/", _page, methods=["GET"]),
        Route("/events", events, methods=["GET"]),
        Route("/cue", cue, methods=["POST"]),
        Route("/leave", leave, methods=["POST"]),
    ]


def history_routes(history: dict[str, Any], closed: threading.Event) -> list[BaseRoute]:
    """The history's page, its chart and list as JSON, and its Close button."""

    async def data(request: Request) -> Response:
        return JSONResponse(history)

    async def close(request: Request) -> Response:
        closed.set()
        return Response(status_code=204)

    return [
        Route("/history", _page, methods=["GET"]),
        Route("/history.json", data, methods=["GET"]),
        Route("/close", close, methods=["POST"]),
    ]


async def _changes(view: PageView) -> AsyncIterator[str]:
    """Server-sent events: the whole snapshot now, and again after each change (bursts merge)."""
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()

    def wake() -> None:  # on the runner's thread
        with contextlib.suppress(RuntimeError):  # the loop is closing: the stream is over anyway
            loop.call_soon_threadsafe(changed.set)

    stop = view.listen(wake)
    try:
        while True:
            changed.clear()
            snapshot = view.snapshot()
            yield f"data: {json.dumps(snapshot)}\n\n"
            if snapshot["ended"]:
                return
            await changed.wait()
    finally:
        stop()


class LoopbackServer:
    """Serves routes under a fresh secret on 127.0.0.1 from a thread; its port is taken at once."""

    page = ""
    """The page's path under the secret: where `url` points."""

    def __init__(self, port: int = 0) -> None:
        self.secret = secrets.token_urlsafe(24)
        # Bound now, so a taken port is one clear error before anything starts.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a --port used a moment ago
        try:
            self._socket.bind((HOST, port))
        except OSError as error:
            self._socket.close()
            raise DeviceError(f"cannot serve the page on {HOST}:{port}: {error.strerror or error}") from error
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://{HOST}:{self.port}/{self.secret}/{self.page}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def serve(self, routes: Sequence[BaseRoute]) -> str:
        """Serve `routes` behind the guard; returns the page's address once it answers."""
        config = uvicorn.Config(
            build_app(routes, secret=self.secret, port=self.port),
            log_level="warning",
            access_log=False,  # an access log would hold the secret
            lifespan="off",
            ws="none",
            server_header=False,
            date_header=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="page", daemon=True
        )
        self._thread.start()
        waiting = threading.Event()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            waiting.wait(0.02)
        if not self._server.started:
            raise DeviceError(f"the page's server did not start on {HOST}:{self.port}")
        return self.url

    def close(self) -> None:
        """Stop serving."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(SHUTDOWN_TIMEOUT_S)
        self._socket.close()


class PageServer(LoopbackServer):
    """Serves one `PageView` on 127.0.0.1 from a thread, for as long as the session runs."""

    def __init__(self, view: PageView, port: int = 0) -> None:
        super().__init__(port)
        self.view = view

    def start(self, post: Post) -> str:
        """Serve the page, whose buttons post cues with `post`; returns its address once it answers."""
        return self.serve(session_routes(self.view, post))

    def close(self) -> None:
        """Stop serving: the page's stream gets its last snapshot, then the server goes."""
        if not self.view.ended:
            self.view.close()
        super().close()


class HistoryServer(LoopbackServer):
    """Serves the history page (`history.history_page`) until its Close button is pressed."""

    page = "history"

    def __init__(self, history: dict[str, Any], port: int = 0) -> None:
        super().__init__(port)
        self.history = history
        self.closed = threading.Event()
        """Set when the page's Close button is pressed."""

    def start(self) -> str:
        """Serve the page; returns its address once it answers."""
        return self.serve(history_routes(self.history, self.closed))

    def wait(self, timeout: float | None = None) -> bool:
        """Until the page's Close button is pressed (True) or `timeout` seconds pass (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            # In short waits, so that Ctrl-C is heard at once everywhere (Windows too).
            left = CLOSE_POLL_S if deadline is None else min(CLOSE_POLL_S, deadline - time.monotonic())
            if self.closed.wait(max(0.0, left)):
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False


def open_in_browser(url: str) -> bool:
    """Open the page in the default browser; False where there is none to open (no display)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False  # only text browsers are left, and they would take the terminal from the session
    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False
