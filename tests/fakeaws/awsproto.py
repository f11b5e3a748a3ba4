"""Wire formats of the simulated AWS: SigV4 verification, request parsing and
validation against the botocore model, and response/error serialisation for
the query, ec2, rest-xml and json protocols.

Everything shape-related is driven by botocore's own service models so that
what the server accepts and emits is what the AWS SDKs expect, not what we
remember of them.
"""
import sys

# botocore imports the AWS CRT when it is installed (awscli pulls it in);
# the simulation never uses it and it costs half a second of startup.
# Likewise urllib3's pyOpenSSL shim (botocore falls back to the ssl module).
sys.modules.setdefault('awscrt', None)
sys.modules.setdefault('urllib3.contrib.pyopenssl', None)

import base64  # noqa: E402
import datetime
import email.utils  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import urllib.parse  # noqa: E402
import xml.etree.ElementTree as ET  # noqa: E402

from botocore.auth import SigV4Auth, EMPTY_SHA256_HASH
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.loaders import Loader
from botocore.model import ServiceModel

# signing name (credential scope service) -> API version we serve
SERVICES = {
    'elasticbeanstalk': '2010-12-01',
    'rds': '2014-10-31',
    'route53': '2013-04-01',
    'ec2': '2016-11-15',
    'sts': '2011-06-15',
    'ec2-instance-connect': '2018-04-02',
    'ssm': '2014-11-06',
}
# The operations the simulation implements; anything else in the model is
# answered as AWS answers an operation this account may not call.
OPERATIONS = {
    'elasticbeanstalk': ['DescribeEnvironments', 'DescribeEnvironmentResources',
                         'DescribeConfigurationSettings', 'UpdateEnvironment',
                         'CreateConfigurationTemplate', 'DeleteConfigurationTemplate',
                         'CreateEnvironment',
                         'TerminateEnvironment', 'DescribeEvents'],
    'rds': ['CreateDBSnapshot', 'DescribeDBSnapshots', 'RestoreDBInstanceFromDBSnapshot',
            'DescribeDBInstances', 'DeleteDBInstance', 'CreateDBInstanceReadReplica', 'PromoteReadReplica'],
    'route53': ['ListHostedZonesByName', 'ListResourceRecordSets',
                'ChangeResourceRecordSets', 'GetChange'],
    'ec2': ['DescribeInstances', 'DescribeSecurityGroups',
            'AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress'],
    'sts': ['GetCallerIdentity', 'AssumeRole'],
    'ec2-instance-connect': ['SendSSHPublicKey'],
    'ssm': ['StartSession', 'TerminateSession', 'DescribeInstanceInformation'],
}
ROUTE53_NS = 'https://route53.amazonaws.com/doc/2013-04-01/'

# Services answered without SigV4: the SSO portal takes the `aws sso login`
# bearer token instead (GetRoleCredentials, authtype none).
UNSIGNED_SERVICES = {'sso': '2019-06-10'}

_models = {}


def model(service):
    """The botocore ServiceModel of a service (loaded once, on first use,
    so the server starts fast)."""
    m = _models.get(service)
    if m is None:
        data = Loader().load_service_model(service, 'service-2', SERVICES.get(service) or UNSIGNED_SERVICES[service])
        m = ServiceModel(data, service_name=service)
        _models[service] = m
    return m


class AwsError(Exception):
    """An error answered to the client in the protocol's own error shape."""

    def __init__(self, code, message, status=400, sender=True, messages=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender
        self.messages = messages  # Route 53 legacy InvalidChangeBatch form


def lower_camel(name):
    return name[:1].lower() + name[1:]


# --------------------------------------------------------------- SigV4

class _VerifySigV4(SigV4Auth):
    """botocore's signer, restricted to exactly the headers the client says
    it signed and hashing the body we actually received."""

    def __init__(self, credentials, service, region, signed):
        super().__init__(credentials, service, region)
        self._signed = signed

    def _canonical_query_string_url(self, parts):
        # AWS decodes the query it received and encodes it again, so '*' sent
        # raw or as %2A signs the same; botocore would use the raw text.
        pairs = []
        for pair in parts.query.split('&') if parts.query else []:
            k, _, v = pair.partition('=')
            pairs.append((urllib.parse.quote(urllib.parse.unquote(k), safe='-_.~'),
                          urllib.parse.quote(urllib.parse.unquote(v), safe='-_.~')))
        return '&'.join('%s=%s' % kv for kv in sorted(pairs))

    def headers_to_sign(self, request):
        from botocore.awsrequest import HTTPHeaders
        hm = HTTPHeaders()
        for name in self._signed:
            for v in request.headers.get_all(name) if hasattr(request.headers, 'get_all') else [request.headers.get(name)]:
                if v is not None:
                    hm[name] = v
        return hm


AUTH_RE = re.compile(r'^AWS4-HMAC-SHA256\s+(.*)$', re.S)


def parse_authorization(value):
    """Split an Authorization header into (access_key, date, region, service,
    signed_headers, signature) or raise IncompleteSignature as AWS does."""
    m = AUTH_RE.match(value or '')
    if not m:
        raise AwsError('IncompleteSignature',
                       "Authorization header requires 'Credential' parameter. Authorization header "
                       "requires 'Signature' parameter. Authorization header requires "
                       "'SignedHeaders' parameter. Authorization=%s" % (value or '').split(' ')[0], 400)
    parts = {}
    for item in m.group(1).split(','):
        k, _, v = item.strip().partition('=')
        parts[k.strip()] = v.strip()
    for need in ('Credential', 'SignedHeaders', 'Signature'):
        if not parts.get(need):
            raise AwsError('IncompleteSignature',
                           "Authorization header requires '%s' parameter." % need, 400)
    scope = parts['Credential'].split('/')
    if len(scope) != 5 or scope[4] != 'aws4_request':
        raise AwsError('IncompleteSignature',
                       "Credential should be scoped to a valid region, not '%s'. " % (scope[2] if len(scope) > 2 else '')
                       if len(scope) == 5 else
                       "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'."
                       % (scope[-1] if scope else ''), 400)
    return (scope[0], scope[1], scope[2], scope[3],
            [h for h in parts['SignedHeaders'].split(';') if h], parts['Signature'])


def request_time(headers):
    """The request's signing time (datetime, UTC) and its X-Amz-Date string."""
    amz = headers.get('X-Amz-Date')
    if amz:
        try:
            dt = datetime.datetime.strptime(amz, '%Y%m%dT%H%M%SZ').replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            raise AwsError('IncompleteSignature', "Date must be in ISO-8601 'basic format'. Got '%s'." % amz)
        return dt, amz
    d = headers.get('Date')
    if d:
        try:
            dt = email.utils.parsedate_to_datetime(d).astimezone(datetime.timezone.utc)
        except (TypeError, ValueError):
            raise AwsError('IncompleteSignature', "Date header is not in a valid format: '%s'." % d)
        return dt, dt.strftime('%Y%m%dT%H%M%SZ')
    raise AwsError('IncompleteSignature',
                   "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")


def expected_signature(secret, token, service, region, method, host, raw_path, headers, signed, body, amz_date):
    """Recompute the SigV4 signature of a received request with botocore."""
    req = AWSRequest(method=method, url='http://%s%s' % (host, raw_path), data=body)
    req.headers = type(req.headers)()
    for name in signed:
        vals = headers.get_all(name) if hasattr(headers, 'get_all') else None
        if vals is None:
            v = headers.get(name)
            vals = [] if v is None else [v]
        for v in vals:
            req.headers[name] = v
    req.context['timestamp'] = amz_date
    auth = _VerifySigV4(Credentials('x', secret, token), service, region, signed)
    creq = auth.canonical_request(req)
    sts = auth.string_to_sign(req, creq)
    return auth.signature(sts, req), creq


def body_sha256(body):
    return hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256_HASH


# --------------------------------------------------------- value helpers

def parse_timestamp(text):
    text = text.strip()
    try:
        return datetime.datetime.fromtimestamp(float(text), datetime.timezone.utc)
    except ValueError:
        pass
    t = text.replace('Z', '+00:00')
    try:
        dt = datetime.datetime.fromisoformat(t)
    except ValueError:
        raise ValueError(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt


def fmt_timestamp(dt):
    if isinstance(dt, (int, float)):
        dt = datetime.datetime.fromtimestamp(dt, datetime.timezone.utc)
    return dt.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.') + \
        '%03dZ' % (dt.microsecond // 1000)


def _scalar_from_text(shape, text, where):
    """Convert wire text to the shape's type; ValueError carries a message."""
    t = shape.type_name
    if t == 'string':
        return text
    if t in ('integer', 'long'):
        try:
            return int(text)
        except ValueError:
            raise ValueError("Invalid value '%s' for %s: not an integer." % (text, where))
    if t in ('float', 'double'):
        try:
            return float(text)
        except ValueError:
            raise ValueError("Invalid value '%s' for %s: not a number." % (text, where))
    if t == 'boolean':
        if text.lower() == 'true':
            return True
        if text.lower() == 'false':
            return False
        raise ValueError("Invalid value '%s' for %s: must be true or false." % (text, where))
    if t == 'timestamp':
        try:
            return parse_timestamp(text)
        except ValueError:
            raise ValueError("Invalid value '%s' for %s: not a timestamp." % (text, where))
    if t == 'blob':
        try:
            return base64.b64decode(text, validate=True)
        except ValueError:
            raise ValueError("Invalid value for %s: not base64." % where)
    return text


# -------------------------------------------------- query / ec2 requests

class QueryReader:
    """Turns form parameters into a dict shaped like the operation's input,
    following botocore's QuerySerializer / EC2Serializer naming rules in
    reverse, and remembers which keys it used so the rest are reported."""

    def __init__(self, params, ec2):
        self.params = params
        self.ec2 = ec2
        self.used = set()
        self.keys = list(params)

    def member_key(self, name, mshape):
        s = mshape.serialization
        if self.ec2:
            if 'queryName' in s:
                return s['queryName']
            if 'name' in s:
                return s['name'][0].upper() + s['name'][1:]
            return name
        return s.get('name', name)

    def present(self, prefix):
        return any(k == prefix or k.startswith(prefix + '.') for k in self.keys)

    def read(self, shape, key):
        t = shape.type_name
        if t == 'structure':
            if not self.present(key):
                return None
            return self.read_struct(shape, key)
        if t == 'list':
            return self.read_list(shape, key)
        if t == 'map':
            return self.read_map(shape, key)
        if key not in self.params:
            return None
        self.used.add(key)
        return _scalar_from_text(shape, self.params[key], key)

    def read_struct(self, shape, prefix):
        out = {}
        for mname, mshape in shape.members.items():
            k = self.member_key(mname, mshape)
            full = '%s.%s' % (prefix, k) if prefix else k
            v = self.read(mshape, full)
            if v is not None:
                out[mname] = v
        return out

    def _indexed(self, list_prefix):
        idx = set()
        pat = re.compile(re.escape(list_prefix) + r'\.(\d+)(\.|$)')
        for k in self.keys:
            m = pat.match(k)
            if m:
                idx.add(int(m.group(1)))
        return sorted(idx)

    def read_list(self, shape, key):
        if self.ec2:
            list_prefix = key
        elif shape.serialization.get('flattened'):
            list_prefix = key
            if shape.member.serialization.get('name'):
                list_prefix = '.'.join(key.split('.')[:-1] + [shape.member.serialization['name']])
        else:
            list_prefix = '%s.%s' % (key, shape.member.serialization.get('name', 'member'))
        if key in self.params and self.params[key] == '' and not self.ec2:
            self.used.add(key)
            return []
        idx = self._indexed(list_prefix)
        if not idx:
            return None
        if idx[0] < 1:
            raise ValueError('List index of %s must start at 1.' % list_prefix)
        out = []
        for i in idx:
            v = self.read(shape.member, '%s.%d' % (list_prefix, i))
            if v is None and shape.member.type_name == 'structure':
                v = {}
            out.append(v)
        return out

    def read_map(self, shape, key):
        entry = key if shape.serialization.get('flattened') else key + '.entry'
        kname = shape.key.serialization.get('name', 'key')
        vname = shape.value.serialization.get('name', 'value')
        idx = self._indexed(entry)
        if not idx:
            return None
        out = {}
        for i in idx:
            k = self.read(shape.key, '%s.%d.%s' % (entry, i, kname))
            out[k] = self.read(shape.value, '%s.%d.%s' % (entry, i, vname))
        return out


def parse_query_request(service, params):
    """(operation_model, input dict) from query/ec2 form parameters."""
    sm = model(service)
    ec2 = sm.protocol == 'ec2'
    action = params.get('Action')
    if not action:
        raise AwsError('MissingAction', 'Could not find operation for request: no Action parameter.', 400)
    version = params.get('Version')
    if not version:
        raise AwsError('MissingParameter', 'The request must contain the parameter Version.', 400)
    if version != sm.api_version:
        raise AwsError('NoSuchVersion', 'The requested version (%s) of service %s does not exist.'
                       % (version, service), 400)
    if action not in sm.operation_names:
        raise AwsError('InvalidAction', 'The action %s is not valid for this web service.' % action, 400)
    op = sm.operation_model(action)
    reader = QueryReader(params, ec2)
    try:
        data = reader.read_struct(op.input_shape, '') if op.input_shape else {}
    except ValueError as e:
        raise AwsError('InvalidParameterValue' if ec2 else 'ValidationError', str(e), 400)
    extra = [k for k in params if k not in reader.used and k not in ('Action', 'Version')]
    if extra:
        if ec2:
            raise AwsError('UnknownParameter', 'The parameter %s is not recognized' % extra[0], 400)
        raise AwsError('ValidationError', 'Unknown parameter %s: it is not a member of %s.'
                       % (extra[0], op.input_shape.name if op.input_shape else action), 400)
    return op, data


# ----------------------------------------------------- rest-xml requests

def _xml_local(tag):
    return tag.split('}', 1)[-1]


def xml_to_shape(el, shape, path):
    """A rest-xml request element converted to the shape's Python value;
    unknown elements raise AwsError(InvalidInput) as Route 53 does."""
    t = shape.type_name
    if t == 'structure':
        out = {}
        by_name = {}
        for mname, mshape in shape.members.items():
            if mshape.type_name == 'list' and mshape.serialization.get('flattened'):
                by_name[mshape.member.serialization.get('name', mname)] = (mname, mshape, True)
            else:
                by_name[mshape.serialization.get('name', mname)] = (mname, mshape, False)
        for child in el:
            tag = _xml_local(child.tag)
            if tag not in by_name:
                raise AwsError('InvalidInput', "Invalid XML ; cvc-complex-type.2.4.a: Invalid content "
                               "was found starting with element '%s' in %s." % (tag, path), 400)
            mname, mshape, flat = by_name[tag]
            if flat:
                out.setdefault(mname, []).append(xml_to_shape(child, mshape.member, path + '.' + tag))
            else:
                if mname in out:
                    raise AwsError('InvalidInput', "Invalid XML ; element '%s' appears twice in %s."
                                   % (tag, path), 400)
                out[mname] = xml_to_shape(child, mshape, path + '.' + tag)
        return out
    if t == 'list':
        mtag = shape.member.serialization.get('name', 'member')
        out = []
        for child in el:
            if _xml_local(child.tag) != mtag:
                raise AwsError('InvalidInput', "Invalid XML ; cvc-complex-type.2.4.a: Invalid content "
                               "was found starting with element '%s'. One of '{%s}' is expected."
                               % (_xml_local(child.tag), mtag), 400)
            out.append(xml_to_shape(child, shape.member, path + '.' + mtag))
        return out
    if len(el):
        raise AwsError('InvalidInput', 'Invalid XML ; element %s must hold text only.' % path, 400)
    try:
        return _scalar_from_text(shape, el.text or '', path)
    except ValueError as e:
        raise AwsError('InvalidInput', str(e), 400)


def _uri_template_regex(uri):
    path = uri.split('?', 1)[0]
    names = []
    rx = ''
    for part in re.split(r'(\{[^}]+\})', path):
        if part.startswith('{'):
            name = part[1:-1]
            greedy = name.endswith('+')
            name = name.rstrip('+')
            names.append(name)
            rx += '(?P<%s>%s)' % (name, '.+' if greedy else '[^/]+')
        else:
            rx += re.escape(part)
    return re.compile('^' + rx + '$'), names


def parse_restxml_request(service, method, raw_path, headers, body):
    """(operation_model, input dict) for a Route 53 request."""
    sm = model(service)
    split = urllib.parse.urlsplit(raw_path)
    path = split.path
    query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
    op = None
    for name in sm.operation_names:
        o = sm.operation_model(name)
        if o.http.get('method') != method:
            continue
        rx, _ = _uri_template_regex(o.http['requestUri'])
        m = rx.match(path)
        if not m and path.endswith('/'):
            m = rx.match(path[:-1])
        if not m and not path.endswith('/'):
            m = rx.match(path + '/')
        if m:
            op, pm = o, m
            break
    if op is None:
        raise AwsError('UnknownOperationException', 'No operation is defined at %s %s.' % (method, path), 404)
    data = {}
    shape = op.input_shape
    body_members = {}
    if shape is not None:
        for mname, mshape in shape.members.items():
            loc = mshape.serialization.get('location')
            lname = mshape.serialization.get('name', mname)
            if loc == 'uri':
                data[mname] = urllib.parse.unquote(pm.group(lname))
            elif loc == 'querystring':
                if lname in query:
                    try:
                        data[mname] = _scalar_from_text(mshape, query[lname][-1], lname)
                    except ValueError as e:
                        raise AwsError('InvalidInput', str(e), 400)
            elif loc == 'header':
                if headers.get(lname) is not None:
                    data[mname] = headers.get(lname)
            else:
                body_members[mname] = mshape
        known_q = {m.serialization.get('name', n) for n, m in shape.members.items()
                   if m.serialization.get('location') == 'querystring'}
        for q in query:
            if q not in known_q:
                raise AwsError('InvalidInput', 'Unknown query parameter %s.' % q, 400)
    if body_members:
        root_name = shape.serialization.get('name', shape.name)
        if not body:
            raise AwsError('InvalidInput', 'Invalid XML ; Premature end of file.', 400)
        try:
            root = ET.fromstring(body)
        except ET.ParseError as e:
            raise AwsError('MalformedXML', 'The XML you provided was not well-formed: %s' % e, 400)
        if _xml_local(root.tag) != root_name:
            raise AwsError('InvalidInput', "Invalid XML ; cvc-elt.1.a: Cannot find the declaration of "
                           "element '%s'." % _xml_local(root.tag), 400)
        ns = root.tag[1:].split('}', 1)[0] if root.tag.startswith('{') else ''
        if ns != ROUTE53_NS:
            raise AwsError('InvalidInput', "Invalid XML ; the root element must be in namespace %s, "
                           "not '%s'." % (ROUTE53_NS, ns), 400)
        parsed = xml_to_shape(root, shape, root_name)
        data.update(parsed)
    elif body and method == 'POST':
        raise AwsError('InvalidInput', 'This operation takes no request body.', 400)
    return op, data


# --------------------------------------------------------- json requests

def parse_json_request(service, headers, body):
    sm = model(service)
    target = headers.get('X-Amz-Target') or ''
    prefix, _, action = target.partition('.')
    if prefix != sm.metadata.get('targetPrefix') or action not in sm.operation_names:
        raise AwsError('UnknownOperationException', 'Unknown operation %s.' % target, 400)
    op = sm.operation_model(action)
    try:
        data = json.loads(body or b'{}')
    except ValueError:
        raise AwsError('SerializationException', 'Start of structure or map found where not expected.', 400)
    if not isinstance(data, dict):
        raise AwsError('SerializationException', 'The request body must be a JSON object.', 400)
    _json_types(op.input_shape, data, '')
    return op, data


def _json_types(shape, value, path):
    t = shape.type_name
    bad = False
    if t == 'structure':
        if not isinstance(value, dict):
            bad = True
        else:
            for k, v in value.items():
                if k not in shape.members:
                    raise AwsError('SerializationException', 'Unknown member %s%s.' % (path, k), 400)
                _json_types(shape.members[k], v, path + k + '.')
    elif t == 'list':
        bad = not isinstance(value, list)
        if not bad:
            for v in value:
                _json_types(shape.member, v, path)
    elif t == 'string':
        bad = not isinstance(value, str)
    elif t in ('integer', 'long'):
        bad = not isinstance(value, int) or isinstance(value, bool)
    elif t == 'boolean':
        bad = not isinstance(value, bool)
    if bad:
        raise AwsError('SerializationException', 'Value for %s is not a %s.' % (path.rstrip('.') or 'body', t), 400)


# ------------------------------------------------------------ validation

def validate(protocol, op, data):
    """Check required members and the model's constraints the way AWS's
    front end does; raise the protocol's validation error."""
    if op.input_shape is None:
        return
    errors = []
    _validate(op.input_shape, data, '', errors, protocol)
    if not errors:
        return
    kind, wire, msg = errors[0]
    if kind == 'missing' and protocol in ('query', 'ec2'):
        raise AwsError('MissingParameter', 'The request must contain the parameter %s' % wire, 400)
    code = {'query': 'ValidationError', 'ec2': 'InvalidParameterValue',
            'rest-xml': 'InvalidInput', 'json': 'ValidationException'}[protocol]
    msgs = [e[2] for e in errors]
    raise AwsError(code, '%d validation error%s detected: %s' % (
        len(msgs), '' if len(msgs) == 1 else 's', '; '.join(msgs)), 400)


def _validate(shape, value, path, errors, protocol):
    t = shape.type_name
    if t == 'structure':
        for req in shape.required_members:
            if value.get(req) is None:
                p = path + ('.' if path else '') + lower_camel(req)
                errors.append(('missing', req,
                               "Value null at '%s' failed to satisfy constraint: Member must not be null" % p))
        for k, v in value.items():
            _validate(shape.members[k], v, path + ('.' if path else '') + lower_camel(k), errors, protocol)
        return
    md = shape.metadata
    if t in ('list', 'string'):
        shown = ("'%s' " % value[:64]) if t == 'string' else ''
        if 'min' in md and len(value) < md['min']:
            errors.append(('range', path, "Value %sat '%s' failed to satisfy constraint: Member must "
                           "have length greater than or equal to %d" % (shown, path, md['min'])))
        if 'max' in md and len(value) > md['max']:
            errors.append(('range', path, "Value %sat '%s' failed to satisfy constraint: Member must "
                           "have length less than or equal to %d" % (shown, path, md['max'])))
    if t == 'list':
        for i, v in enumerate(value, 1):
            if v is not None:
                _validate(shape.member, v, '%s.%d.member' % (path, i), errors, protocol)
        return
    if t == 'string':
        enum = getattr(shape, 'enum', None)
        if enum and value not in enum:
            errors.append(('enum', path, "Value '%s' at '%s' failed to satisfy constraint: Member must "
                           "satisfy enum value set: [%s]" % (value, path, ', '.join(enum))))
        return
    if t in ('integer', 'long'):
        if 'min' in md and value < md['min']:
            errors.append(('range', path, "Value '%s' at '%s' failed to satisfy constraint: Member must "
                           "have value greater than or equal to %d" % (value, path, md['min'])))
        if 'max' in md and value > md['max']:
            errors.append(('range', path, "Value '%s' at '%s' failed to satisfy constraint: Member must "
                           "have value less than or equal to %d" % (value, path, md['max'])))


# --------------------------------------------------------- serialisation

def _xml_scalar(shape, value):
    t = shape.type_name
    if t == 'boolean':
        return 'true' if value else 'false'
    if t == 'timestamp':
        return fmt_timestamp(value)
    if t == 'blob':
        return base64.b64encode(value).decode()
    return str(value)


def shape_to_xml(parent, tag, shape, value):
    t = shape.type_name
    if t == 'structure':
        el = ET.SubElement(parent, tag)
        for mname, mshape in shape.members.items():
            v = value.get(mname)
            if v is None:
                continue
            if mshape.serialization.get('location') in ('header', 'headers', 'statusCode'):
                continue
            if mshape.serialization.get('xmlAttribute'):
                el.set(mshape.serialization.get('name', mname), _xml_scalar(mshape, v))
                continue
            if mshape.type_name == 'list' and mshape.serialization.get('flattened'):
                ctag = mshape.member.serialization.get('name', mshape.serialization.get('name', mname))
                for item in v:
                    shape_to_xml(el, ctag, mshape.member, item)
                continue
            shape_to_xml(el, mshape.serialization.get('name', mname), mshape, v)
        return el
    if t == 'list':
        el = ET.SubElement(parent, tag)
        mtag = shape.member.serialization.get('name', 'member')
        for item in value:
            shape_to_xml(el, mtag, shape.member, item)
        return el
    if t == 'map':
        el = ET.SubElement(parent, tag)
        kname = shape.key.serialization.get('name', 'key')
        vname = shape.value.serialization.get('name', 'value')
        for k, v in value.items():
            e = ET.SubElement(el, 'entry')
            shape_to_xml(e, kname, shape.key, k)
            shape_to_xml(e, vname, shape.value, v)
        return el
    el = ET.SubElement(parent, tag)
    el.text = _xml_scalar(shape, value)
    return el


def _xml_bytes(root):
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding='utf-8')


def _fill(parent_el, shape, value):
    """Members of a structure appended to an existing element."""
    tmp = shape_to_xml(ET.Element('tmp'), 'x', shape, value)
    for child in list(tmp):
        parent_el.append(child)


def serialize_response(service, op, result, request_id):
    """(status, headers, body bytes) of a successful call."""
    sm = model(service)
    proto = sm.protocol
    out = op.output_shape
    if proto == 'json':
        body = json.dumps(_json_out(out, result or {})).encode() if out is not None else b'{}'
        return 200, {'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': request_id}, body
    ns = sm.metadata.get('xmlNamespace') or ROUTE53_NS
    if proto == 'ec2':
        ns = ns.rstrip('/') + '/'
        root = ET.Element(op.name + 'Response', xmlns=ns)
        ET.SubElement(root, 'requestId').text = request_id
        if out is not None:
            _fill(root, out, result or {})
        return 200, {'Content-Type': 'text/xml;charset=UTF-8'}, _xml_bytes(root)
    if proto == 'query':
        root = ET.Element(op.name + 'Response', xmlns=ns)
        if out is not None:
            wrapper = op.output_shape.serialization.get('resultWrapper') or op.metadata.get('resultWrapper') \
                or op._operation_model.get('output', {}).get('resultWrapper') or op.name + 'Result'
            res = ET.SubElement(root, wrapper)
            _fill(res, out, result or {})
        md = ET.SubElement(root, 'ResponseMetadata')
        ET.SubElement(md, 'RequestId').text = request_id
        return 200, {'Content-Type': 'text/xml', 'x-amzn-RequestId': request_id}, _xml_bytes(root)
    # rest-xml
    root = ET.Element(op.name + 'Response', xmlns=ROUTE53_NS)
    if out is not None:
        _fill(root, out, result or {})
    return 200, {'Content-Type': 'text/xml', 'x-amzn-RequestId': request_id}, _xml_bytes(root)


def _json_out(shape, value):
    t = shape.type_name
    if t == 'structure':
        return {k: _json_out(shape.members[k], v) for k, v in value.items() if v is not None}
    if t == 'list':
        return [_json_out(shape.member, v) for v in value]
    if t == 'timestamp':
        return value.timestamp() if hasattr(value, 'timestamp') else value
    return value


def serialize_error(service, err, request_id, legacy_change_batch=False):
    """(status, headers, body) of an error in the service's protocol."""
    proto = model(service).protocol if service else 'query'
    status = err.status
    if proto == 'json':
        body = json.dumps({'__type': err.code, 'Message': err.message}).encode()
        return status, {'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': request_id,
                        'x-amzn-ErrorType': err.code}, body
    if proto == 'ec2':
        root = ET.Element('Response')
        errs = ET.SubElement(ET.SubElement(root, 'Errors'), 'Error')
        ET.SubElement(errs, 'Code').text = err.code
        ET.SubElement(errs, 'Message').text = err.message
        ET.SubElement(root, 'RequestID').text = request_id
        return status, {'Content-Type': 'text/xml;charset=UTF-8'}, _xml_bytes(root)
    if proto == 'rest-xml' and err.code == 'InvalidChangeBatch' and err.messages and \
            (legacy_change_batch or len(err.messages) > 1):
        root = ET.Element('InvalidChangeBatch', xmlns=ROUTE53_NS)
        msgs = ET.SubElement(root, 'Messages')
        for m in err.messages:
            ET.SubElement(msgs, 'Message').text = m
        ET.SubElement(root, 'RequestId').text = request_id
        return status, {'Content-Type': 'text/xml', 'x-amzn-RequestId': request_id}, _xml_bytes(root)
    ns = ROUTE53_NS if proto == 'rest-xml' else (model(service).metadata.get('xmlNamespace') if service else None)
    root = ET.Element('ErrorResponse', xmlns=ns) if ns else ET.Element('ErrorResponse')
    e = ET.SubElement(root, 'Error')
    ET.SubElement(e, 'Type').text = 'Sender' if err.sender else 'Receiver'
    ET.SubElement(e, 'Code').text = err.code
    ET.SubElement(e, 'Message').text = err.message
    ET.SubElement(root, 'RequestId').text = request_id
    return status, {'Content-Type': 'text/xml', 'x-amzn-RequestId': request_id}, _xml_bytes(root)


THROTTLE = {  # protocol -> (code, http status, message)
    'query': ('Throttling', 400, 'Rate exceeded'),
    'ec2': ('RequestLimitExceeded', 503, 'Request limit exceeded.'),
    'rest-xml': ('Throttling', 400, 'Rate exceeded'),
    'json': ('ThrottlingException', 400, 'Rate exceeded'),
}
SERVER_ERROR = {  # protocol -> code for a 500 / 503
    'query': {500: 'InternalFailure', 503: 'ServiceUnavailable'},
    'ec2': {500: 'InternalError', 503: 'Unavailable'},
    'rest-xml': {500: 'InternalFailure', 503: 'ServiceUnavailable'},
    'json': {500: 'ServiceException', 503: 'ServiceUnavailableException'},
}


def service_from_request(headers, raw_path, params):
    """Best guess of the service of a request that carries no usable
    credential scope, so its error can still be answered in the right shape."""
    if headers.get('X-Amz-Target', '').startswith('AWSEC2InstanceConnectService'):
        return 'ec2-instance-connect'
    if raw_path.startswith('/2013-04-01/'):
        return 'route53'
    v = params.get('Version') if params else None
    for s, ver in SERVICES.items():
        if ver == v:
            return s
    return 'sts'
