#!/usr/bin/python3
# The fakeaws server that tests/harness/services/fakeaws started for the whole
# suite answers at the addresses its env file gives, over HTTP and over HTTPS
# verified with FAKEAWS_CA_BUNDLE. Read-only: other tests share this server.
import json
import os
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fakeaws'))
import testlib as T  # noqa: E402

t = T.Tap()
need = ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'FAKEAWS_ADMIN',
        'FAKEAWS_HTTPS_URL', 'FAKEAWS_CA_BUNDLE', 'FAKEAWS_SESSION_ACCESS_KEY_ID', 'FAKEAWS_EXPIRED_ACCESS_KEY_ID']
missing = [k for k in need if not os.environ.get(k)]
t.eq(missing, [], 'the services script exported every fakeaws variable')
if not missing:
    import botocore.session
    from botocore.config import Config
    s = botocore.session.get_session()
    s.set_credentials(os.environ['AWS_ACCESS_KEY_ID'], os.environ['AWS_SECRET_ACCESS_KEY'])
    s.set_config_variable('region', os.environ['AWS_REGION'])
    cfg = Config(retries={'total_max_attempts': 1})
    r = s.create_client('sts', endpoint_url=os.environ['AWS_ENDPOINT_URL'], config=cfg).get_caller_identity()
    t.eq(r['Account'], '123456789012', 'AWS_ENDPOINT_URL answers a signed call with the exported key')
    for var in ('FAKEAWS_HTTPS_URL', 'FAKEAWS_HTTPS_LOCALHOST_URL'):
        c = s.create_client('rds', endpoint_url=os.environ[var], verify=os.environ['FAKEAWS_CA_BUNDLE'], config=cfg)
        t.ok(len(c.describe_db_instances()['DBInstances']) >= 1, '%s verifies with FAKEAWS_CA_BUNDLE' % var)
    with urllib.request.urlopen(os.environ['FAKEAWS_ADMIN'] + '/health', timeout=5) as f:
        t.ok(json.load(f)['ok'], 'FAKEAWS_ADMIN answers')
    s2 = botocore.session.get_session()
    s2.set_credentials(os.environ['FAKEAWS_SESSION_ACCESS_KEY_ID'], os.environ['FAKEAWS_SESSION_SECRET_ACCESS_KEY'],
                       os.environ['FAKEAWS_SESSION_SESSION_TOKEN'])
    s2.set_config_variable('region', os.environ['AWS_REGION'])
    r = s2.create_client('sts', endpoint_url=os.environ['AWS_ENDPOINT_URL'], config=cfg).get_caller_identity()
    t.ok(':assumed-role/' in r['Arn'], 'the exported session credentials work')
t.done()
