#!/usr/bin/python3
"""Reference signer for tests/unit/test_sigv4.c: signs each request in the
JSON file argv[1] with botocore's SigV4Auth and prints, as JSON, the
canonical request, string to sign and signature of each."""
import json
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

out = []
with open(sys.argv[1], encoding="utf-8") as f:
    cases = json.load(f)
for c in cases:
    body = c["body"].encode("utf-8")
    req = AWSRequest(method=c["method"], url=c["url"], data=body,
                     headers=dict(c["headers"]))
    req.context["timestamp"] = c["amz_date"]
    creds = Credentials(c["access_key"], c["secret_key"], c.get("token") or None)
    auth = SigV4Auth(creds, c["service"], c["region"])
    auth._modify_request_before_signing(req)
    cr = auth.canonical_request(req)
    sts = auth.string_to_sign(req, cr)
    out.append({"canonical_request": cr, "string_to_sign": sts,
                "signature": auth.signature(sts, req)})
json.dump(out, sys.stdout)
