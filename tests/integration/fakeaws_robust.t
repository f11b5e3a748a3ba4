#!/usr/bin/python3
# The simulated AWS never answers a client's mistake with a 5xx (its own bug):
# random mixes of the model's parameter names and awkward values, for every
# query and EC2 operation, get a 2xx or a 4xx in the protocol's shape.
import os
import random
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fakeaws'))
import awsproto  # noqa: E402
import testlib as T  # noqa: E402

t = T.Tap()
srv = T.Server(durations=T.FAST)
rng = random.Random(20261125)
VALUES = ['', 'x', '1', '-5', 'true', 'cobalt', 'cobalt-production-blue', 'production-blue', 'i-0b1e0000000000001',
          'sg-0eb1e5eb00000001a', 'aws:autoscaling:asg', 'MinSize', 'tcp', '10.0.0.1/32', '2026-01-01T00:00:00Z',
          'db-instance-id', 'tag:Name', 'production-blue-before-6-0', 'a' * 300, '%00', '\u00e9']


def wire_keys(shape, prefix, ec2, depth=0):
    """Every scalar parameter name the model allows (first list item only)."""
    reader = awsproto.QueryReader({}, ec2)
    if depth > 5:
        return []
    if shape.type_name == 'structure':
        return [k for name, m in shape.members.items()
                for k in wire_keys(m, (prefix + '.' if prefix else '') + reader.member_key(name, m), ec2, depth + 1)]
    if shape.type_name == 'list':
        lp = prefix if ec2 else prefix + '.' + shape.member.serialization.get('name', 'member')
        return wire_keys(shape.member, lp + '.1', ec2, depth + 1)
    return [prefix]


for service in ('elasticbeanstalk', 'rds', 'ec2', 'sts'):
    sm = awsproto.model(service)
    for op in awsproto.OPERATIONS[service]:
        om = sm.operation_model(op)
        keys = wire_keys(om.input_shape, '', sm.protocol == 'ec2') if om.input_shape else []
        bad = []
        for _ in range(40):
            params = {'Action': op, 'Version': sm.api_version}
            for k in rng.sample(keys, min(len(keys), rng.randint(0, 6))):
                params[k] = rng.choice(VALUES)
            status, _, body = T.raw(srv, service, urllib.parse.urlencode(params))
            code = T.error_code(body)[0] if status != 200 else None
            if status >= 500 or (status != 200 and not code):
                bad.append((params, status, body[:200]))
        t.ok(not bad, '%s %s: 40 random requests, no 5xx and every error has a code' % (service, op), bad[:2])


def random_change():
    """A plausible Route 53 change with random details (often invalid for the zone)."""
    rrset = {'Name': rng.choice(['myabf.com.au.', 'www.myabf.com.au', 'ses.myabf.com.au.', 'new.myabf.com.au.',
                                 'other.example.org.', 'WWW.MYABF.COM.AU.']),
             'Type': rng.choice(['A', 'CNAME', 'TXT', 'MX', 'NS'])}
    kind = rng.random()
    if kind < 0.5 or kind > 0.9:
        rrset['AliasTarget'] = {'HostedZoneId': rng.choice(['Z2PCDNR3VC2G1N', 'Z0FAKEMYABF00000001', 'ZNOPE']),
                                'DNSName': rng.choice(['cobalt-production-green.ap-southeast-2.elasticbeanstalk.com.',
                                                       'cobalt-production-blue.ap-southeast-2.elasticbeanstalk.com',
                                                       'myabf.com.au.', 'nowhere.example.']),
                                'EvaluateTargetHealth': rng.random() < 0.5}
    if kind >= 0.5:
        rrset['TTL'] = rng.choice([0, 60, 300])
        rrset['ResourceRecords'] = [{'Value': rng.choice(['1.2.3.4', '"txt"', '10 mx.example.', 'a.example.'])}
                                    for _ in range(rng.randint(0, 2))]
    return {'Action': rng.choice(['CREATE', 'DELETE', 'UPSERT']), 'ResourceRecordSet': rrset}


# Route 53: bodies serialised by botocore (without its client-side checks).
from botocore.serialize import create_serializer  # noqa: E402
ser = create_serializer('rest-xml', include_validation=False)
om = awsproto.model('route53').operation_model('ChangeResourceRecordSets')
bad = []
seen = set()
for _ in range(80):
    params = {'HostedZoneId': 'Z0FAKEMYABF00000001',
              'ChangeBatch': {'Changes': [random_change() for _ in range(rng.randint(1, 3))]}}
    req = ser.serialize_to_request(params, om)
    status, _, body = T.raw(srv, 'route53', req['body'], method='POST', path=req['url_path'], content_type=None)
    code = T.error_code(body)[0] if status != 200 else 'ok'
    seen.add(code)
    if status >= 500 or not code:
        bad.append((params, status, body[:200]))
t.ok(not bad and {'ok', 'InvalidInput', 'InvalidChangeBatch'} <= seen,
     'route53 ChangeResourceRecordSets: 80 random batches, no 5xx, every error has a code (%s)'
     % ', '.join(sorted(seen)), bad[:2])
srv.stop()
t.done()
