#!/usr/bin/python3
"""Scripted HTTP server for tests/unit/test_aws.c.

argv[1]: JSON list of replies served in order (the last one repeats), each
{"status": 200, "body": "...", "headers": {...}, "drop": false}; "drop"
closes the connection without answering. argv[2]: a file where every
request is appended as a JSON line (method, path, headers, body, the
client's port, to count connections). Prints its port, serves until killed.
"""
import http.server
import json
import sys

replies = json.load(open(sys.argv[1]))
log = open(sys.argv[2], "a")
n = 0


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def handle_any(self):
        global n
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        log.write(json.dumps({"method": self.command, "path": self.path,
                              "headers": dict(self.headers.items()), "body": body,
                              "port": self.client_address[1]}) + "\n")
        log.flush()
        r = replies[min(n, len(replies) - 1)]
        n += 1
        if r.get("drop"):
            self.close_connection = True
            self.connection.shutdown(2)
            return
        b = r.get("body", "").encode()
        self.send_response(r.get("status", 200))
        for k, v in r.get("headers", {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


srv = http.server.HTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
