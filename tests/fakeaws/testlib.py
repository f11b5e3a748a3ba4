"""Helpers for the simulated AWS's own TAP tests (tests/integration/fakeaws_*.t):
start a private server, make botocore clients pointed at it, talk to the
admin API, and print TAP lines."""
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_WORLD = os.path.join(HERE, 'default_world.json')
with open(DEFAULT_WORLD) as _f:
    WORLD = json.load(_f)
KEY = WORLD['credentials'][0]
SESSION = WORLD['credentials'][1]
EXPIRED = WORLD['credentials'][2]
FAST = {'env_update': 0.4, 'env_launch': 0.4, 'env_terminate': 0.3, 'snapshot': 1.0,
        'db_create': 0.5, 'db_delete': 0.3, 'dns_change': 0.3}


class Server:
    """A private fakeaws process (so a test owns its world)."""

    def __init__(self, world=None, hooks=None, durations=None, https=None):
        self.dir = tempfile.mkdtemp(prefix='fakeaws-test.')
        path = DEFAULT_WORLD
        if world is not None:
            path = os.path.join(self.dir, 'world.json')
            with open(path, 'w') as f:
                json.dump(world, f)
        portfile = os.path.join(self.dir, 'ports.json')
        cmd = ['/usr/bin/python3', os.path.join(HERE, 'fakeaws.py'), '--world', path, '--port', '0',
               '--port-file', portfile, '--log', os.path.join(self.dir, 'log')]
        if hooks:
            cmd += ['--hooks', hooks]
        if https:
            cmd += ['--https-port', '0', '--cert', https[0], '--key', https[1]]
        self.t0 = time.time()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, 'err'), 'w'))
        for _ in range(200):
            if os.path.exists(portfile):
                break
            if self.proc.poll() is not None:
                raise RuntimeError('fakeaws exited: ' + open(os.path.join(self.dir, 'err')).read())
            time.sleep(0.01)
        self.startup = time.time() - self.t0
        with open(portfile) as f:
            self.ports = json.load(f)
        self.url = 'http://127.0.0.1:%d' % self.ports['port']
        self.admin_url = self.url + '/_sim'
        if durations is not None:
            self.admin('POST', '/time', {'durations': durations})

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.admin_url + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            raise RuntimeError('admin %s %s: %s' % (method, path, e.read().decode()))
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode()

    def state(self):
        return self.admin('GET', '/state')

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def stderr(self):
        return open(os.path.join(self.dir, 'err')).read()


def session(cred=KEY, region='ap-southeast-2'):
    import botocore.session
    s = botocore.session.get_session()
    s.set_credentials(cred['access_key'], cred['secret_key'], cred.get('session_token'))
    s.set_config_variable('region', region)
    return s


_clients = {}


def client(srv, service, cred=KEY, region='ap-southeast-2', retries=0, endpoint=None):
    """A botocore client for the server (cached: making one costs ~0.2 s)."""
    key = (id(srv), service, cred['access_key'], cred['secret_key'], cred.get('session_token'), region, retries,
           endpoint)
    if key not in _clients:
        _clients[key] = _client(srv, service, cred, region, retries, endpoint)
    return _clients[key]


def _client(srv, service, cred, region, retries, endpoint):
    from botocore.config import Config
    cfg = Config(retries={'total_max_attempts': retries + 1, 'mode': 'standard'}, connect_timeout=5,
                 read_timeout=15)
    return session(cred, region).create_client(service, endpoint_url=endpoint or srv.url, config=cfg)


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        print('%s %d - %s' % ('ok' if cond else 'not ok', self.n, name), flush=True)
        if not cond:
            self.failed += 1
            if diag is not None:
                for line in str(diag).splitlines():
                    print('# ' + line)
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, 'got:  %r\nwant: %r' % (got, want))

    def error(self, fn, code, name, status=None):
        """fn() must raise a botocore ClientError with this code."""
        from botocore.exceptions import ClientError
        try:
            fn()
        except ClientError as e:
            got = e.response['Error'].get('Code')
            st = e.response['ResponseMetadata'].get('HTTPStatusCode')
            return self.ok(got == code and (status is None or st == status), name,
                           'got %s (HTTP %s): %s' % (got, st, e.response['Error'].get('Message')))
        except Exception as e:
            return self.ok(False, name, 'raised %s: %s' % (type(e).__name__, e))
        return self.ok(False, name, 'no error raised')

    def run(self, fn, name):
        """Run a block of checks; an exception fails it with a traceback."""
        try:
            fn()
        except Exception:
            self.ok(False, name + ' (raised)', traceback.format_exc())

    def done(self):
        print('1..%d' % self.n)
        sys.exit(1 if self.failed else 0)


def wait_for(pred, timeout=10, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


# ------------------------------------------------------------------ strict
# botocore's parsers skip XML elements they do not know; this walk does not,
# so a misspelt or misplaced element in a response fails the test.

def _local(tag):
    return tag.split('}', 1)[-1]


def _check_xml(el, shape, path, problems):
    import datetime
    t = shape.type_name
    if t == 'structure':
        names = {}
        for mname, m in shape.members.items():
            if m.serialization.get('location') in ('header', 'headers', 'statusCode'):
                continue
            if m.type_name == 'list' and m.serialization.get('flattened'):
                names[m.member.serialization.get('name', mname)] = (m.member, True)
            else:
                names[m.serialization.get('name', mname)] = (m, False)
        seen = set()
        for child in el:
            tag = _local(child.tag)
            if tag not in names:
                problems.append('%s: unknown element <%s>' % (path, tag))
                continue
            m, flat = names[tag]
            if tag in seen and not flat:
                problems.append('%s: <%s> repeated' % (path, tag))
            seen.add(tag)
            _check_xml(child, m, path + '/' + tag, problems)
        return
    if t == 'list':
        mtag = shape.member.serialization.get('name', 'member')
        for child in el:
            if _local(child.tag) != mtag:
                problems.append('%s: list item <%s>, model says <%s>' % (path, _local(child.tag), mtag))
            else:
                _check_xml(child, shape.member, path + '/' + mtag, problems)
        return
    if len(el):
        problems.append('%s: scalar %s has child elements' % (path, t))
        return
    text = el.text or ''
    try:
        if t in ('integer', 'long'):
            int(text)
        elif t in ('float', 'double'):
            float(text)
        elif t == 'boolean':
            if text not in ('true', 'false'):
                raise ValueError(text)
        elif t == 'timestamp':
            datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
        elif t == 'string' and getattr(shape, 'enum', None) and text not in shape.enum:
            raise ValueError('%r not in enum %s' % (text, shape.enum))
    except ValueError as e:
        problems.append('%s: bad %s value: %s' % (path, t, e))


def check_response(service_model, op_name, status, body):
    """Problems (strings) in a raw successful response compared with the model."""
    import xml.etree.ElementTree as ET
    op = service_model.operation_model(op_name)
    proto = service_model.protocol
    problems = []
    if status != 200:
        return ['HTTP status %s' % status]
    if proto == 'json':
        data = json.loads(body or b'{}')

        def walk(shape, v, path):
            if shape.type_name == 'structure':
                for k, x in v.items():
                    if k not in shape.members:
                        problems.append('%s: unknown key %s' % (path, k))
                    else:
                        walk(shape.members[k], x, path + '.' + k)
        walk(op.output_shape, data, op_name)
        return problems
    root = ET.fromstring(body)
    if _local(root.tag) != op_name + 'Response':
        problems.append('root <%s>, expected <%sResponse>' % (_local(root.tag), op_name))
    ns = root.tag[1:].split('}')[0] if root.tag.startswith('{') else ''
    want_ns = service_model.metadata.get('xmlNamespace') or 'https://route53.amazonaws.com/doc/2013-04-01/'
    if ns.rstrip('/') != want_ns.rstrip('/'):
        problems.append('namespace %r, expected %r' % (ns, want_ns))
    if proto == 'query':
        kids = [_local(c.tag) for c in root]
        wrapper = op.output_shape.serialization.get('resultWrapper') if op.output_shape else None
        want = ([wrapper] if wrapper else []) + ['ResponseMetadata']
        if kids != want:
            problems.append('children %s, expected %s' % (kids, want))
        for c in root:
            if _local(c.tag) == wrapper:
                _check_xml(c, op.output_shape, op_name, problems)
        return problems
    if proto == 'ec2':
        first = _local(root[0].tag) if len(root) else None
        if first != 'requestId':
            problems.append('first child <%s>, expected <requestId>' % first)
        rest = ET.Element('x')
        for c in list(root)[1:]:
            rest.append(c)
        _check_xml(rest, op.output_shape, op_name, problems)
        return problems
    _check_xml(root, op.output_shape, op_name, problems)
    return problems


def strict_client(srv, service, problems, **kw):
    """A botocore client whose every successful raw response is also walked
    strictly against the model; problems are appended to `problems`."""
    c = _client(srv, service, kw.get('cred', KEY), kw.get('region', 'ap-southeast-2'), kw.get('retries', 0),
                kw.get('endpoint'))
    sm = c.meta.service_model

    def hook(response_dict=None, event_name=None, **_):
        if response_dict is None or response_dict.get('status_code') != 200:
            return
        name = event_name.split('.')[-1]
        for p in check_response(sm, name, 200, response_dict['body']):
            problems.append('%s.%s: %s' % (service, name, p))

    c.meta.events.register('response-received.*.*', hook)
    return c


def raw(srv, service, body=b'', method='POST', path='/', headers=None, cred=KEY, region='ap-southeast-2',
        when=None, sign=True, tamper=None, content_type='application/x-www-form-urlencoded; charset=utf-8'):
    """Send a hand-made request (signed with botocore's SigV4Auth unless
    sign=False; `when` = datetime to sign at; tamper(headers) edits the
    signed headers before sending). Returns (status, headers, body)."""
    import datetime
    import http.client
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    if isinstance(body, str):
        body = body.encode()
    host = '127.0.0.1:%d' % srv.ports['port']
    req = AWSRequest(method=method, url='http://%s%s' % (host, path), data=body)
    if content_type and body:
        req.headers['Content-Type'] = content_type
    for k, v in (headers or {}).items():
        req.headers[k] = v
    if sign:
        auth = SigV4Auth(Credentials(cred['access_key'], cred['secret_key'], cred.get('session_token')),
                         service, region)
        ts = (when or datetime.datetime.utcnow()).strftime('%Y%m%dT%H%M%SZ')

        req.context['timestamp'] = ts
        auth._modify_request_before_signing(req)
        creq = auth.canonical_request(req)
        sig = auth.signature(auth.string_to_sign(req, creq), req)
        auth._inject_signature_to_request(req, sig)
    hdrs = dict(req.headers.items())
    if tamper:
        tamper(hdrs)
    conn = http.client.HTTPConnection('127.0.0.1', srv.ports['port'], timeout=10)
    conn.request(method, path, body=body, headers=hdrs)
    r = conn.getresponse()
    out = (r.status, dict(r.getheaders()), r.read())
    conn.close()
    return out


def error_code(body):
    """(code, message) from any of the AWS error shapes."""
    import xml.etree.ElementTree as ET
    body = body.strip()
    if body.startswith(b'{'):
        d = json.loads(body)
        return d.get('__type'), d.get('Message') or d.get('message')
    root = ET.fromstring(body)
    tag = _local(root.tag)
    if tag == 'InvalidChangeBatch':
        return 'InvalidChangeBatch(legacy)', [m.text for m in root.iter() if _local(m.tag) == 'Message']
    code = next((e.text for e in root.iter() if _local(e.tag) == 'Code'), None)
    msg = next((e.text for e in root.iter() if _local(e.tag) == 'Message'), None)
    return code, msg
