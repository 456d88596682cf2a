"""A local HTTP server for tests: a ThreadingHTTPServer on a free 127.0.0.1 port, serving in a
thread while it is used as a context manager. The fixture servers of the spider tests build on it."""
from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer


class LocalServer:
    def serve(self, handler) -> None:
        """Bind `handler` to a free port (self.port); it answers once the server is entered."""
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
