"""The HTTP service: /web/health as Odoo 16 answers it, plus the routes the loaded modules declare
(a module's `ROUTES` dict maps a path to a function returning a JSON-serialisable value)."""

import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import db, release

_logger = logging.getLogger("odoo.service.server")


def health():
    """Odoo 16's answer; with a database configured, 200 only while it answers (503 otherwise)."""
    if db.configured() and not db.check():
        return {"status": "fail", "database": "unreachable"}
    return {"status": "pass"}


def make_handler(modules):
    routes = {"/web/health": health}
    routes["/web/version"] = lambda: {"server_version": release.version, "modules": sorted(modules)}
    for module in modules.values():
        routes.update(getattr(module, "ROUTES", {}))

    class Handler(BaseHTTPRequestHandler):
        server_version = "Werkzeug/2.0.2"

        def do_GET(self):
            route = routes.get(self.path.split("?", 1)[0])
            if route is None:
                self._send(404, {"error": "not found"})
                return
            payload = route()
            failed = isinstance(payload, dict) and payload.get("status") == "fail"
            self._send(503 if failed else 200, payload)

        def _send(self, status, payload):
            body = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            _logger.info("%s %s", self.address_string(), format % args)

    return Handler


def serve(modules, interface, port):
    httpd = ThreadingHTTPServer((interface, port), make_handler(modules))
    _logger.info("HTTP service (werkzeug) running on %s:%s", interface, port)
    httpd.serve_forever()
