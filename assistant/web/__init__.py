"""The page: a second view of the session in the browser, served on 127.0.0.1 only.

`page.PageView` is a view like the terminal's (the runner tells it what changed); `server.PageServer`
serves it with its static files, streams its changes, and turns button presses into cues.
"""
