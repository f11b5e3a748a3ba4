#!/usr/bin/python3
"""Simulated AWS for cutover's tests: one HTTP(S) port serving Elastic
Beanstalk, RDS, Route 53, EC2, STS, EC2 Instance Connect and Systems Manager,
every request SigV4-checked and model-validated, plus an unsigned admin API
under /_sim/, and a websocket port for Session Manager's data channel.

    fakeaws.py --world world.json [--port 0] [--https-port 0 --cert C --key K]
               [--hooks module.py] [--port-file FILE] [--log FILE]

See README.md in this folder.
"""
import argparse
import datetime
import importlib.util
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awsproto  # noqa: E402
import iampolicy  # noqa: E402
from awsproto import AwsError  # noqa: E402
from world import World, Hooks  # noqa: E402

GLOBAL_SIGNING = {'route53', 'sts'}   # may be signed for us-east-1 as well as the world's region
MAX_SKEW = 300


class Sim:
    """The server's shared state: the world plus admin-side settings
    (faults, clock skew, call log). One instance per server process."""

    def __init__(self, world_path, hooks):
        self.world_path = world_path
        with open(world_path) as f:
            self.world = World(json.load(f), hooks)
        self.faults = []
        self.clock_skew = 0.0      # seconds added to the server clock for the signature time check
        self.calls = []
        self.imds_tokens = {}
        self.lock = threading.Lock()
        self.roles = {}            # role ARN -> spec; the world file's "roles" plus /_sim/roles
        self.sso_tokens = {}       # SSO access token -> {"roles": [[account, role]], "user", "expires"}
        self.policies = []         # [{"principal": ARN or None (everyone), "document": {...}}]
        self.load_roles(self.world_spec_roles(world_path))
        with open(world_path) as f:
            self.set_policies(json.load(f).get('policies', []))

    def set_policies(self, specs):
        """Identity-based policies (iampolicy.py), each {"document": {...},
        "principal": ARN} (no principal: every caller). A caller with none
        attached may do anything, as the simulation always allowed."""
        out = []
        for spec in specs:
            if not isinstance(spec, dict) or 'document' not in spec:
                raise ValueError('a policy is {"document": {...}, "principal": ARN (optional)}')
            iampolicy.check_document(spec['document'])
            out.append({'principal': spec.get('principal'), 'document': spec['document']})
        self.policies = out

    def authorize(self, service, op, params, cred):
        """Raises the AccessDenied AWS answers when the caller's policies do
        not allow the request. GetCallerIdentity needs no permission on AWS."""
        if service == 'sts' and op == 'GetCallerIdentity':
            return
        with self.lock:
            docs = [p['document'] for p in self.policies if p['principal'] in (None, cred['arn'])]
        if not docs:
            return
        for action, res, ctx in iampolicy.checks(self.world, service, op, params):
            how, where = iampolicy.evaluate(docs, action, res, ctx)
            if how != 'allow':
                raise iampolicy.denied_error(service, cred['arn'], action, where, how)

    @staticmethod
    def world_spec_roles(path, spec=None):
        if spec is None:
            with open(path) as f:
                spec = json.load(f)
        return spec.get('roles', [])

    def load_roles(self, specs):
        self.roles = {}
        for r in specs:
            self.add_role(r)

    def add_role(self, spec):
        """A role STS AssumeRole can hand out: {"name", optional "account",
        "trust": [principal ARNs or account root ARNs] (default: the world's
        account), "external_id", "max_session_duration" (default 3600),
        "credential_lifetime" (the Expiration the issued credentials report,
        in seconds; shorter than the session to exercise client refresh)}."""
        r = dict(spec)
        acct = r.setdefault('account', self.world.account)
        r.setdefault('arn', 'arn:aws:iam::%s:role/%s' % (acct, r['name']))
        r.setdefault('trust', ['arn:aws:iam::%s:root' % self.world.account])
        r.setdefault('max_session_duration', 3600)
        r.setdefault('role_id', 'AROA' + uuid.uuid5(uuid.NAMESPACE_URL, r['arn']).hex[:17].upper())
        self.roles[r['arn']] = r
        return r

    def take_fault(self, service, op):
        with self.lock:
            for f in self.faults:
                if f.get('service', '*') not in ('*', service) or f.get('operation', '*') not in ('*', op):
                    continue
                if f['kind'] == 'ratelimit':
                    # A request-rate quota as AWS enforces one: a token bucket
                    # of `rate` per second holding up to `burst`; a request that
                    # finds it empty is throttled. It stays until removed.
                    now = time.monotonic()
                    rate, burst = float(f.get('rate', 5)), float(f.get('burst', f.get('rate', 5)))
                    tokens = min(burst, f.get('_tokens', burst) + (now - f.get('_at', now)) * rate)
                    f['_at'] = now
                    f['admitted'] = f.get('admitted', 0)
                    if tokens >= 1:
                        f['_tokens'] = tokens - 1
                        f['admitted'] += 1
                        continue
                    f['_tokens'] = tokens
                    f['fired'] = f.get('fired', 0) + 1
                    return dict(f, kind='throttle')
                if f.get('skip', 0) > 0:
                    f['skip'] -= 1
                    continue
                f['count'] = f.get('count', 1) - 1
                if f['count'] <= 0:
                    self.faults.remove(f)
                f['fired'] = f.get('fired', 0) + 1
                return dict(f)
        return None

    def log_call(self, **kw):
        with self.lock:
            kw['t'] = time.time()
            self.calls.append(kw)
            del self.calls[:-20000]


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    # Headers and body go out in two writes: with Nagle's algorithm the body
    # waits for the client's delayed ACK of the headers (40 ms a call on
    # Linux), which AWS does not add and which made every run of the tool
    # seconds slower in the tests.
    disable_nagle_algorithm = True
    server_version = 'fakeaws'
    sys_version = ''
    sim = None

    def log_message(self, fmt, *args):
        if self.server.logfile:
            self.server.logfile.write('%s %s\n' % (datetime.datetime.utcnow().isoformat(), fmt % args))
            self.server.logfile.flush()

    # ---------------------------------------------------------- plumbing
    def _body(self):
        if 'chunked' in (self.headers.get('Transfer-Encoding') or '').lower():
            out = b''
            while True:
                size = int(self.rfile.readline().split(b';')[0].strip() or b'0', 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n else b''

    def _send(self, status, headers, body):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def _json(self, status, obj):
        self._send(status, {'Content-Type': 'application/json'}, json.dumps(obj, default=str, indent=1).encode())

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_DELETE(self):
        self._handle()

    def do_PUT(self):
        self._handle()

    def _handle(self):
        body = self._body()
        if self.path.startswith('/_sim/') or self.path == '/_sim':
            try:
                self._admin(body)
            except Exception as e:  # admin errors are for test authors: say what went wrong
                self._json(400, {'error': '%s: %s' % (type(e).__name__, e)})
            return
        if self.path.startswith('/latest/'):
            self._imds()
            return
        if urllib.parse.urlsplit(self.path).path == '/federation/credentials':
            self._sso_portal()
            return
        self._aws(body)

    def _sso_portal(self):
        """The IAM Identity Center portal's GetRoleCredentials (rest-json,
        unsigned: the `aws sso login` access token rides in a header), for
        the tokens and roles given with POST /_sim/sso. Parameters are
        checked against the botocore model (sso 2019-06-10)."""
        sim, w = self.sim, self.sim.world
        hdr = {'Content-Type': 'application/json'}

        def error(st, code, msg):
            self._send(st, dict(hdr, **{'x-amzn-ErrorType': code}), json.dumps({'message': msg}).encode())
            sim.log_call(service='sso', operation='GetRoleCredentials', status=st, code=code,
                         request_id='-', sim_t=w.now())

        if self.command != 'GET':
            return error(404, 'UnknownOperationException', 'Unknown operation')
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query, keep_blank_values=True))
        token = self.headers.get('x-amz-sso_bearer_token')
        op = awsproto.model('sso').operation_model('GetRoleCredentials')
        members = op.input_shape.members
        for name, loc in (('roleName', q.get('role_name')), ('accountId', q.get('account_id')),
                          ('accessToken', token)):
            if loc is None:
                return error(400, 'InvalidRequestException', '%s is required' % name)
            if name == 'accountId' and not re.fullmatch(r'\d{12}', loc):
                return error(400, 'InvalidRequestException', 'accountId must be 12 digits')
            assert name in members
        if self.headers.get('Authorization'):
            return error(400, 'InvalidRequestException', 'GetRoleCredentials is not signed')
        with sim.lock:
            grant = sim.sso_tokens.get(token)
        if grant is None or grant.get('expires', float('inf')) <= time.time():
            return error(401, 'UnauthorizedException', 'Session token not found or invalid')
        role = (q['account_id'], q['role_name'])
        if [q['account_id'], q['role_name']] not in [list(r) for r in grant['roles']]:
            return error(403, 'ForbiddenException', 'No access')
        now = time.time()
        with w.lock:
            akid = 'ASIA' + uuid.uuid4().hex[:16].upper()
            c = w.add_credential({
                'access_key': akid, 'secret_key': uuid.uuid4().hex + uuid.uuid4().hex[:8],
                'session_token': 'IQoJb3JpZ2luX2Vj' + uuid.uuid4().hex * 3, 'account': role[0],
                'arn': 'arn:aws:sts::%s:assumed-role/AWSReservedSSO_%s_0123456789abcdef/%s'
                       % (role[0], role[1], grant.get('user', 'operator')),
                'user_id': 'AROASSO%s:%s' % (uuid.uuid5(uuid.NAMESPACE_URL, role[1]).hex[:12].upper(),
                                             grant.get('user', 'operator')),
                'expires': now + 3600})
        out = {'roleCredentials': {'accessKeyId': akid, 'secretAccessKey': c['secret_key'],
                                   'sessionToken': c['session_token'], 'expiration': int((now + 3600) * 1000)}}
        self._send(200, hdr, json.dumps(out).encode())
        sim.log_call(service='sso', operation='GetRoleCredentials', status=200, code=None, request_id='-',
                     sim_t=w.now())

    # ------------------------------------------- credential providers
    def _issued(self, access_key):
        c = self.sim.world.credentials[access_key]
        exp = datetime.datetime.utcnow() + datetime.timedelta(hours=6)
        return {'AccessKeyId': c['access_key'], 'SecretAccessKey': c['secret_key'],
                'Token': c.get('session_token', ''), 'Expiration': exp.strftime('%Y-%m-%dT%H:%M:%SZ')}

    def _imds(self):
        """IMDSv2 as an EC2 instance serves it (AWS_EC2_METADATA_SERVICE_ENDPOINT
        = this server): a PUT for a session token, then the role's credentials.
        IMDSv1 (no token) is refused as on instances that require v2."""
        w = self.sim.world
        path = urllib.parse.urlsplit(self.path).path
        text = {'Content-Type': 'text/plain'}
        if path == '/latest/api/token':
            if self.command != 'PUT':
                return self._send(405, text, b'')
            ttl = self.headers.get('X-aws-ec2-metadata-token-ttl-seconds')
            if not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return self._send(400, text, b'')
            token = 'fakeaws-imds-' + uuid.uuid4().hex
            with self.sim.lock:
                self.sim.imds_tokens[token] = time.time() + int(ttl)
            return self._send(200, dict(text, **{'X-aws-ec2-metadata-token-ttl-seconds': ttl}), token.encode())
        tok = self.headers.get('X-aws-ec2-metadata-token')
        with self.sim.lock:
            valid = tok is not None and self.sim.imds_tokens.get(tok, 0) > time.time()
        if not valid:
            return self._send(401, text, b'')
        role = w.options['imds_role']
        base = '/latest/meta-data/iam/security-credentials/'
        if path == base:
            return self._send(200, text, role.encode())
        if path == base + role:
            d = dict(self._issued(w.options['imds_credential']), Code='Success', Type='AWS-HMAC',
                     LastUpdated=datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%M:%SZ'))
            return self._send(200, text, json.dumps(d).encode())
        if path == '/latest/meta-data/placement/region':
            return self._send(200, text, w.region.encode())
        return self._send(404, text, b'')

    # --------------------------------------------------------------- AWS
    def _aws(self, body):
        sim = self.sim
        rid = str(uuid.uuid4())
        service, op_name, status, code = None, None, 200, None
        extra = {}
        form = {}
        ctype = self.headers.get('Content-Type', '')
        raw_path = self.path
        if self.command == 'POST' and 'x-www-form-urlencoded' in ctype:
            form = dict(urllib.parse.parse_qsl(body.decode('utf-8', 'replace'), keep_blank_values=True))
        split = urllib.parse.urlsplit(raw_path)
        if split.path == '/' and split.query:
            for k, v in urllib.parse.parse_qsl(split.query, keep_blank_values=True):
                form.setdefault(k, v)
        try:
            try:
                service, cred = self._authenticate(body, raw_path, form)
            except AwsError as e:
                service = getattr(e, 'service', None) or awsproto.service_from_request(self.headers, raw_path, form)
                raise
            proto = awsproto.model(service).protocol
            if proto in ('query', 'ec2'):
                op, params = awsproto.parse_query_request(service, form)
            elif proto == 'rest-xml':
                op, params = awsproto.parse_restxml_request(service, self.command, raw_path, self.headers, body)
            else:
                op, params = awsproto.parse_json_request(service, self.headers, body)
            op_name = op.name
            if op_name == 'ChangeResourceRecordSets':
                # Which record sets a change names, so a test can tell
                # cutover's lease (_cutover-lock.<zone>) from the switch.
                extra['records'] = ['%s %s %s' % (ch.get('Action'), ch.get('ResourceRecordSet', {}).get('Name'),
                                                  ch.get('ResourceRecordSet', {}).get('Type'))
                                    for ch in params.get('ChangeBatch', {}).get('Changes', [])]
            if op_name not in awsproto.OPERATIONS[service]:
                raise AwsError('UnauthorizedOperation' if proto == 'ec2' else 'AccessDenied',
                               'The simulation does not implement %s:%s.' % (service, op_name), 403)
            fault = sim.take_fault(service, op_name)
            if fault:
                if self._fault(fault, service, proto, rid):
                    status, code = 'fault', fault['kind']
                    return
            awsproto.validate(proto, op, params)
            w = sim.world
            with w.lock:
                sim.authorize(service, op_name, params, cred)
            handler = getattr(self, 'op_%s_%s' % (service.replace('-', '_'), op_name), None) or \
                getattr(w, 'op_%s_%s' % (service.replace('-', '_'), op_name))
            with w.lock:
                w.tick()
                result = handler(params, {'request_id': rid, 'credential': cred})
                st, headers, out = awsproto.serialize_response(service, op, result, rid)
            self._send(st, headers, out)
        except AwsError as e:
            status, code = e.status, e.code
            st, headers, out = awsproto.serialize_error(
                service, e, rid, legacy_change_batch=sim.world.options.get('route53_legacy_errors'))
            self._send(st, headers, out)
        except (BrokenPipeError, ConnectionResetError):
            status, code = 'fault', 'client-gone'
        except Exception as e:  # a bug in the simulation: answer as AWS does, and log it
            import traceback
            traceback.print_exc()
            status, code = 500, 'InternalFailure'
            err = AwsError('InternalFailure' if service != 'ec2' else 'InternalError',
                           'Simulation bug: %s: %s' % (type(e).__name__, e), 500, sender=False)
            st, headers, out = awsproto.serialize_error(service, err, rid)
            self._send(st, headers, out)
        finally:
            sim.log_call(service=service, operation=op_name or form.get('Action'), status=status, code=code,
                         request_id=rid, sim_t=sim.world.now(), **extra)

    def _authenticate(self, body, raw_path, form):
        """Check the request's SigV4 signature as AWS does; returns
        (service, credential) or raises the error AWS would answer."""
        sim = self.sim
        w = sim.world
        auth = self.headers.get('Authorization')
        if not auth:
            if 'X-Amz-Signature' in urllib.parse.urlsplit(raw_path).query:
                raise AwsError('AccessDenied', 'Presigned requests are not supported by the simulation.', 403)
            raise AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403)
        akid, date, region, service, signed, signature = awsproto.parse_authorization(auth)
        if service not in awsproto.SERVICES:
            raise AwsError('SignatureDoesNotMatch',
                           "Credential should be scoped to correct service: '%s'. " % service, 403)
        ok_regions = {w.region} | ({'us-east-1'} if service in GLOBAL_SIGNING else set())
        if region not in ok_regions:
            raise _with_service(AwsError('SignatureDoesNotMatch', "Credential should be scoped to a valid region, "
                                         "not '%s'. " % region, 403), service)
        try:
            if 'host' not in signed:
                raise AwsError('IncompleteSignature', 'Host header must be signed (SignedHeaders=%s).'
                               % ';'.join(signed), 400)
            dt_req, amz_date = awsproto.request_time(self.headers)
            if amz_date[:8] != date:
                raise AwsError('SignatureDoesNotMatch', "Date in Credential scope does not match YYYYMMDD from "
                               "ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'."
                               % (date, amz_date[:8], amz_date), 403)
            cred = w.credentials.get(akid)
            if cred is None:
                if service == 'ec2':
                    raise AwsError('AuthFailure', 'AWS was not able to validate the provided access credentials',
                                   401)
                raise AwsError('InvalidClientTokenId', 'The security token included in the request is invalid.',
                               403)
            token = self.headers.get('X-Amz-Security-Token')
            if cred.get('session_token'):
                if token is None:
                    raise AwsError('InvalidClientTokenId' if service != 'ec2' else 'AuthFailure',
                                   'The security token included in the request is invalid.', 403)
                if token != cred['session_token']:
                    raise AwsError('InvalidClientTokenId' if service != 'ec2' else 'AuthFailure',
                                   'The security token included in the request is invalid.', 403)
                if 'x-amz-security-token' not in signed and service != 'ec2':
                    # AWS accepts an unsigned token header for some services; the SDKs always sign it.
                    pass
            elif token is not None:
                raise AwsError('InvalidClientTokenId', 'The security token included in the request is invalid.',
                               403)
            sha = self.headers.get('X-Amz-Content-SHA256')
            if sha and sha not in ('UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') and \
                    sha != awsproto.body_sha256(body):
                raise AwsError('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not "
                               'match what was computed.', 400)
            host = self.headers.get('Host', '')
            expected, creq = awsproto.expected_signature(cred['secret_key'], token, service, region, self.command,
                                                         host, raw_path, self.headers, signed, body, amz_date)
            if expected != signature:
                if self.server.logfile:
                    # The session token is a credential: keep it out of the log.
                    shown = re.sub(r'(?m)^(x-amz-security-token:).*$', r'\1<redacted>', creq)
                    self.server.logfile.write('signature mismatch; canonical request we computed:\n%s\n' % shown)
                raise AwsError('SignatureDoesNotMatch', 'The request signature we calculated does not match the '
                               'signature you provided. Check your AWS Secret Access Key and signing method. '
                               'Consult the service documentation for details.', 403)
            if cred.get('expired') or cred.get('expires', float('inf')) <= time.time():
                raise AwsError('ExpiredToken', 'The security token included in the request is expired', 403)
            now = time.time() + sim.clock_skew
            skew = dt_req.timestamp() - now
            if abs(skew) > MAX_SKEW:
                fmt = '%Y%m%dT%H%M%SZ'
                srv = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
                lo = datetime.datetime.fromtimestamp(now - MAX_SKEW, datetime.timezone.utc)
                hi = datetime.datetime.fromtimestamp(now + MAX_SKEW, datetime.timezone.utc)
                if service == 'ec2':
                    raise AwsError('RequestExpired', 'Request has expired.', 400)
                raise AwsError('RequestTimeTooSkewed',
                               'Signature not yet current: %s is still later than %s (%s + 5 min.)'
                               % (amz_date, hi.strftime(fmt), srv.strftime(fmt)) if skew > 0 else
                               'Signature expired: %s is now earlier than %s (%s - 5 min.)'
                               % (amz_date, lo.strftime(fmt), srv.strftime(fmt)), 403)
        except AwsError as e:
            raise _with_service(e, service)
        return service, cred

    # ------------------------------------------------------- STS roles
    def op_sts_AssumeRole(self, p, ctx):
        """AssumeRole as IAM answers it: the role must exist and trust the
        caller (its ARN, or its account's root), the external id must match,
        the duration must fit the role (1 h when chaining roles). The
        temporary credentials it returns are registered in the world, so
        later calls signed with them pass and GetCallerIdentity names the
        assumed role."""
        sim, w, caller = self.sim, self.sim.world, ctx['credential']
        arn = p['RoleArn']
        role = sim.roles.get(arn)
        root = 'arn:aws:iam::%s:root' % caller['account']
        # A role trusted by ARN lets in every session of that role.
        m = re.fullmatch(r'arn:aws:sts::(\d+):assumed-role/([^/]+)/.*', caller['arn'])
        principal = 'arn:aws:iam::%s:role/%s' % m.groups() if m else caller['arn']
        denied = AwsError('AccessDenied', 'User: %s is not authorized to perform: sts:AssumeRole on resource: %s'
                          % (caller['arn'], arn), 403)
        if role is None or not (principal in role['trust'] or root in role['trust'] or '*' in role['trust']):
            raise denied
        if role.get('external_id') is not None and p.get('ExternalId') != role['external_id']:
            raise denied
        duration = int(p.get('DurationSeconds', 3600))
        chained = ':assumed-role/' in caller['arn']
        if chained and duration > 3600:
            raise AwsError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit '
                           'for roles assumed by role chaining.', 400)
        if duration > role['max_session_duration']:
            raise AwsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set '
                           'for this role.', 400)
        session = p['RoleSessionName']
        if not re.fullmatch(r'[\w+=,.@-]{2,64}', session):
            raise AwsError('ValidationError', "1 validation error detected: Value '%s' at 'roleSessionName' failed "
                           "to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
                           % session, 400)
        now = time.time()
        lifetime = float(role.get('credential_lifetime', duration))
        akid = 'ASIA' + uuid.uuid4().hex[:16].upper()
        cred = w.add_credential({
            'access_key': akid, 'secret_key': uuid.uuid4().hex + uuid.uuid4().hex[:8],
            'session_token': 'FwoGZXIvYXdzE' + uuid.uuid4().hex * 3, 'account': role['account'],
            'arn': 'arn:aws:sts::%s:assumed-role/%s/%s' % (role['account'], role['name'], session),
            'user_id': '%s:%s' % (role['role_id'], session), 'expires': now + min(lifetime, duration),
            'assumed_by': caller['arn']})
        exp = datetime.datetime.fromtimestamp(now + min(lifetime, duration), datetime.timezone.utc)
        return {'Credentials': {'AccessKeyId': akid, 'SecretAccessKey': cred['secret_key'],
                                'SessionToken': cred['session_token'], 'Expiration': exp},
                'AssumedRoleUser': {'AssumedRoleId': cred['user_id'], 'Arn': cred['arn']}}

    def _hang_up(self):
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True

    def _fault(self, fault, service, proto, rid):
        """Apply an injected fault; True if it answered (or dropped) the call."""
        kind = fault['kind']
        if kind == 'latency':
            time.sleep(float(fault.get('seconds', 1.0)))
            return False
        if kind == 'drop':
            self._hang_up()
            return True
        if kind in ('truncate', 'garbage'):
            # A 200 whose body is cut short (the connection closes early) or
            # is not the protocol's format at all: clients must fail cleanly.
            body = b'<?xml version="1.0" encoding="UTF-8"?>\n<' if kind == 'truncate' else \
                b'<html><body>502 Bad Gateway: upstream sent garbage</body></html>\n\x00\xff'
            self.send_response(200)
            self.send_header('Content-Type', 'text/xml' if kind == 'truncate' else 'text/html')
            self.send_header('Content-Length', str(len(body) * (40 if kind == 'truncate' else 1)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            if kind == 'truncate':
                self._hang_up()
            return True
        if kind == 'throttle':
            code, st, msg = awsproto.THROTTLE[proto]
            if fault.get('code'):
                code = fault['code']
            err = AwsError(code, msg, fault.get('status', st))
        elif kind == '5xx':
            st = int(fault.get('status', 500))
            code = fault.get('code') or awsproto.SERVER_ERROR[proto].get(st, 'InternalFailure')
            err = AwsError(code, fault.get('message', 'We encountered an internal error. Please try again.'), st,
                           sender=False)
        elif kind == 'error':
            err = AwsError(fault['code'], fault.get('message', fault['code']), int(fault.get('status', 400)))
        else:
            raise ValueError('unknown fault kind %s' % kind)
        st, headers, out = awsproto.serialize_error(service, err, rid)
        self._send(st, headers, out)
        return True

    # ------------------------------------------------------------- admin
    def _admin(self, body):
        sim = self.sim
        w = sim.world
        split = urllib.parse.urlsplit(self.path)
        path = split.path.rstrip('/')
        q = dict(urllib.parse.parse_qsl(split.query))
        req = json.loads(body) if body.strip() else {}
        m = self.command
        if path == '/_sim/container-credentials' and m == 'GET':
            # AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN.
            if self.headers.get('Authorization') != w.options['container_authorization_token']:
                return self._json(401, {'code': 'AccessDenied', 'message': 'bad or missing Authorization'})
            d = self._issued(w.options['container_credential'])
            d['RoleArn'] = w.credentials[w.options['container_credential']]['arn']
            return self._json(200, d)
        if path == '/_sim/health':
            return self._json(200, {'ok': True, 'now': w.now()})
        if path == '/_sim/state' and m == 'GET':
            return self._json(200, w.dump())
        if path == '/_sim/reset' and m == 'POST':
            spec = req.get('world')
            if spec is None:
                with open(req.get('path', sim.world_path)) as f:
                    spec = json.load(f)
            with w.lock:
                w.offset = 0.0
                w.load(spec)
            with sim.lock:
                sim.load_roles(sim.world_spec_roles(None, spec))
                sim.sso_tokens.clear()
                sim.set_policies(spec.get('policies', []))
                sim.faults.clear()
                sim.calls.clear()
                sim.clock_skew = 0.0
            return self._json(200, {'ok': True})
        if path == '/_sim/time':
            if m == 'POST':
                with w.lock:
                    if 'profile' in req:
                        w.set_profile(req['profile'], req.get('scale', 1.0))
                    if 'durations' in req:
                        unknown = set(req['durations']) - set(w.durations)
                        if unknown:
                            raise ValueError('unknown durations %s (known: %s)' % (sorted(unknown),
                                                                                    sorted(w.durations)))
                        w.durations.update({k: float(v) for k, v in req['durations'].items()})
                    if 'advance' in req:
                        w.advance(float(req['advance']))
                    if 'clock_skew' in req:
                        sim.clock_skew = float(req['clock_skew'])
            return self._json(200, {'now': w.now(), 'offset': w.offset, 'durations': w.durations,
                                    'profile': w.profile, 'scale': w.scale,
                                    'clock_skew': sim.clock_skew})
        if path == '/_sim/faults':
            with sim.lock:
                _edit_queue(m, req, sim.faults, ('throttle', '5xx', 'drop', 'latency', 'error', 'truncate', 'garbage',
                                                 'ratelimit'),
                            'fault')
                return self._json(200, {'faults': sim.faults})
        if path == '/_sim/credentials' and m == 'POST':
            with w.lock:
                if 'add' in req:
                    w.add_credential(req['add'])
                if 'access_key' in req:
                    c = w.credentials[req['access_key']]
                    if 'expired' in req:
                        c['expired'] = bool(req['expired'])
                    if 'secret_key' in req:
                        c['secret_key'] = req['secret_key']
            return self._json(200, {'ok': True})
        if path == '/_sim/roles':
            with sim.lock:
                if m == 'POST':
                    for r in (req['add'] if isinstance(req.get('add'), list) else [req['add']]):
                        sim.add_role(r)
                return self._json(200, {'roles': list(sim.roles.values())})
        if path == '/_sim/policy':
            # POST {"document": {...}, "principal": ARN} (or a list) replaces the
            # attached policies; DELETE removes them all (everyone may do anything).
            if m == 'POST':
                sim.set_policies(req if isinstance(req, list) else [req])
            elif m == 'DELETE':
                sim.set_policies([])
            with sim.lock:
                return self._json(200, {'policies': sim.policies})
        if path == '/_sim/sso' and m == 'POST':
            # {"token": T, "roles": [[ACCOUNT, ROLE], ...], "user": U, "expires_in": S}
            with sim.lock:
                g = {'roles': req['roles'], 'user': req.get('user', 'operator')}
                if 'expires_in' in req:
                    g['expires'] = time.time() + float(req['expires_in'])
                sim.sso_tokens[req['token']] = g
            return self._json(200, {'ok': True})
        if path == '/_sim/outcomes':
            with w.lock:
                _edit_queue(m, req, w.outcomes, ('env_update', 'env_launch', 'snapshot', 'restore', 'replica'), 'outcome')
                return self._json(200, {'outcomes': w.outcomes})
        if path == '/_sim/options' and m == 'POST':
            with w.lock:
                unknown = set(req) - set(w.options)
                if unknown:
                    raise ValueError('unknown options %s (known: %s)' % (sorted(unknown), sorted(w.options)))
                w.options.update(req)
                return self._json(200, {'options': w.options})
        if path == '/_sim/ssm-tls' and m == 'POST':
            # {"cert": PEM, "key": PEM, "name": "localhost"}: the data channel
            # also listens with TLS; answers {"url": "wss://NAME:PORT"}, which
            # option ssm_stream_url can then hand out in StartSession.
            if w.ssm_channel is None:
                raise ValueError('no Session Manager data channel runs (python3-websockets missing)')
            url = w.ssm_channel.serve_tls(req['cert'], req['key'], req.get('name', 'localhost'))
            return self._json(200, {'url': url})
        if path == '/_sim/set' and m == 'POST':
            w.admin_set(req)
            return self._json(200, {'ok': True})
        if path == '/_sim/calls':
            with sim.lock:
                if m == 'DELETE':
                    sim.calls.clear()
                calls = [c for c in sim.calls if q.get('service') in (None, c['service']) and
                         q.get('operation') in (None, c['operation'])]
            return self._json(200, {'count': len(calls), 'calls': calls})
        if path == '/_sim/env-file' and m == 'GET':
            with w.lock:
                w.tick()
                text = w.env_file(q.get('instance'))
            return self._send(200, {'Content-Type': 'text/plain'}, text.encode())
        if path == '/_sim/ssh-keys' and m == 'GET':
            with w.lock:
                keys = w.valid_ssh_keys(q.get('instance'), q.get('user'))
            if q.get('format') == 'json':
                return self._json(200, {'keys': keys})
            text = ''.join(k['key'] + '\n' for k in keys)
            return self._send(200, {'Content-Type': 'text/plain'}, text.encode())
        raise ValueError('no admin endpoint %s %s (see tests/fakeaws/README.md)' % (m, path))


def _edit_queue(method, req, queue, kinds, what):
    """POST appends one entry or a list of them (each with a known 'kind'),
    DELETE empties the queue, GET leaves it."""
    if method == 'POST':
        for item in req if isinstance(req, list) else [req]:
            if item.get('kind') not in kinds:
                raise ValueError('%s kind must be one of %s' % (what, ', '.join(kinds)))
            item.setdefault('count', 1)
            queue.append(item)
    elif method == 'DELETE':
        queue.clear()


def _with_service(err, service):
    err.service = service
    return err


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    logfile = None

    def handle_error(self, request, client_address):
        if self.logfile:
            import traceback
            self.logfile.write(traceback.format_exc())


def load_hooks(path):
    if not path:
        return Hooks()
    spec = importlib.util.spec_from_file_location('fakeaws_hooks', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return Hooks(mod)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--world', default=os.path.join(here, 'default_world.json'))
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--https-port', type=int)
    ap.add_argument('--cert')
    ap.add_argument('--key')
    ap.add_argument('--hooks')
    ap.add_argument('--port-file', help='write {"port": N, "https_port": M} here once listening')
    ap.add_argument('--log')
    args = ap.parse_args()

    try:
        sim = Sim(args.world, load_hooks(args.hooks))
    except (OSError, ValueError, KeyError) as e:
        sys.exit('fakeaws: cannot load the world %s (hooks %s): %s: %s; fix the file and start again.'
                 % (args.world, args.hooks, type(e).__name__, e))
    Handler.sim = sim
    logfile = open(args.log, 'a') if args.log else None
    try:
        # The Session Manager data channel (StartSession's StreamUrl); without
        # python3-websockets StartSession answers InternalServerError.
        import ssmchannel
        sim.world.ssm_channel = ssmchannel.DataChannelServer(lambda: sim.world, args.host, logfile)
    except ImportError as e:
        print('fakeaws: no Session Manager data channel (%s); install python3-websockets.' % e, file=sys.stderr)
    servers = []
    httpd = Server((args.host, args.port), Handler)
    httpd.logfile = logfile
    servers.append(httpd)
    ports = {'port': httpd.server_address[1]}
    if args.https_port is not None:
        httpsd = Server((args.host, args.https_port), Handler)
        httpsd.logfile = logfile
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        # Handshake in the handler thread, so a silent client cannot stall accept().
        httpsd.socket = ctx.wrap_socket(httpsd.socket, server_side=True, do_handshake_on_connect=False)
        servers.append(httpsd)
        ports['https_port'] = httpsd.server_address[1]

    def ticker():
        # Transitions also happen with nobody asking, so hooks (env files,
        # databases) follow the world's clock rather than the client's polling.
        while True:
            time.sleep(0.1)
            try:
                sim.world.tick()
            except Exception:
                import traceback
                traceback.print_exc()
    threading.Thread(target=ticker, daemon=True).start()
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    if args.port_file:
        tmp = args.port_file + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(ports, f)
        os.rename(tmp, args.port_file)
    print('fakeaws listening: %s' % json.dumps(ports), flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
