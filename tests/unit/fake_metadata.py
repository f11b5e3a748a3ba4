#!/usr/bin/python3
"""A tiny EC2 instance metadata (IMDSv2) and container credentials endpoint
for tests/unit/test_creds.c. Prints its port, then serves until killed.
Refuses IMDSv1 (no token) and container requests without the right
Authorization header, as the real ones do."""
import http.server
import json
import sys

TOKEN = "imds-session-token-xyz"
CREDS = {"Code": "Success", "AccessKeyId": "ASIAIMDSKEY", "SecretAccessKey": "imds-secret-VALUE",
         "Token": "imds-session-TOKEN", "Expiration": "2030-01-02T03:04:05Z"}
CONTAINER = {"AccessKeyId": "ASIACONTAINER", "SecretAccessKey": "container-secret-VALUE",
             "Token": "container-TOKEN", "Expiration": "2030-01-02T03:04:05.000+00:00"}


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, code, body):
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get("x-aws-ec2-metadata-token-ttl-seconds"):
            return self.send(200, TOKEN)
        self.send(400, "bad")

    def do_GET(self):
        if self.path.startswith("/latest/"):
            if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
                return self.send(401, "")
            if self.path == "/latest/meta-data/iam/security-credentials/":
                return self.send(200, "cutover-role")
            if self.path == "/latest/meta-data/iam/security-credentials/cutover-role":
                return self.send(200, json.dumps(CREDS))
            return self.send(404, "")
        if self.path == "/container-creds":
            if self.headers.get("Authorization") != "container-auth-TOKEN":
                return self.send(403, "")
            return self.send(200, json.dumps(CONTAINER))
        self.send(404, "")


srv = http.server.HTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
