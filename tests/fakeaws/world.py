"""The simulated world: Elastic Beanstalk environments and their instances,
RDS instances and snapshots, Route 53 zones, EC2 security groups and
credentials, changing over (simulated) time.

Every public `op_<Service>_<Operation>` method takes the validated input dict
(botocore member names) and returns the output dict, or raises AwsError.
All state is guarded by one re-entrant lock; hooks run with it held.
"""
import base64
import copy
import datetime
import ipaddress
import json
import os
import random
import re
import threading
import time

from awsproto import AwsError

DEFAULT_DURATIONS = {
    'env_update': 3.0, 'env_launch': 5.0, 'env_terminate': 3.0,
    'snapshot': 4.0, 'db_create': 5.0, 'db_delete': 3.0, 'dns_change': 2.0,
    'replica_create': 5.0, 'replica_promote': 3.0,
}
# The realistic profile: what each transition takes on AWS, in real seconds.
# Every figure and its source is in README.md, "Timing profiles" (one table,
# kept in step with this one); the coordinator's plan uses the same figures
# (coordinator/runbook/window.c). Applied times a scale (POST /_sim/time
# {"profile": "aws", "scale": 0.05}) so that a whole cutover takes minutes.
AWS_DURATIONS = {
    'env_update': 120.0, 'env_launch': 450.0, 'env_terminate': 180.0,
    'snapshot': 120.0, 'db_create': 600.0, 'db_delete': 300.0, 'dns_change': 60.0,
    'replica_create': 900.0, 'replica_promote': 240.0,
}
PROFILES = {'fast': DEFAULT_DURATIONS, 'aws': AWS_DURATIONS}
ENV_NS = 'aws:elasticbeanstalk:application:environment'
ASG_NS = 'aws:autoscaling:asg'
ENVTYPE_NS = 'aws:elasticbeanstalk:environment'
# Options EB knows in the namespaces the cutover touches; None = free-form.
KNOWN_OPTIONS = {
    ENV_NS: None,
    ASG_NS: {'MinSize', 'MaxSize', 'Availability Zones', 'Cooldown', 'Custom Availability Zones',
             'EnableCapacityRebalancing'},
    ENVTYPE_NS: {'EnvironmentType', 'ServiceRole', 'LoadBalancerType', 'LoadBalancerIsShared'},
    'aws:autoscaling:launchconfiguration': {'EC2KeyName', 'InstanceType', 'IamInstanceProfile',
                                            'SecurityGroups', 'ImageId', 'RootVolumeSize',
                                            'SSHSourceRestriction', 'DisableIMDSv1', 'MonitoringInterval'},
    'aws:ec2:instances': {'InstanceTypes', 'EnableSpot', 'SupportedArchitectures'},
    'aws:ec2:vpc': {'VPCId', 'Subnets', 'ELBSubnets', 'AssociatePublicIpAddress', 'ELBScheme'},
    'aws:elasticbeanstalk:command': {'DeploymentPolicy', 'BatchSizeType', 'BatchSize', 'Timeout',
                                     'IgnoreHealthCheck'},
    'aws:elasticbeanstalk:healthreporting:system': {'SystemType', 'ConfigDocument'},
    'aws:elasticbeanstalk:container:python': {'WSGIPath', 'NumProcesses', 'NumThreads'},
    'aws:elasticbeanstalk:environment:proxy': {'ProxyServer'},
    'aws:elasticbeanstalk:application': {'Application Healthcheck URL'},
    'aws:elasticbeanstalk:cloudwatch:logs': {'StreamLogs', 'DeleteOnTerminate', 'RetentionInDays'},
}
SEVERITIES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']
DB_CLASSES = {'db.t3.micro', 'db.t3.small', 'db.t3.medium', 'db.t3.large', 'db.t4g.micro',
              'db.t4g.small', 'db.t4g.medium', 'db.m5.large', 'db.m6g.large', 'db.r5.large'}
RDS_ID_RE = re.compile(r'^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,254}(?<!-)$')
EB_NAME_RE = re.compile(r'^[A-Za-z0-9](?:[A-Za-z0-9-]{2,38})[A-Za-z0-9]$')
EB_ALIAS_ZONES = {
    'ap-southeast-2': 'Z2PCDNR3VC2G1N', 'us-east-1': 'Z117KPS5GTRQ2G', 'us-east-2': 'Z14LCN19Q5QHIC',
    'us-west-1': 'Z1LQECGX5PH1X', 'us-west-2': 'Z38NKT9BP95V3O', 'ap-southeast-1': 'Z16FZ9L249IFLT',
    'ap-northeast-1': 'Z1R25G3KIG2GBW', 'eu-west-1': 'Z2NYPWQ7DFZAZH', 'eu-west-2': 'Z1GKAAAUGATPF1',
    'eu-central-1': 'Z1FRNW7UH4DEZJ',
}


def dt(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc)


def fqdn(name):
    name = (name or '').strip().lower()
    return name if name.endswith('.') else name + '.'


def rev_key(name):
    return '.'.join(reversed(fqdn(name).rstrip('.').split('.')))


def bad_param(msg):
    return AwsError('InvalidParameterValue', msg, 400)


def _token(offset):
    return base64.b64encode(json.dumps({'o': offset}).encode()).decode()


def _untoken(tok):
    try:
        return int(json.loads(base64.b64decode(tok))['o'])
    except Exception:
        raise AwsError('InvalidParameterValue', 'Invalid NextToken/Marker: %s' % tok, 400)


def _next_token_page(items, p, key, limit):
    """One page of items for the EB/EC2 NextToken style of paging."""
    start = _untoken(p['NextToken']) if p.get('NextToken') else 0
    n = p.get(limit) or 1000
    res = {key: items[start:start + n]}
    if start + n < len(items):
        res['NextToken'] = _token(start + n)
    return res


class Hooks:
    """Optional functions of a user module (see README.md: Hooks)."""

    NAMES = ('setup', 'allocate_instance', 'instances_changed', 'env_vars_changed', 'version_deployed',
             'snapshot_created', 'db_restored', 'db_deleted', 'ssh_public_key', 'replica_created',
             'replica_promoted')

    def __init__(self, module=None):
        self.module = module

    def call(self, name, *args):
        fn = getattr(self.module, name, None) if self.module else None
        if fn is None:
            return None
        return fn(*args)


class World:
    def __init__(self, spec, hooks=None):
        self.lock = threading.RLock()
        self.hooks = hooks or Hooks()
        self.offset = 0.0          # simulated clock = wall clock + offset
        self.load(spec)

    # ------------------------------------------------------------ basics
    def now(self):
        return time.time() + self.offset

    def set_profile(self, name, scale=1.0):
        """Durations from a named profile times scale (0 < scale <= 1)."""
        if name not in PROFILES:
            raise ValueError('unknown profile %r (known: %s)' % (name, sorted(PROFILES)))
        scale = float(scale)
        if not 0 < scale <= 1:
            raise ValueError('scale must be > 0 and <= 1, not %r' % scale)
        self.durations = {k: v * scale for k, v in PROFILES[name].items()}
        self.profile, self.scale = name, scale

    def load(self, spec):
        with self.lock:
            self.spec = copy.deepcopy(spec)
            s = self.spec
            self.rng = random.Random(s.get('seed', 1))
            self.region = s.get('region', 'ap-southeast-2')
            self.account = s.get('account', '123456789012')
            self.durations = dict(DEFAULT_DURATIONS)
            self.profile, self.scale = 'fast', 1.0
            if 'profile' in s:
                self.set_profile(s['profile'], s.get('scale', 1.0))
            self.durations.update(s.get('durations', {}))
            self.options = {'rds_min_max_records': 20, 'rds_backing_up_during_snapshot': True,
                            'route53_legacy_errors': False, 'route53_max_items': 300,
                            'instance_connect_key_ttl': 60,
                            # SSM: ssh_closed reports every instance at an address in
                            # TEST-NET-2 (198.51.100.0/24, never routed), so only the
                            # Session Manager data channel reaches the instances' sshd.
                            'ssh_closed': False, 'ssm_chunk': 1024, 'ssm_window': 1000,
                            'ssm_stream_url': None,
                            'imds_role': 'cutover-instance-role',
                            'imds_credential': None, 'container_credential': None,
                            'container_authorization_token': 'fakeaws-container-token'}
            self.options.update(s.get('options', {}))
            self.outcomes = []
            self.credentials = {}
            for c in s.get('credentials', []):
                self.add_credential(c)
            # Credentials the IMDS / container endpoints hand out: by default the
            # first live session credential, else the first one.
            default_issue = next((k for k, c in self.credentials.items()
                                  if c.get('session_token') and not c.get('expired')), next(iter(self.credentials), None))
            for k in ('imds_credential', 'container_credential'):
                if self.options[k] is None:
                    self.options[k] = default_issue
            ec2 = s.get('ec2', {})
            self.pool = list(ec2.get('instance_pool', []))
            self.groups = {}
            for g in ec2.get('security_groups', []):
                self.groups[g['id']] = {'id': g['id'], 'name': g['name'], 'description': g.get('description', g['name']),
                                        'vpc': g.get('vpc_id', ec2.get('vpc_id', 'vpc-0c0ba17c0ba17c0ba')),
                                        'rules': [self._rule(r) for r in g.get('ingress', [])]}
            self.instances = {}
            for i in ec2.get('instances', []):
                self._add_instance(i, i.get('env'))
            eb = s.get('elasticbeanstalk', {})
            self.apps = {a['name']: {'name': a['name'], 'versions': list(a.get('versions', []))}
                         for a in eb.get('applications', [])}
            self.platform = eb.get('platform', '64bit Amazon Linux 2023 v4.0.6 running Python 3.11')
            self.platform_arn = eb.get('platform_arn', 'arn:aws:elasticbeanstalk:%s::platform/Python 3.11 running '
                                       'on 64bit Amazon Linux 2023/4.0.6' % self.region)
            self.templates = {}
            self.envs = []
            self.events = []
            for e in eb.get('environments', []):
                self._load_env(e)
            rds = s.get('rds', {})
            self.db_defaults = {'vpc_security_group': rds.get('default_vpc_security_group', 'sg-0defa017defa017d'),
                                'endpoint_suffix': rds.get('endpoint_suffix', 'c97jawiow7ed.%s.rds.amazonaws.com'
                                                           % self.region)}
            self.dbs = {}
            for d in rds.get('instances', []):
                self._load_db(d)
            self.snapshots = {}
            for sn in rds.get('snapshots', []):
                self._load_snapshot(sn)
            self.zones = {}
            self.changes = {}
            for z in s.get('route53', {}).get('zones', []):
                self._load_zone(z)
            self.ssh_keys = []
            self.ssm_sessions = {}     # SessionId -> session (ssm StartSession; tests/fakeaws/ssmchannel.py)
            self.ssm_channel = getattr(self, 'ssm_channel', None)   # the data-channel server (fakeaws.py)
            self.hooks.call('setup', self)

    def add_credential(self, spec):
        c = dict(spec)
        c.setdefault('account', self.account)
        c.setdefault('arn', 'arn:aws:iam::%s:user/%s' % (self.account, c.get('user', 'fake')))
        c.setdefault('user_id', 'AIDA' + c['access_key'][4:].upper())
        self.credentials[c['access_key']] = c
        return c

    def _id(self, prefix, n, alphabet='0123456789abcdef'):
        return prefix + ''.join(self.rng.choice(alphabet) for _ in range(n))

    def _add_instance(self, spec, env_name):
        iid = spec.get('id') or self._id('i-0', 16)
        inst = {
            'id': iid, 'env': env_name, 'private_ip': spec.get('private_ip'),
            'public_ip': spec.get('public_ip'), 'ssh_port': spec.get('ssh_port', 22),
            'az': spec.get('az', self.region + 'a'), 'groups': list(spec.get('groups', [])),
            'key_name': spec.get('key_name', 'cobalt'), 'type': spec.get('type', 't3.medium'),
            'state': spec.get('state', 'running'), 'launched': spec.get('launched', self.now() - 86400),
            'env_vars': dict(spec.get('env_vars', {})), 'extra': spec.get('extra', {}),
            # Systems Manager: the agent's PingStatus, or None when the instance
            # is not registered (no AmazonSSMManagedInstanceCore, no agent).
            'ssm_ping': spec.get('ssm_ping', 'Online'),
        }
        if not inst['private_ip']:
            inst['private_ip'] = '172.31.%d.%d' % (self.rng.randint(0, 255), self.rng.randint(4, 250))
        self.instances[iid] = inst
        return inst

    def _new_instance(self, env):
        spec = self.hooks.call('allocate_instance', self, env['name']) or \
            (self.pool.pop(0) if self.pool else {})
        spec = dict(spec)
        spec.setdefault('groups', list(env.get('instance_groups', [])))
        spec['launched'] = self.now()
        spec['env_vars'] = dict(env['options'].get(ENV_NS, {}))
        return self._add_instance(spec, env['name'])

    def _rule(self, r):
        return {'proto': str(r.get('proto', 'tcp')), 'from': r.get('from', -1), 'to': r.get('to', -1),
                'cidr': r.get('cidr'), 'group': r.get('group'), 'description': r.get('description'),
                'id': r.get('id') or self._id('sgr-0', 16)}

    def _load_env(self, e):
        name = e['name']
        env = {
            'name': name, 'id': e.get('id') or self._id('e-', 10, 'abcdefghijklmnopqrstuvwxyz0123456789'),
            'app': e.get('application', next(iter(self.apps), 'cobalt')),
            'version': e.get('version'), 'status': e.get('status', 'Ready'),
            'health': e.get('health', 'Green'), 'cname': e.get('cname') or
            '%s.%s.elasticbeanstalk.com' % (e.get('cname_prefix', name), self.region),
            'created': e.get('created', self.now() - 30 * 86400), 'updated': self.now() - 86400,
            'tier': e.get('tier', 'WebServer'), 'description': e.get('description'),
            'options': {ns: dict(v) for ns, v in e.get('options', {}).items()},
            'pending': None, 'instance_groups': e.get('instance_groups', []), 'terminated_at': None,
            'template': None,
        }
        # A simulation with real load balancers (tests/sim/hooks.py) hands out their addresses
        # (for a single-instance environment: where its Elastic IP would answer).
        env['endpoint'] = e.get('endpoint_url') or self.hooks.call('allocate_endpoint', self, name)
        if not env['endpoint']:
            env['endpoint'] = 'awseb-%s-AWSEBLoa-%s-%d.%s.elb.amazonaws.com' % (
                env['id'], self._id('', 12, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
                self.rng.randint(10 ** 8, 10 ** 9), self.region)
            if env['options'].get(ENVTYPE_NS, {}).get('EnvironmentType') == 'SingleInstance':
                env['endpoint'] = '13.%d.%d.%d' % tuple(self.rng.randint(1, 250) for _ in range(3))
        self.envs.append(env)
        for iid in e.get('instances', []):
            if iid not in self.instances:
                raise ValueError('world file: environment %s lists instance %s, which is not in ec2.instances'
                                 % (name, iid))
            if iid in self.instances:
                self.instances[iid]['env'] = name
                if not self.instances[iid]['env_vars']:
                    self.instances[iid]['env_vars'] = dict(env['options'].get(ENV_NS, {}))
        return env

    def _load_db(self, d):
        ident = d['id']
        db = {
            'id': ident, 'class': d.get('class', 'db.t3.medium'), 'engine': d.get('engine', 'postgres'),
            'engine_version': d.get('engine_version', '15.4'), 'status': d.get('status', 'available'),
            'db_name': d.get('db_name', 'ebdb'), 'master_username': d.get('master_username', 'postgres'),
            'address': d.get('address') or '%s.%s' % (ident, self.db_defaults['endpoint_suffix']),
            'port': d.get('port', 5432), 'storage': d.get('allocated_storage', 20),
            'vpc_security_groups': d.get('vpc_security_groups', [self.db_defaults['vpc_security_group']]),
            'subnet_group': d.get('subnet_group', 'default'), 'multi_az': d.get('multi_az', False),
            'public': d.get('publicly_accessible', False), 'az': d.get('az', self.region + 'b'),
            'created': d.get('created', self.now() - 365 * 86400), 'until': None, 'next': None,
            'resource_id': 'db-' + self._id('', 26, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'),
            'parameter_group': d.get('parameter_group', 'default.postgres15'), 'tags': d.get('tags', []),
            'restored_from': d.get('restored_from'), 'extra': d.get('extra', {}),
            # Automated backups: AWS creates a read replica only from a source
            # that keeps them (BackupRetentionPeriod > 0).
            'backup_retention': d.get('backup_retention', 7),
            'replica_source': d.get('replica_source'), 'promoting': False,
        }
        self.dbs[ident] = db
        return db

    def _load_snapshot(self, sn):
        src = self.dbs.get(sn.get('db_instance'), {})
        snap = {
            'id': sn['id'], 'db': sn.get('db_instance'), 'status': sn.get('status', 'available'),
            'created': sn.get('created', self.now() - 7 * 86400), 'start': None, 'until': None,
            'engine': src.get('engine', 'postgres'), 'engine_version': src.get('engine_version', '15.4'),
            'storage': src.get('storage', 20), 'port': src.get('port', 5432), 'az': src.get('az', self.region + 'b'),
            'master_username': src.get('master_username', 'postgres'), 'db_name': src.get('db_name', 'ebdb'),
            'class': src.get('class', 'db.t3.medium'), 'instance_created': src.get('created', self.now()),
            'type': sn.get('type', 'manual'), 'resource_id': src.get('resource_id', ''),
            'vpc_security_groups': src.get('vpc_security_groups', []), 'subnet_group': src.get('subnet_group'),
        }
        self.snapshots[snap['id']] = snap
        return snap

    def _load_zone(self, z):
        zone = {'id': z['id'], 'name': fqdn(z['name']), 'comment': z.get('comment'),
                'caller_reference': z.get('caller_reference', 'cutover-%s' % z['id']),
                'private': z.get('private', False), 'records': {}}
        if not any(r['type'] == 'NS' for r in z.get('records', [])):
            self._put_record(zone, {'Name': zone['name'], 'Type': 'NS', 'TTL': 172800, 'ResourceRecords': [
                {'Value': 'ns-%d.awsdns-%02d.%s' % (self.rng.randint(100, 2000), i, tld)}
                for i, tld in enumerate(['com.', 'net.', 'org.', 'co.uk.'])]})
            self._put_record(zone, {'Name': zone['name'], 'Type': 'SOA', 'TTL': 900, 'ResourceRecords': [
                {'Value': 'ns-1.awsdns-00.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400'}]})
        for r in z.get('records', []):
            self._put_record(zone, self._record_from_spec(r))
        self.zones[zone['id']] = zone

    def _record_from_spec(self, r):
        rec = {'Name': fqdn(r['name']), 'Type': r['type']}
        if 'set_identifier' in r:
            rec['SetIdentifier'] = r['set_identifier']
            rec['Weight'] = r.get('weight', 100)
        env_name = r.get('alias_env') or r.get('env')
        target = None
        if env_name:
            env = self.env(env_name)
            target = fqdn(env['cname'])
        if r.get('alias_env') or r.get('alias'):
            rec['AliasTarget'] = {'HostedZoneId': r.get('alias_zone', EB_ALIAS_ZONES.get(self.region)),
                                  'DNSName': target or fqdn(r['alias']),
                                  'EvaluateTargetHealth': r.get('evaluate_target_health', False)}
        else:
            rec['TTL'] = r.get('ttl', 300)
            vals = [target.rstrip('.') if r['type'] == 'CNAME' and target else target] if target else r['values']
            rec['ResourceRecords'] = [{'Value': v} for v in vals]
        return rec

    @staticmethod
    def _rkey(rec):
        return (fqdn(rec['Name']), rec['Type'], rec.get('SetIdentifier'))

    def _put_record(self, zone, rec):
        zone['records'][self._rkey(rec)] = rec

    # ----------------------------------------------------------- lookups
    def env(self, name):
        for e in self.envs:
            if e['name'] == name and e['status'] != 'Terminated':
                return e
        raise KeyError(name)

    def find_env(self, name=None, env_id=None, include_terminated=False):
        cands = [e for e in self.envs if (name is None or e['name'] == name) and
                 (env_id is None or e['id'] == env_id)]
        live = [e for e in cands if e['status'] != 'Terminated']
        if live:
            return live[-1]
        if include_terminated and cands:
            return cands[-1]
        return None

    def env_instances(self, env):
        return [i for i in self.instances.values() if i['env'] == env['name'] and i['state'] == 'running']

    def instance_view(self, inst):
        return {k: inst[k] for k in ('id', 'env', 'private_ip', 'public_ip', 'ssh_port', 'az', 'state',
                                     'env_vars', 'extra', 'ssm_ping')}

    def described_ip(self, ip):
        """The address DescribeInstances shows: with option ssh_closed one in
        TEST-NET-2 that nothing routes, so the tool cannot reach sshd directly."""
        if not ip or not self.options.get('ssh_closed'):
            return ip
        return '198.51.100.%s' % ip.rsplit('.', 1)[-1]

    def event(self, env, message, severity='INFO', request_id=None, t=None):
        self.events.append({'t': t if t is not None else self.now(), 'message': message, 'severity': severity,
                            'request_id': request_id, 'env': env['name'] if env else None,
                            'app': env['app'] if env else None, 'version': env.get('version') if env else None})

    # -------------------------------------------------------------- time
    def advance(self, seconds):
        with self.lock:
            self.offset += float(seconds)
            self.tick()

    def take_outcome(self, kind, target):
        for o in self.outcomes:
            if o['kind'] == kind and o.get('target') in (None, target):
                self.outcomes.remove(o)
                return o.get('result')
        return None

    def _resource(self, kind, ident):
        if kind == 'environment':
            return self.find_env(ident, include_terminated=True)
        if kind == 'db_instance':
            return self.dbs.get(ident)
        if kind == 'db_snapshot':
            return self.snapshots.get(ident)
        if kind == 'change':
            return self.changes.get(ident.split('/')[-1])
        if kind == 'instance':
            return self.instances.get(ident)
        if kind == 'credential':
            return self.credentials.get(ident)
        raise ValueError('unknown kind %s' % kind)

    def hold(self, kind, ident):
        """Keep a resource's transition from completing (its status stays
        Updating / creating / PENDING...) until release(): for hooks whose real
        work (copying a database, rewriting env files) outlasts the duration.
        May be called from any thread. kind: environment, db_instance,
        db_snapshot, change."""
        with self.lock:
            obj = self._resource(kind, ident)
            if obj is None:
                raise ValueError('no %s named %s' % (kind, ident))
            obj['holds'] = obj.get('holds', 0) + 1

    def release(self, kind, ident):
        with self.lock:
            obj = self._resource(kind, ident)
            if obj is not None and obj.get('holds'):
                obj['holds'] -= 1
                obj['released_at'] = self.now()
            self.tick()

    @staticmethod
    def _due(obj, until, now):
        """The time a transition completes, or None while it is not due
        (or held); a transition held past its end completes when released."""
        if until is None or until > now or obj.get('holds'):
            return None
        return min(now, max(until, obj.get('released_at', 0)))

    def tick(self):
        """Advance every resource whose transition is due."""
        with self.lock:
            now = self.now()
            for env in list(self.envs):
                p = env['pending']
                if not p or p['until'] > now:
                    continue
                if not p.get('applied'):
                    p['applied'] = True
                    getattr(self, '_apply_' + p['kind'])(env, p)
                t = self._due(env, p['until'], now)
                if t is not None:
                    env['pending'] = None
                    getattr(self, '_complete_' + p['kind'])(env, p, t)
            for snap in list(self.snapshots.values()):
                if snap['status'] == 'creating' and self._due(snap, snap['until'], now) is not None:
                    snap['status'] = self.take_outcome('snapshot', snap['id']) or 'available'
                    db = self.dbs.get(snap['db'])
                    if db and db['status'] == 'backing-up':
                        db['status'] = 'available'
            for db in list(self.dbs.values()):
                if self._due(db, db['until'], now) is not None:
                    nxt, db['until'] = db['next'], None
                    if nxt == 'gone':
                        del self.dbs[db['id']]
                        self.hooks.call('db_deleted', self, db['id'])
                    else:
                        db['status'] = nxt
                        if db['promoting']:
                            db['promoting'], db['replica_source'] = False, None
            for ch in self.changes.values():
                if ch['status'] == 'PENDING' and self._due(ch, ch['until'], now) is not None:
                    ch['status'] = 'INSYNC'

    def _desired_count(self, env, options, current):
        if options.get(ENVTYPE_NS, {}).get('EnvironmentType') == 'SingleInstance':
            return 1
        asg = options.get(ASG_NS, {})
        lo, hi = int(asg.get('MinSize', 1)), int(asg.get('MaxSize', 4))
        return max(lo, min(current, hi))

    def _reconcile(self, env, target_count):
        """Bring an environment's instances to the target count and its
        configuration's env vars; tell the hooks what changed."""
        running = self.env_instances(env)
        added, removed = [], []
        while len(running) < target_count:
            inst = self._new_instance(env)
            running.append(inst)
            added.append(inst)
        while len(running) > target_count:
            inst = running.pop()
            inst['state'] = 'terminated'
            inst['terminated_at'] = self.now()
            removed.append(inst)
        new_vars = dict(env['options'].get(ENV_NS, {}))
        changed = {}
        for inst in running:
            if inst['env_vars'] != new_vars:
                inst['env_vars'] = dict(new_vars)
                if inst not in added:
                    changed[inst['id']] = dict(new_vars)
        if added or removed:
            self.hooks.call('instances_changed', self, env['name'], [self.instance_view(i) for i in running],
                            [self.instance_view(i) for i in added], [self.instance_view(i) for i in removed])
        if changed:
            self.hooks.call('env_vars_changed', self, env['name'], changed)

    # An environment transition happens in two steps: when its duration is
    # up the instances change (hooks run: env files, new hosts), then it
    # completes (status, events) unless a hook holds it for slow real work.
    def _apply_update(self, env, p):
        p['failed'] = self.take_outcome('env_update', env['name']) == 'fail'
        if p['failed']:
            return
        env['options'] = p['options']
        self._reconcile(env, self._desired_count(env, env['options'], len(self.env_instances(env))))
        if p.get('version') and p['version'] != env['version']:
            env['version'] = p['version']
            self.hooks.call('version_deployed', self, env['name'], p['version'],
                            [self.instance_view(i) for i in self.env_instances(env)])

    def _complete_update(self, env, p, t):
        env['updated'] = t
        env['status'], env['health'] = 'Ready', 'Green'
        if p['failed']:
            self.event(env, 'Failed to deploy configuration.', 'ERROR', p['request_id'], t)
            self.event(env, 'The environment was reverted to the previous configuration setting.', 'WARN',
                       p['request_id'], t)
            return
        self.event(env, 'New application version was deployed to running EC2 instances.' if p.get('version')
                   else 'Successfully deployed new configuration to environment.', 'INFO', p['request_id'], t)
        self.event(env, 'Environment update completed successfully.', 'INFO', p['request_id'], t)

    def _apply_launch(self, env, p):
        p['failed'] = self.take_outcome('env_launch', env['name']) == 'fail'
        if not p['failed']:
            asg = env['options'].get(ASG_NS, {})
            self._reconcile(env, self._desired_count(env, env['options'], int(asg.get('MinSize', 1))))

    def _complete_launch(self, env, p, t):
        env['updated'] = t
        if p['failed']:
            env['status'], env['health'] = 'Ready', 'Red'
            self.event(env, 'Create environment operation is complete, but with errors. For more information, '
                       'see troubleshooting documentation.', 'ERROR', p['request_id'], t)
            return
        env['status'], env['health'] = 'Ready', 'Green'
        self.event(env, 'createEnvironment completed successfully.', 'INFO', p['request_id'], t)

    def _apply_terminate(self, env, p):
        self._reconcile(env, 0)

    def _complete_terminate(self, env, p, t):
        env['updated'] = t
        env['status'], env['health'] = 'Terminated', 'Grey'
        env['terminated_at'] = t
        self.event(env, 'terminateEnvironment completed successfully.', 'INFO', p['request_id'], t)

    # ============================================================== EB
    def _app(self, name):
        if name not in self.apps:
            raise bad_param("No Application named '%s' found." % name)
        return self.apps[name]

    def _env_by(self, p, required=True):
        name, eid = p.get('EnvironmentName'), p.get('EnvironmentId')
        if name is None and eid is None:
            if not required:
                return None
            raise AwsError('MissingParameter', 'Either EnvironmentName or EnvironmentId must be specified.')
        env = self.find_env(name, eid)
        if env is None:
            if name is not None:
                raise bad_param("No Environment found for EnvironmentName = '%s'." % name)
            raise bad_param("No Environment found for EnvironmentId = '%s'." % eid)
        return env

    def env_description(self, env):
        hs = {'Green': 'Ok', 'Yellow': 'Warning', 'Red': 'Severe', 'Grey': 'Unknown'}[env['health']]
        if env['status'] == 'Launching':
            hs = 'Pending'
        elif env['status'] == 'Updating':
            hs = 'Info'
        d = {
            'EnvironmentName': env['name'], 'EnvironmentId': env['id'], 'ApplicationName': env['app'],
            'VersionLabel': env['version'], 'SolutionStackName': self.platform, 'PlatformArn': self.platform_arn,
            'EndpointURL': env['endpoint'], 'CNAME': env['cname'], 'DateCreated': dt(env['created']),
            'DateUpdated': dt(env['updated']), 'Status': env['status'], 'AbortableOperationInProgress':
            env['status'] == 'Updating', 'Health': env['health'], 'HealthStatus': hs,
            'Tier': {'Name': env['tier'], 'Type': 'Standard', 'Version': '1.0'},
            'EnvironmentLinks': [],
            'EnvironmentArn': 'arn:aws:elasticbeanstalk:%s:%s:environment/%s/%s' % (
                self.region, self.account, env['app'], env['name']),
        }
        if env['description']:
            d['Description'] = env['description']
        if env['template']:
            d['TemplateName'] = env['template']
        return d

    def op_elasticbeanstalk_DescribeEnvironments(self, p, ctx):
        include_deleted = p.get('IncludeDeleted', True)
        back_to = p.get('IncludedDeletedBackTo')
        back_to = back_to.timestamp() if back_to else self.now() - 3600
        out = []
        for env in self.envs:
            if p.get('ApplicationName') and env['app'] != p['ApplicationName']:
                continue
            if p.get('VersionLabel') and env['version'] != p['VersionLabel']:
                continue
            if p.get('EnvironmentIds') and env['id'] not in p['EnvironmentIds']:
                continue
            if p.get('EnvironmentNames') and env['name'] not in p['EnvironmentNames']:
                continue
            if env['status'] == 'Terminated' and (not include_deleted or env['terminated_at'] < back_to):
                continue
            out.append(self.env_description(env))
        return _next_token_page(out, p, 'Environments', 'MaxRecords')

    def op_elasticbeanstalk_DescribeEnvironmentResources(self, p, ctx):
        env = self._env_by(p)
        return {'EnvironmentResources': {
            'EnvironmentName': env['name'],
            'AutoScalingGroups': [{'Name': 'awseb-%s-stack-AWSEBAutoScalingGroup-%s' % (env['id'], env['id'][2:].upper())}],
            'Instances': [{'Id': i['id']} for i in self.env_instances(env)],
            'LaunchConfigurations': [], 'LaunchTemplates': [{'Id': 'lt-0%s' % env['id'][2:]}],
            'LoadBalancers': [] if env['options'].get(ENVTYPE_NS, {}).get('EnvironmentType') == 'SingleInstance'
            else [{'Name': env['endpoint'].split('.')[0][:32]}],
            'Triggers': [], 'Queues': []}}

    def _settings_list(self, options):
        return [{'Namespace': ns, 'OptionName': k, 'Value': v}
                for ns in sorted(options) for k, v in sorted(options[ns].items())]

    def _settings_desc(self, env, options, status):
        return {'SolutionStackName': self.platform, 'PlatformArn': self.platform_arn, 'ApplicationName': env['app'],
                'EnvironmentName': env['name'], 'DeploymentStatus': status, 'DateCreated': dt(env['created']),
                'DateUpdated': dt(env['updated']), 'OptionSettings': self._settings_list(options)}

    def op_elasticbeanstalk_DescribeConfigurationSettings(self, p, ctx):
        self._app(p['ApplicationName'])
        if p.get('TemplateName'):
            t = self.templates.get((p['ApplicationName'], p['TemplateName']))
            if t is None:
                raise bad_param("No Configuration Template named '%s' found." % p['TemplateName'])
            return {'ConfigurationSettings': [self._template_desc(t)]}
        if not p.get('EnvironmentName'):
            raise AwsError('MissingParameter', 'Either TemplateName or EnvironmentName must be specified.')
        env = self.find_env(p['EnvironmentName'])
        if env is None or env['app'] != p['ApplicationName']:
            raise bad_param("No Environment found for EnvironmentName = '%s'." % p['EnvironmentName'])
        out = [self._settings_desc(env, env['options'], 'deployed')]
        if env['pending'] and env['pending']['kind'] == 'update':
            out.append(self._settings_desc(env, env['pending']['options'], 'pending'))
        return {'ConfigurationSettings': out}

    def _check_options(self, settings, removes):
        for s in settings or []:
            ns, name = s.get('Namespace'), s.get('OptionName')
            if ns is None or name is None:
                raise bad_param('Option settings need both Namespace and OptionName.')
            self._known_option(ns, name)
            v = s.get('Value')
            if ns == ASG_NS and name in ('MinSize', 'MaxSize'):
                if v is None or not re.fullmatch(r'[0-9]+', v) or not 1 <= int(v) <= 10000:
                    raise AwsError('ConfigurationValidationException',
                                   "Configuration validation exception: Invalid option value: '%s' (Namespace: "
                                   "'%s', OptionName: '%s'): Value is not an integer between 1 and 10000." %
                                   (v, ns, name))
            if ns == ENVTYPE_NS and name == 'EnvironmentType' and v not in ('SingleInstance', 'LoadBalanced'):
                raise AwsError('ConfigurationValidationException',
                               "Configuration validation exception: Invalid option value: '%s' (Namespace: '%s', "
                               "OptionName: 'EnvironmentType'): Value is not one of [SingleInstance, LoadBalanced]."
                               % (v, ns))
        for r in removes or []:
            if r.get('Namespace') is None or r.get('OptionName') is None:
                raise bad_param('Options to remove need both Namespace and OptionName.')
            self._known_option(r['Namespace'], r['OptionName'])

    def _known_option(self, ns, name):
        if ns not in KNOWN_OPTIONS or (KNOWN_OPTIONS[ns] is not None and name not in KNOWN_OPTIONS[ns]):
            raise AwsError('ConfigurationValidationException',
                           "Configuration validation exception: Invalid option specification (Namespace: '%s', "
                           "OptionName: '%s'): Unknown configuration setting." % (ns, name))

    def _apply_options(self, options, settings, removes):
        new = {ns: dict(v) for ns, v in options.items()}
        for s in settings or []:
            new.setdefault(s['Namespace'], {})[s['OptionName']] = s.get('Value', '')
        for r in removes or []:
            new.get(r['Namespace'], {}).pop(r['OptionName'], None)
        asg = new.get(ASG_NS, {})
        lo, hi = int(asg.get('MinSize', 1)), int(asg.get('MaxSize', 4))
        if lo > hi:
            raise AwsError('ConfigurationValidationException',
                           'Configuration validation exception: MinSize (%d) cannot be greater than MaxSize (%d).'
                           % (lo, hi))
        return new

    def _check_version(self, app, label):
        if label is not None and label not in self.apps[app]['versions']:
            raise bad_param("No Application Version named '%s' found." % label)

    def op_elasticbeanstalk_UpdateEnvironment(self, p, ctx):
        env = self._env_by(p)
        if p.get('ApplicationName') and p['ApplicationName'] != env['app']:
            raise bad_param("No Environment found for EnvironmentName = '%s'." % env['name'])
        if env['status'] != 'Ready':
            raise bad_param('Environment named %s is in an invalid state for this operation. Must be Ready.'
                            % env['name'])
        if p.get('VersionLabel') and (p.get('OptionSettings') or p.get('OptionsToRemove') or p.get('TemplateName')):
            raise AwsError('InvalidParameterCombination',
                           'You cannot update the application version and the configuration in the same request.')
        self._check_version(env['app'], p.get('VersionLabel'))
        self._check_options(p.get('OptionSettings'), p.get('OptionsToRemove'))
        base = env['options']
        if p.get('TemplateName'):
            t = self.templates.get((env['app'], p['TemplateName']))
            if t is None:
                raise bad_param("No Configuration Template named '%s' found." % p['TemplateName'])
            base = t['options']
        new = self._apply_options(base, p.get('OptionSettings'), p.get('OptionsToRemove'))
        if p.get('Description') is not None:
            env['description'] = p['Description']
        env['status'] = 'Updating'
        env['updated'] = self.now()
        env['pending'] = {'kind': 'update', 'until': self.now() + self.durations['env_update'], 'options': new,
                          'version': p.get('VersionLabel'), 'request_id': ctx['request_id']}
        self.event(env, 'Environment update is starting.', 'INFO', ctx['request_id'])
        if p.get('VersionLabel'):
            self.event(env, 'Deploying new version to instance(s).', 'INFO', ctx['request_id'])
        else:
            self.event(env, "Updating environment %s's configuration settings." % env['name'], 'INFO',
                       ctx['request_id'])
        return self.env_description(env)

    def _template_desc(self, t):
        return {'SolutionStackName': self.platform, 'PlatformArn': self.platform_arn, 'ApplicationName': t['app'],
                'TemplateName': t['name'], 'Description': t.get('description'), 'DateCreated': dt(t['created']),
                'DateUpdated': dt(t['created']), 'OptionSettings': self._settings_list(t['options'])}

    def op_elasticbeanstalk_CreateConfigurationTemplate(self, p, ctx):
        app = self._app(p['ApplicationName'])
        key = (app['name'], p['TemplateName'])
        if key in self.templates:
            raise bad_param('Configuration Template %s already exists.' % p['TemplateName'])
        if p.get('EnvironmentId'):
            env = self.find_env(env_id=p['EnvironmentId'])
            if env is None:
                raise bad_param("No Environment found for EnvironmentId = '%s'." % p['EnvironmentId'])
            options = env['options']
        elif p.get('SourceConfiguration'):
            sc = p['SourceConfiguration']
            t = self.templates.get((sc.get('ApplicationName', app['name']), sc.get('TemplateName')))
            if t is None:
                raise bad_param("No Configuration Template named '%s' found." % sc.get('TemplateName'))
            options = t['options']
        elif p.get('SolutionStackName') or p.get('PlatformArn'):
            options = {}
        else:
            raise bad_param('Specify one of EnvironmentId, SourceConfiguration, SolutionStackName or PlatformArn.')
        self._check_options(p.get('OptionSettings'), None)
        options = self._apply_options(options, p.get('OptionSettings'), None)
        t = {'app': app['name'], 'name': p['TemplateName'], 'options': options, 'created': self.now(),
             'description': p.get('Description')}
        self.templates[key] = t
        return self._template_desc(t)

    def op_elasticbeanstalk_DeleteConfigurationTemplate(self, p, ctx):
        app = self._app(p['ApplicationName'])
        key = (app['name'], p.get('TemplateName'))
        if key not in self.templates:
            raise bad_param("No Configuration Template named '%s' found." % p.get('TemplateName'))
        del self.templates[key]
        return {}

    def op_elasticbeanstalk_CreateEnvironment(self, p, ctx):
        app = self._app(p['ApplicationName'])
        name = p.get('EnvironmentName')
        if not name:
            raise AwsError('MissingParameter', 'The request must contain the parameter EnvironmentName')
        if not EB_NAME_RE.match(name):
            raise bad_param('Value %s at \'EnvironmentName\' failed to satisfy constraint: Member must contain '
                            'only letters, digits, and the dash character and may not start or end with a '
                            'dash, with length 4 to 40.' % name)
        if self.find_env(name) is not None:
            raise bad_param('Environment %s already exists.' % name)
        prefix = (p.get('CNAMEPrefix') or name).lower()
        cname = '%s.%s.elasticbeanstalk.com' % (prefix, self.region)
        if any(e['cname'] == cname and e['status'] != 'Terminated' for e in self.envs):
            raise bad_param('DNS name (%s) is not available.' % cname)
        self._check_version(app['name'], p.get('VersionLabel'))
        options = {}
        if p.get('TemplateName'):
            t = self.templates.get((app['name'], p['TemplateName']))
            if t is None:
                raise bad_param("No Configuration Template named '%s' found." % p['TemplateName'])
            options = t['options']
        elif not (p.get('SolutionStackName') or p.get('PlatformArn')):
            raise bad_param('Specify one of TemplateName, SolutionStackName or PlatformArn.')
        self._check_options(p.get('OptionSettings'), p.get('OptionsToRemove'))
        options = self._apply_options(options, p.get('OptionSettings'), p.get('OptionsToRemove'))
        env = self._load_env({'name': name, 'application': app['name'], 'version': p.get('VersionLabel'),
                              'status': 'Launching', 'health': 'Grey', 'cname': cname, 'options': options,
                              'description': p.get('Description'), 'created': self.now(),
                              'tier': (p.get('Tier') or {}).get('Name', 'WebServer'),
                              'instance_groups': self.spec.get('elasticbeanstalk', {}).get('instance_groups', [])})
        env['updated'] = self.now()
        env['template'] = p.get('TemplateName')
        env['pending'] = {'kind': 'launch', 'until': self.now() + self.durations['env_launch'],
                          'request_id': ctx['request_id']}
        self.event(env, 'createEnvironment is starting.', 'INFO', ctx['request_id'])
        return self.env_description(env)

    def op_elasticbeanstalk_TerminateEnvironment(self, p, ctx):
        env = self._env_by(p)
        if env['status'] != 'Ready':
            raise bad_param('Environment named %s is in an invalid state for this operation. Must be Ready.'
                            % env['name'])
        env['status'], env['health'] = 'Terminating', 'Grey'
        env['updated'] = self.now()
        env['pending'] = {'kind': 'terminate', 'until': self.now() + self.durations['env_terminate'],
                          'request_id': ctx['request_id']}
        self.event(env, 'terminateEnvironment is starting.', 'INFO', ctx['request_id'])
        return self.env_description(env)

    def op_elasticbeanstalk_DescribeEvents(self, p, ctx):
        sev = p.get('Severity')
        min_sev = SEVERITIES.index(sev) if sev else 0
        env_id_name = None
        if p.get('EnvironmentId'):
            e = self.find_env(env_id=p['EnvironmentId'], include_terminated=True)
            env_id_name = e['name'] if e else '\0'
        start = p['StartTime'].timestamp() if p.get('StartTime') else None
        end = p['EndTime'].timestamp() if p.get('EndTime') else None
        out = []
        for ev in reversed(self.events):
            if p.get('ApplicationName') and ev['app'] != p['ApplicationName']:
                continue
            if p.get('EnvironmentName') and ev['env'] != p['EnvironmentName']:
                continue
            if env_id_name and ev['env'] != env_id_name:
                continue
            if p.get('RequestId') and ev['request_id'] != p['RequestId']:
                continue
            if p.get('VersionLabel') and ev['version'] != p['VersionLabel']:
                continue
            if SEVERITIES.index(ev['severity']) < min_sev:
                continue
            if start is not None and ev['t'] < start:
                continue
            if end is not None and ev['t'] >= end:
                continue
            d = {'EventDate': dt(ev['t']), 'Message': ev['message'], 'Severity': ev['severity'],
                 'ApplicationName': ev['app']}
            if ev['env']:
                d['EnvironmentName'] = ev['env']
            if ev['request_id']:
                d['RequestId'] = ev['request_id']
            if ev['version']:
                d['VersionLabel'] = ev['version']
            out.append(d)
        return _next_token_page(out, p, 'Events', 'MaxRecords')

    # ============================================================= RDS
    def _db(self, ident):
        db = self.dbs.get(ident)
        if db is None:
            raise AwsError('DBInstanceNotFound', 'DBInstance %s not found.' % ident, 404)
        return db

    def db_description(self, db):
        d = {
            'DBInstanceIdentifier': db['id'], 'DBInstanceClass': db['class'], 'Engine': db['engine'],
            'DBInstanceStatus': db['status'], 'MasterUsername': db['master_username'], 'DBName': db['db_name'],
            'AllocatedStorage': db['storage'], 'PreferredBackupWindow': '14:00-14:30',
            'BackupRetentionPeriod': db['backup_retention'],
            'DBSecurityGroups': [],
            'VpcSecurityGroups': [{'VpcSecurityGroupId': g, 'Status': 'active'} for g in db['vpc_security_groups']],
            'DBParameterGroups': [{'DBParameterGroupName': db['parameter_group'], 'ParameterApplyStatus': 'in-sync'}],
            'AvailabilityZone': db['az'],
            'DBSubnetGroup': {'DBSubnetGroupName': db['subnet_group'], 'DBSubnetGroupDescription': db['subnet_group'],
                              'VpcId': 'vpc-0c0ba17c0ba17c0ba', 'SubnetGroupStatus': 'Complete', 'Subnets': []},
            'PreferredMaintenanceWindow': 'sun:15:00-sun:15:30', 'MultiAZ': db['multi_az'],
            'EngineVersion': db['engine_version'], 'AutoMinorVersionUpgrade': True,
            'PubliclyAccessible': db['public'], 'StorageType': 'gp2', 'DbInstancePort': 0,
            'StorageEncrypted': False, 'DbiResourceId': db['resource_id'],
            'DBInstanceArn': 'arn:aws:rds:%s:%s:db:%s' % (self.region, self.account, db['id']),
            'IAMDatabaseAuthenticationEnabled': False, 'PerformanceInsightsEnabled': False,
            'DeletionProtection': False, 'TagList': db['tags'], 'CopyTagsToSnapshot': False,
            'CustomerOwnedIpEnabled': False, 'NetworkType': 'IPV4', 'BackupTarget': 'region',
        }
        replicas = sorted(r['id'] for r in self.dbs.values() if r['replica_source'] == db['id'])
        if replicas:
            d['ReadReplicaDBInstanceIdentifiers'] = replicas
        if db['replica_source']:
            # Until a promotion completes the instance is still a replica
            # (AWS keeps the source named while it is modifying).
            d['ReadReplicaSourceDBInstanceIdentifier'] = db['replica_source']
            d['ReplicaMode'] = 'open-read-only'
            if db['status'] != 'creating':
                d['StatusInfos'] = [{'StatusType': 'read replication', 'Normal': True,
                                     'Status': 'replicating'}]
        if db['status'] not in ('creating',):
            d['Endpoint'] = {'Address': db['address'], 'Port': db['port'], 'HostedZoneId': 'Z32T0VRHXEXS0V'}
            d['InstanceCreateTime'] = dt(db['created'])
        return d

    def snapshot_description(self, s):
        if s['status'] == 'creating':
            span = max(s['until'] - s['start'], 1e-6)
            pct = int(min(99, max(0, 100 * (self.now() - s['start']) / span)))
        else:
            pct = 100 if s['status'] == 'available' else 0
        return {
            'DBSnapshotIdentifier': s['id'], 'DBInstanceIdentifier': s['db'], 'SnapshotCreateTime': dt(s['created']),
            'Engine': s['engine'], 'AllocatedStorage': s['storage'], 'Status': s['status'], 'Port': s['port'],
            'AvailabilityZone': s['az'], 'VpcId': 'vpc-0c0ba17c0ba17c0ba', 'InstanceCreateTime':
            dt(s['instance_created']), 'MasterUsername': s['master_username'], 'EngineVersion': s['engine_version'],
            'LicenseModel': 'postgresql-license', 'SnapshotType': s['type'], 'PercentProgress': pct,
            'StorageType': 'gp2', 'Encrypted': False,
            'DBSnapshotArn': 'arn:aws:rds:%s:%s:snapshot:%s' % (self.region, self.account, s['id']),
            'IAMDatabaseAuthenticationEnabled': False, 'DbiResourceId': s['resource_id'], 'TagList': [],
            'OriginalSnapshotCreateTime': dt(s['created']), 'SnapshotTarget': 'region',
        }

    def _check_rds_id(self, value, what):
        if not RDS_ID_RE.match(value or ''):
            raise bad_param('The parameter %s is not a valid identifier. Identifiers must begin with a letter; '
                            'must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen '
                            'or contain two consecutive hyphens.' % what)

    def _page(self, items, p, key):
        lo = self.options['rds_min_max_records']
        n = p.get('MaxRecords')
        if n is not None and not lo <= n <= 100:
            raise bad_param('Invalid value %d for MaxRecords. Must be between %d and 100' % (n, lo))
        n = n or 100
        start = _untoken(p['Marker']) if p.get('Marker') else 0
        res = {key: items[start:start + n]}
        if start + n < len(items):
            res['Marker'] = _token(start + n)
        return res

    @staticmethod
    def _rds_match(p, fl, params, fields):
        """A resource matches when every given parameter equals its field and
        every filter lists its value (filters AND, values OR, as RDS does)."""
        return all(not p.get(k) or p[k] == v for k, v in params.items()) and \
            all(fields.get(k) in vals for k, vals in fl.items())

    def _filters(self, filters, known):
        out = {}
        for f in filters or []:
            if f.get('Name') not in known:
                raise bad_param('Unrecognized filter name: %s' % f.get('Name'))
            out[f['Name']] = set(f.get('Values') or [])
        return out

    def _snapshot(self, db, snap_id, request_id):
        self._check_rds_id(snap_id, 'DBSnapshotIdentifier')
        if snap_id in self.snapshots:
            raise AwsError('DBSnapshotAlreadyExists', 'Cannot create the snapshot because a snapshot with the '
                           'identifier %s already exists.' % snap_id)
        now = self.now()
        snap = self._load_snapshot({'id': snap_id, 'db_instance': db['id'], 'status': 'creating', 'created': now})
        snap['start'], snap['until'] = now, now + self.durations['snapshot']
        snap['class'] = db['class']
        self.hooks.call('snapshot_created', self, db['id'], snap_id)
        return snap

    def op_rds_CreateDBSnapshot(self, p, ctx):
        db = self._db(p['DBInstanceIdentifier'])
        if db['status'] != 'available':
            raise AwsError('InvalidDBInstanceState', 'Cannot create a snapshot because the database instance %s '
                           'is not currently in the available state.' % db['id'])
        snap = self._snapshot(db, p['DBSnapshotIdentifier'], ctx['request_id'])
        snap['tags'] = p.get('Tags', [])
        if self.options['rds_backing_up_during_snapshot']:
            db['status'] = 'backing-up'
        return {'DBSnapshot': self.snapshot_description(snap)}

    def op_rds_DescribeDBSnapshots(self, p, ctx):
        fl = self._filters(p.get('Filters'), {'db-instance-id', 'db-snapshot-id', 'snapshot-type', 'engine',
                                              'dbi-resource-id'})
        if p.get('DBSnapshotIdentifier') and p['DBSnapshotIdentifier'] not in self.snapshots:
            raise AwsError('DBSnapshotNotFound', 'DBSnapshot %s not found.' % p['DBSnapshotIdentifier'], 404)
        out = [self.snapshot_description(s) for s in sorted(self.snapshots.values(), key=lambda s: s['created'])
               if self._rds_match(p, fl, {'DBSnapshotIdentifier': s['id'], 'DBInstanceIdentifier': s['db'],
                                          'SnapshotType': s['type']},
                                  {'db-instance-id': s['db'], 'db-snapshot-id': s['id'], 'snapshot-type': s['type'],
                                   'engine': s['engine'], 'dbi-resource-id': s['resource_id']})]
        return self._page(out, p, 'DBSnapshots')

    def op_rds_RestoreDBInstanceFromDBSnapshot(self, p, ctx):
        ident = p['DBInstanceIdentifier']
        self._check_rds_id(ident, 'DBInstanceIdentifier')
        snap_id = p.get('DBSnapshotIdentifier')
        if not snap_id:
            raise AwsError('MissingParameter', 'The request must contain the parameter DBSnapshotIdentifier')
        snap = self.snapshots.get(snap_id)
        if snap is None:
            raise AwsError('DBSnapshotNotFound', 'DBSnapshot not found: %s' % snap_id, 404)
        if ident in self.dbs:
            raise AwsError('DBInstanceAlreadyExists', 'DB instance already exists')
        if snap['status'] != 'available':
            raise AwsError('InvalidDBSnapshotState', 'Snapshot %s is not in available state.' % snap_id)
        cls = p.get('DBInstanceClass') or snap['class']
        if cls not in DB_CLASSES:
            raise AwsError('InvalidParameterCombination', 'RDS does not support creating a DB instance with the '
                           'following combination: DBInstanceClass=%s, Engine=%s, EngineVersion=%s, '
                           'LicenseModel=postgresql-license.' % (cls, snap['engine'], snap['engine_version']))
        if p.get('DBSubnetGroupName') and p['DBSubnetGroupName'] not in ('default',) + tuple(
                {d['subnet_group'] for d in self.dbs.values()}):
            raise AwsError('DBSubnetGroupNotFoundFault', 'DBSubnetGroup %s not found.' % p['DBSubnetGroupName'], 404)
        for g in p.get('VpcSecurityGroupIds') or []:
            if g not in self.groups and g != self.db_defaults['vpc_security_group'] and \
                    not any(g in d['vpc_security_groups'] for d in self.dbs.values()):
                raise bad_param('Invalid security group , groupId= %s , groupName=.' % g)
        db = self._load_db({'id': ident, 'class': cls, 'engine': snap['engine'], 'engine_version':
                            snap['engine_version'], 'status': 'creating', 'db_name': snap['db_name'],
                            'master_username': snap['master_username'], 'port': p.get('Port', snap['port']),
                            'allocated_storage': snap['storage'],
                            'vpc_security_groups': p.get('VpcSecurityGroupIds') or
                            [self.db_defaults['vpc_security_group']],
                            'subnet_group': p.get('DBSubnetGroupName', 'default'),
                            'multi_az': p.get('MultiAZ', False), 'publicly_accessible': p.get('PubliclyAccessible',
                                                                                            False),
                            'parameter_group': p.get('DBParameterGroupName', 'default.postgres15'),
                            'tags': p.get('Tags', []), 'created': self.now(), 'restored_from': snap_id,
                            'az': p.get('AvailabilityZone', self.region + 'a')})
        ep = self.hooks.call('db_restored', self, ident, snap_id, snap['db'])
        if ep:
            db['address'], db['port'] = ep.get('address', db['address']), ep.get('port', db['port'])
        db['until'] = self.now() + self.durations['db_create']
        db['next'] = self.take_outcome('restore', ident) or 'available'
        return {'DBInstance': self.db_description(db)}

    def op_rds_CreateDBInstanceReadReplica(self, p, ctx):
        ident, src_id = p['DBInstanceIdentifier'], p['SourceDBInstanceIdentifier']
        self._check_rds_id(ident, 'DBInstanceIdentifier')
        src = self._db(src_id.split(':')[-1])
        if ident in self.dbs:
            raise AwsError('DBInstanceAlreadyExists', 'DB instance already exists')
        if src['backup_retention'] <= 0:
            raise AwsError('InvalidDBInstanceState', 'Automated backups are not enabled for this database '
                           'instance. To enable automated backups, use ModifyDBInstance to set the backup '
                           'retention period to a non-zero value.')
        if src['replica_source']:
            raise AwsError('InvalidDBInstanceState', 'The source DB instance %s is itself a read replica: '
                           'this simulation creates replicas of primaries only.' % src['id'])
        if src['status'] not in ('available', 'backing-up', 'modifying'):
            raise AwsError('InvalidDBInstanceState', 'DB Instance %s is not in available state.' % src['id'])
        cls = p.get('DBInstanceClass') or src['class']
        if cls not in DB_CLASSES:
            raise AwsError('InvalidParameterCombination', 'RDS does not support creating a DB instance with the '
                           'following combination: DBInstanceClass=%s, Engine=%s, EngineVersion=%s, '
                           'LicenseModel=postgresql-license.' % (cls, src['engine'], src['engine_version']))
        if p.get('DBSubnetGroupName') and p['DBSubnetGroupName'] not in ('default',) + tuple(
                {d['subnet_group'] for d in self.dbs.values()}):
            raise AwsError('DBSubnetGroupNotFoundFault', 'DBSubnetGroup %s not found.' % p['DBSubnetGroupName'], 404)
        for g in p.get('VpcSecurityGroupIds') or []:
            if g not in self.groups and g != self.db_defaults['vpc_security_group'] and \
                    not any(g in d['vpc_security_groups'] for d in self.dbs.values()):
                raise bad_param('Invalid security group , groupId= %s , groupName=.' % g)
        # A replica takes the source's engine, storage, database and master
        # user; the rest as asked (a same-region replica without a subnet
        # group lands in the source's).
        db = self._load_db({'id': ident, 'class': cls, 'engine': src['engine'],
                            'engine_version': src['engine_version'], 'status': 'creating',
                            'db_name': src['db_name'], 'master_username': src['master_username'],
                            'port': p.get('Port', src['port']), 'allocated_storage': src['storage'],
                            'vpc_security_groups': p.get('VpcSecurityGroupIds') or
                            [self.db_defaults['vpc_security_group']],
                            'subnet_group': p.get('DBSubnetGroupName', src['subnet_group']),
                            'multi_az': p.get('MultiAZ', False),
                            'publicly_accessible': p.get('PubliclyAccessible', False),
                            'parameter_group': p.get('DBParameterGroupName', src['parameter_group']),
                            'tags': p.get('Tags', []), 'created': self.now(), 'replica_source': src['id'],
                            'backup_retention': 0, 'az': p.get('AvailabilityZone', self.region + 'a')})
        ep = self.hooks.call('replica_created', self, ident, src['id'])
        if ep:
            db['address'], db['port'] = ep.get('address', db['address']), ep.get('port', db['port'])
        db['until'] = self.now() + self.durations['replica_create']
        db['next'] = self.take_outcome('replica', ident) or 'available'
        return {'DBInstance': self.db_description(db)}

    def op_rds_PromoteReadReplica(self, p, ctx):
        db = self._db(p['DBInstanceIdentifier'])
        if not db['replica_source']:
            raise AwsError('InvalidDBInstanceState', 'DB Instance %s is not a read replica.' % db['id'])
        if db['promoting']:
            raise AwsError('InvalidDBInstanceState', 'DB Instance %s is already being promoted.' % db['id'])
        if db['status'] != 'available':
            # As AWS answers while the replica is still being created (or
            # being modified, backed up...): only an available one promotes.
            raise AwsError('InvalidDBInstanceState', 'DB Instance is not in available state. Current state: %s'
                           % db['status'])
        if p.get('BackupRetentionPeriod') is not None:
            if not 0 <= p['BackupRetentionPeriod'] <= 35:
                raise bad_param('Invalid backup retention period: %d. Must be between 0 and 35.'
                                % p['BackupRetentionPeriod'])
        db['backup_retention'] = p.get('BackupRetentionPeriod', 1)
        db['status'], db['promoting'] = 'modifying', True
        db['until'] = self.now() + self.durations['replica_promote']
        db['next'] = 'available'
        self.hooks.call('replica_promoted', self, db['id'])
        return {'DBInstance': self.db_description(db)}

    def op_rds_DescribeDBInstances(self, p, ctx):
        fl = self._filters(p.get('Filters'), {'db-instance-id', 'dbi-resource-id', 'engine'})
        if p.get('DBInstanceIdentifier'):
            self._db(p['DBInstanceIdentifier'])
        out = [self.db_description(db) for db in sorted(self.dbs.values(), key=lambda d: d['id'])
               if self._rds_match(p, fl, {'DBInstanceIdentifier': db['id']},
                                  {'db-instance-id': db['id'], 'dbi-resource-id': db['resource_id'],
                                   'engine': db['engine']})]
        return self._page(out, p, 'DBInstances')

    def op_rds_DeleteDBInstance(self, p, ctx):
        db = self._db(p['DBInstanceIdentifier'])
        skip = p.get('SkipFinalSnapshot', False)
        final = p.get('FinalDBSnapshotIdentifier')
        if skip and final:
            raise AwsError('InvalidParameterCombination',
                           'Cannot specify both SkipFinalSnapshot and FinalDBSnapshotIdentifier.')
        if not skip and not final:
            raise AwsError('InvalidParameterCombination',
                           'FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.')
        if db['status'] == 'deleting':
            raise AwsError('InvalidDBInstanceState', 'Instance %s is already being deleted.' % db['id'])
        if db['status'] in ('creating', 'backing-up', 'modifying'):
            raise AwsError('InvalidDBInstanceState', 'Instance %s is not in available state.' % db['id'])
        if db['status'] in ('failed', 'incompatible-restore') and not skip:
            raise AwsError('InvalidDBInstanceState', 'Instance %s is in state %s: it can only be deleted with '
                           'SkipFinalSnapshot.' % (db['id'], db['status']))
        if final:
            self._snapshot(db, final, ctx['request_id'])
        db['status'] = 'deleting'
        db['until'] = self.now() + self.durations['db_delete'] + (self.durations['snapshot'] if final else 0)
        db['next'] = 'gone'
        return {'DBInstance': self.db_description(db)}

    # ========================================================= Route 53
    def _zone(self, zid):
        zid = zid.split('/')[-1]
        z = self.zones.get(zid)
        if z is None:
            raise AwsError('NoSuchHostedZone', 'No hosted zone found with ID: %s' % zid, 404)
        return z

    def zone_description(self, z):
        d = {'Id': '/hostedzone/' + z['id'], 'Name': z['name'], 'CallerReference': z['caller_reference'],
             'Config': {'PrivateZone': z['private']}, 'ResourceRecordSetCount': len(z['records'])}
        if z['comment']:
            d['Config']['Comment'] = z['comment']
        return d

    def _max_items(self, v, default):
        if v is None:
            return default
        if not re.fullmatch(r'[0-9]+', v) or int(v) < 1:
            raise AwsError('InvalidInput', "1 validation error detected: Value '%s' at 'maxItems' failed to "
                           "satisfy constraint: Member must be a positive integer" % v)
        return min(int(v), default)

    def op_route53_ListHostedZonesByName(self, p, ctx):
        n = self._max_items(p.get('MaxItems'), 100)
        zones = sorted(self.zones.values(), key=lambda z: (rev_key(z['name']), z['id']))
        if p.get('HostedZoneId') and not p.get('DNSName'):
            raise AwsError('InvalidInput', 'The hostedzoneid parameter requires the dnsname parameter.')
        if p.get('DNSName'):
            start = (rev_key(p['DNSName']), p.get('HostedZoneId', '').split('/')[-1])
            zones = [z for z in zones if (rev_key(z['name']), z['id']) >= start]
        res = {'HostedZones': [self.zone_description(z) for z in zones[:n]], 'IsTruncated': len(zones) > n,
               'MaxItems': str(n)}
        if p.get('DNSName'):
            res['DNSName'] = p['DNSName']
        if p.get('HostedZoneId'):
            res['HostedZoneId'] = p['HostedZoneId']
        if len(zones) > n:
            res['NextDNSName'] = zones[n]['name']
            res['NextHostedZoneId'] = zones[n]['id']
        return res

    @staticmethod
    def _sort_key(rec):
        return (rev_key(rec['Name']), rec['Type'], rec.get('SetIdentifier') or '')

    def op_route53_ListResourceRecordSets(self, p, ctx):
        z = self._zone(p['HostedZoneId'])
        n = self._max_items(p.get('MaxItems'), self.options['route53_max_items'])
        if p.get('StartRecordType') and not p.get('StartRecordName'):
            raise AwsError('InvalidInput', 'The input is not valid: a record type requires a record name.')
        if p.get('StartRecordIdentifier') and not p.get('StartRecordType'):
            raise AwsError('InvalidInput', 'The input is not valid: a record identifier requires a record type.')
        recs = sorted(z['records'].values(), key=self._sort_key)
        if p.get('StartRecordName'):
            start = (rev_key(p['StartRecordName']), p.get('StartRecordType', ''), p.get('StartRecordIdentifier', ''))
            recs = [r for r in recs if self._sort_key(r) >= start]
        res = {'ResourceRecordSets': [copy.deepcopy(r) for r in recs[:n]], 'IsTruncated': len(recs) > n,
               'MaxItems': str(n)}
        if len(recs) > n:
            nxt = recs[n]
            res['NextRecordName'] = nxt['Name']
            res['NextRecordType'] = nxt['Type']
            if nxt.get('SetIdentifier'):
                res['NextRecordIdentifier'] = nxt['SetIdentifier']
        return res

    @staticmethod
    def _norm_rec(rec):
        r = copy.deepcopy(rec)
        r['Name'] = fqdn(r['Name'])
        if 'AliasTarget' in r:
            r['AliasTarget']['DNSName'] = fqdn(r['AliasTarget']['DNSName'])
        if 'ResourceRecords' in r:
            r['ResourceRecords'] = sorted(r['ResourceRecords'], key=lambda v: v['Value'])
        return r

    def _describe_rrset(self, r):
        return "[name='%s', type='%s'%s]" % (fqdn(r['Name']), r['Type'],
                                              ", set-identifier='%s'" % r['SetIdentifier']
                                              if r.get('SetIdentifier') else '')

    def _validate_rrset(self, z, action, r, messages):
        name = fqdn(r['Name'])
        kinds = [bool(r.get('AliasTarget')), 'TTL' in r or 'ResourceRecords' in r,
                 bool(r.get('TrafficPolicyInstanceId'))]
        if sum(kinds) != 1 or (kinds[1] and not ('TTL' in r and r.get('ResourceRecords'))):
            raise AwsError('InvalidInput', 'Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and '
                           'ResourceRecords], or TrafficPolicyInstanceId], but found %s in Change with [Action=%s, '
                           'Name=%s, Type=%s, SetIdentifier=%s]' % (
                               'none' if sum(kinds) == 0 else 'more than one', action, name, r['Type'],
                               r.get('SetIdentifier') or 'null'))
        if not (name == z['name'] or name.endswith('.' + z['name'])):
            messages.append('RRSet with DNS name %s is not permitted in zone %s' % (name, z['name']))
        if r['Type'] == 'CNAME' and name == z['name']:
            messages.append('RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s'
                            % (name, z['name']))
        at = r.get('AliasTarget')
        if at and action != 'DELETE':
            target = fqdn(at['DNSName'])
            eb_zone = EB_ALIAS_ZONES.get(self.region)
            if at['HostedZoneId'] == eb_zone:
                if not any(fqdn(e['cname']) == target for e in self.envs if e['status'] != 'Terminated'):
                    messages.append('Tried to create an alias that targets %s, type %s in zone %s, but the alias '
                                    'target name does not lie within the target zone' % (
                                        target, r['Type'], at['HostedZoneId']))
            elif at['HostedZoneId'].split('/')[-1] == z['id']:
                if not any(fqdn(x['Name']) == target for x in z['records'].values()):
                    messages.append('Tried to create an alias that targets %s, type %s in zone %s, but the alias '
                                    'target name does not lie within the target zone' % (
                                        target, r['Type'], at['HostedZoneId']))
            else:
                messages.append('Tried to create an alias that targets %s, type %s in zone %s, but that target '
                                'was not found' % (target, r['Type'], at['HostedZoneId']))

    def op_route53_ChangeResourceRecordSets(self, p, ctx):
        z = self._zone(p['HostedZoneId'])
        batch = p['ChangeBatch']
        records = dict(z['records'])
        messages = []
        seen = set()
        seen_action = {}
        for ch in batch['Changes']:
            r = self._norm_rec(ch['ResourceRecordSet'])
            action = ch['Action']
            key = self._rkey(r)
            self._validate_rrset(z, action, r, messages)
            # Route 53 takes a DELETE then a CREATE of one record set in one batch
            # (the atomic replace cutover's lease uses); any other repeat is refused.
            if key in seen and not (action == 'CREATE' and seen_action.get(key) == 'DELETE'):
                raise AwsError('InvalidChangeBatch', 'The request contains an invalid set of changes for a resource '
                               'record set %s' % self._describe_rrset(r), messages=[
                                   'The request contains an invalid set of changes for a resource record set %s'
                                   % self._describe_rrset(r)])
            seen.add(key)
            seen_action[key] = action
            cur = records.get(key)
            if action == 'CREATE':
                if cur is not None:
                    messages.append('Tried to create resource record set %s but it already exists'
                                    % self._describe_rrset(r))
                    continue
                records[key] = r
            elif action == 'DELETE':
                if cur is None:
                    messages.append('Tried to delete resource record set %s but it was not found'
                                    % self._describe_rrset(r))
                    continue
                if self._norm_rec(cur) != r:
                    messages.append('Tried to delete resource record set %s but the values provided do not match '
                                    'the current values' % self._describe_rrset(r))
                    continue
                if r['Type'] in ('NS', 'SOA') and fqdn(r['Name']) == z['name']:
                    messages.append('A HostedZone must contain at least one NS record for the zone itself.')
                    continue
                del records[key]
            else:  # UPSERT
                records[key] = r
        for key, r in records.items():  # a CNAME excludes every other type at the same name
            if r['Type'] == 'CNAME' and key[0] != z['name'] and \
                    any(k[0] == key[0] and k[1] != 'CNAME' for k in records):
                messages.append('RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other '
                                'records with the same DNS name in zone %s' % (key[0], z['name']))
        if messages:
            raise AwsError('InvalidChangeBatch', '[' + ', '.join(messages) + ']', messages=messages)
        z['records'] = records
        cid = 'C' + self._id('', 20, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')
        ch = {'id': cid, 'status': 'PENDING', 'submitted': self.now(), 'until': self.now() +
              self.durations['dns_change'], 'comment': batch.get('Comment'), 'zone': z['id'],
              'changes': copy.deepcopy(batch['Changes'])}
        self.changes[cid] = ch
        return {'ChangeInfo': self.change_info(ch)}

    def change_info(self, ch):
        d = {'Id': '/change/' + ch['id'], 'Status': ch['status'], 'SubmittedAt': dt(ch['submitted'])}
        if ch['comment']:
            d['Comment'] = ch['comment']
        return d

    def op_route53_GetChange(self, p, ctx):
        cid = p['Id'].split('/')[-1]
        ch = self.changes.get(cid)
        if ch is None:
            raise AwsError('NoSuchChange', 'A change with the specified change ID does not exist.', 404)
        return {'ChangeInfo': self.change_info(ch)}

    # ============================================================== EC2
    def instance_description(self, inst):
        env = self.find_env(inst['env'], include_terminated=True) if inst['env'] else None
        codes = {'pending': 0, 'running': 16, 'shutting-down': 32, 'terminated': 48, 'stopping': 64, 'stopped': 80}
        d = {
            'InstanceId': inst['id'], 'ImageId': 'ami-0d6294dcaac8cdb10', 'State': {'Code': codes[inst['state']],
                                                                                 'Name': inst['state']},
            'PrivateDnsName': 'ip-%s.%s.compute.internal' % (inst['private_ip'].replace('.', '-'), self.region),
            'KeyName': inst['key_name'], 'AmiLaunchIndex': 0, 'InstanceType': inst['type'],
            'LaunchTime': dt(inst['launched']), 'Placement': {'AvailabilityZone': inst['az'], 'Tenancy': 'default'},
            'Monitoring': {'State': 'disabled'}, 'Architecture': 'x86_64', 'RootDeviceType': 'ebs',
            'RootDeviceName': '/dev/xvda', 'Hypervisor': 'xen', 'VirtualizationType': 'hvm',
            'PlatformDetails': 'Linux/UNIX', 'EbsOptimized': False, 'EnaSupport': True,
            'SourceDestCheck': True,
        }
        if inst['state'] == 'running':
            d.update({'PrivateIpAddress': self.described_ip(inst['private_ip']), 'SubnetId': 'subnet-0a11ce0a11ce0a11c',
                      'VpcId': 'vpc-0c0ba17c0ba17c0ba',
                      'SecurityGroups': [{'GroupId': g, 'GroupName': self.groups[g]['name'] if g in self.groups
                                          else g} for g in inst['groups']]})
            if inst['public_ip']:
                d['PublicIpAddress'] = self.described_ip(inst['public_ip'])
                d['PublicDnsName'] = 'ec2-%s.%s.compute.amazonaws.com' % (inst['public_ip'].replace('.', '-'),
                                                                           self.region)
            else:
                d['PublicDnsName'] = ''
        else:
            d['PublicDnsName'] = ''
            d['SecurityGroups'] = []
            d['StateTransitionReason'] = 'User initiated'
        tags = []
        if env:
            tags = [{'Key': 'elasticbeanstalk:environment-name', 'Value': env['name']},
                    {'Key': 'elasticbeanstalk:environment-id', 'Value': env['id']},
                    {'Key': 'Name', 'Value': env['name']},
                    {'Key': 'aws:autoscaling:groupName', 'Value': 'awseb-%s-stack-AWSEBAutoScalingGroup-%s'
                     % (env['id'], env['id'][2:].upper())}]
        d['Tags'] = tags
        return d

    def op_ec2_DescribeInstances(self, p, ctx):
        ids = p.get('InstanceIds') or []
        if ids and p.get('MaxResults') is not None:
            raise AwsError('InvalidParameterCombination',
                           'The parameter instancesSet cannot be used with the parameter maxResults')
        if p.get('MaxResults') is not None and not 5 <= p['MaxResults'] <= 1000:
            raise AwsError('InvalidParameterValue', 'Value ( %d ) for parameter maxResults is invalid. Expecting a '
                           'value greater than 5.' % p['MaxResults'])
        for i in ids:
            if not re.fullmatch(r'i-[0-9a-f]{8}([0-9a-f]{9})?', i):
                raise AwsError('InvalidInstanceID.Malformed', 'Invalid id: "%s"' % i)
        missing = [i for i in ids if i not in self.instances]
        if missing:
            raise AwsError('InvalidInstanceID.NotFound', "The instance ID%s '%s' do%s not exist" % (
                's' if len(missing) > 1 else '', ', '.join(missing), '' if len(missing) > 1 else 'es'))
        out = []
        for inst in self.instances.values():
            if ids and inst['id'] not in ids:
                continue
            desc = self.instance_description(inst)
            if not self._ec2_filter(p.get('Filters'), desc, inst):
                continue
            out.append({'ReservationId': 'r-0' + inst['id'][3:], 'OwnerId': self.account, 'Groups': [],
                        'Instances': [desc]})
        return _next_token_page(out, p, 'Reservations', 'MaxResults')

    def _ec2_filter(self, filters, desc, inst):
        for f in filters or []:
            name, vals = f.get('Name'), set(f.get('Values') or [])
            if name == 'instance-id':
                v = {inst['id']}
            elif name == 'instance-state-name':
                v = {inst['state']}
            elif name == 'private-ip-address':
                v = {inst['private_ip']}
            elif name == 'ip-address':
                v = {inst['public_ip']}
            elif name == 'availability-zone':
                v = {inst['az']}
            elif name == 'instance.group-id':
                v = set(inst['groups'])
            elif name == 'tag-key':
                v = {t['Key'] for t in desc['Tags']}
            elif name and name.startswith('tag:'):
                v = {t['Value'] for t in desc['Tags'] if t['Key'] == name[4:]}
            else:
                raise AwsError('InvalidParameterValue', "The filter '%s' is invalid" % name)
            if not v & vals:
                return False
        return True

    def sg_description(self, g):
        perms = {}
        for r in g['rules']:
            k = (r['proto'], r['from'], r['to'])
            perm = perms.setdefault(k, {'IpProtocol': r['proto'], 'IpRanges': [], 'Ipv6Ranges': [],
                                        'PrefixListIds': [], 'UserIdGroupPairs': []})
            if r['proto'] != '-1':
                perm['FromPort'], perm['ToPort'] = r['from'], r['to']
            if r['cidr']:
                rng = {'CidrIp': r['cidr']}
                if r['description']:
                    rng['Description'] = r['description']
                perm['IpRanges'].append(rng)
            if r['group']:
                perm['UserIdGroupPairs'].append({'GroupId': r['group'], 'UserId': self.account})
        return {'Description': g['description'], 'GroupName': g['name'], 'IpPermissions': list(perms.values()),
                'OwnerId': self.account, 'GroupId': g['id'], 'VpcId': g['vpc'],
                'IpPermissionsEgress': [{'IpProtocol': '-1', 'IpRanges': [{'CidrIp': '0.0.0.0/0'}], 'Ipv6Ranges': [],
                                         'PrefixListIds': [], 'UserIdGroupPairs': []}], 'Tags': []}

    def op_ec2_DescribeSecurityGroups(self, p, ctx):
        ids, names = p.get('GroupIds') or [], p.get('GroupNames') or []
        for gid in ids:
            if gid not in self.groups:
                raise AwsError('InvalidGroup.NotFound', "The security group '%s' does not exist" % gid)
        for n in names:
            if not any(g['name'] == n for g in self.groups.values()):
                raise AwsError('InvalidGroup.NotFound', "The security group '%s' does not exist in default VPC '%s'"
                               % (n, 'vpc-0c0ba17c0ba17c0ba'))
        out = []
        for g in self.groups.values():
            if ids and g['id'] not in ids:
                continue
            if names and g['name'] not in names:
                continue
            ok = True
            for f in p.get('Filters') or []:
                vals = set(f.get('Values') or [])
                if f.get('Name') == 'group-id':
                    ok &= g['id'] in vals
                elif f.get('Name') == 'group-name':
                    ok &= g['name'] in vals
                elif f.get('Name') == 'vpc-id':
                    ok &= g['vpc'] in vals
                else:
                    raise AwsError('InvalidParameterValue', "The filter '%s' is invalid" % f.get('Name'))
            if ok:
                out.append(self.sg_description(g))
        return _next_token_page(out, p, 'SecurityGroups', 'MaxResults')

    def _sg_rules_from(self, p):
        gid = p.get('GroupId')
        if gid is None and p.get('GroupName'):
            gid = next((g['id'] for g in self.groups.values() if g['name'] == p['GroupName']), None)
            if gid is None:
                raise AwsError('InvalidGroup.NotFound', "The security group '%s' does not exist" % p['GroupName'])
        if gid is None:
            raise AwsError('MissingParameter', 'The request must contain the parameter groupId or groupName')
        g = self.groups.get(gid)
        if g is None:
            raise AwsError('InvalidGroup.NotFound', "The security group '%s' does not exist" % gid)
        perms = list(p.get('IpPermissions') or [])
        if p.get('IpProtocol') or p.get('CidrIp'):
            if p.get('IpPermissions'):
                raise AwsError('InvalidParameterCombination', 'The parameter IpPermissions cannot be used with '
                               'IpProtocol, FromPort, ToPort or CidrIp')
            perms.append({'IpProtocol': p.get('IpProtocol'), 'FromPort': p.get('FromPort'),
                          'ToPort': p.get('ToPort'), 'IpRanges': [{'CidrIp': p.get('CidrIp')}]
                          if p.get('CidrIp') else []})
        if not perms:
            raise AwsError('MissingParameter', 'No rule given: pass IpPermissions or IpProtocol with CidrIp.')
        rules = []
        for perm in perms:
            proto = str(perm.get('IpProtocol') or '').lower()
            proto = {'6': 'tcp', '17': 'udp', '1': 'icmp', 'all': '-1'}.get(proto, proto)
            if proto not in ('tcp', 'udp', 'icmp', '-1'):
                raise AwsError('InvalidParameterValue', "Invalid value '%s' for IP protocol. Unknown protocol."
                               % perm.get('IpProtocol'))
            lo, hi = perm.get('FromPort'), perm.get('ToPort')
            if proto in ('tcp', 'udp'):
                if lo is None or hi is None:
                    raise AwsError('MissingParameter', 'The request must contain the parameter FromPort and ToPort '
                                   'for protocol %s' % proto)
                if not 0 <= lo <= hi <= 65535:
                    raise AwsError('InvalidParameterValue', 'Invalid port range %s-%s.' % (lo, hi))
            else:
                lo = lo if lo is not None else -1
                hi = hi if hi is not None else -1
            sources = [(r.get('CidrIp'), None, r.get('Description')) for r in perm.get('IpRanges') or []] + \
                [(None, u.get('GroupId'), u.get('Description')) for u in perm.get('UserIdGroupPairs') or []]
            if not sources:
                raise AwsError('MissingParameter', 'The request must contain a source: CidrIp or a group.')
            for cidr, grp, desc in sources:
                if cidr is not None:
                    try:
                        ipaddress.IPv4Network(cidr, strict=False)
                        if '/' not in cidr:
                            raise ValueError
                    except ValueError:
                        raise AwsError('InvalidParameterValue', 'CIDR block %s is malformed' % cidr)
                if grp is not None and grp not in self.groups:
                    raise AwsError('InvalidGroup.NotFound', "The security group '%s' does not exist" % grp)
                rules.append({'proto': proto, 'from': lo, 'to': hi, 'cidr': cidr, 'group': grp,
                              'description': desc})
        return g, rules

    @staticmethod
    def _same_rule(a, b):
        return all(a[k] == b[k] for k in ('proto', 'from', 'to', 'cidr', 'group'))

    def _rule_text(self, r):
        return '"peer: %s, %s, from port: %s, to port: %s, ALLOW"' % (
            r['cidr'] or r['group'], r['proto'].upper() if r['proto'] != '-1' else 'ALL', r['from'], r['to'])

    def op_ec2_AuthorizeSecurityGroupIngress(self, p, ctx):
        g, rules = self._sg_rules_from(p)
        for r in rules:
            if any(self._same_rule(r, x) for x in g['rules']):
                raise AwsError('InvalidPermission.Duplicate', 'the specified rule %s already exists'
                               % self._rule_text(r))
        out = []
        for r in rules:
            r['id'] = self._id('sgr-0', 16)
            g['rules'].append(r)
            d = {'SecurityGroupRuleId': r['id'], 'GroupId': g['id'], 'GroupOwnerId': self.account,
                 'IsEgress': False, 'IpProtocol': r['proto'], 'FromPort': r['from'], 'ToPort': r['to']}
            if r['cidr']:
                d['CidrIpv4'] = r['cidr']
            if r['group']:
                d['ReferencedGroupInfo'] = {'GroupId': r['group'], 'UserId': self.account}
            if r['description']:
                d['Description'] = r['description']
            out.append(d)
        return {'Return': True, 'SecurityGroupRules': out}

    def op_ec2_RevokeSecurityGroupIngress(self, p, ctx):
        ids = list(p.get('SecurityGroupRuleIds') or [])
        if ids:
            # By rule id, as AWS takes it since 2021: the group names where to
            # look, and every id must be one of its ingress rules.
            if p.get('IpPermissions') or p.get('IpProtocol') or p.get('CidrIp'):
                raise AwsError('InvalidParameterCombination', 'The parameter SecurityGroupRuleIds cannot be used '
                               'with IpPermissions, IpProtocol, FromPort, ToPort or CidrIp')
            gid = p.get('GroupId')
            g = self.groups.get(gid) if gid else None
            if g is None:
                raise AwsError('InvalidGroup.NotFound', "The security group '%s' does not exist" % gid)
            have = {x.get('id') for x in g['rules']}
            for i in ids:
                if i not in have:
                    raise AwsError('InvalidSecurityGroupRuleId.NotFound',
                                   "The security group rule ID '%s' does not exist" % i)
            g['rules'] = [x for x in g['rules'] if x.get('id') not in ids]
            return {'Return': True}
        g, rules = self._sg_rules_from(p)
        for r in rules:
            if not any(self._same_rule(r, x) for x in g['rules']):
                raise AwsError('InvalidPermission.NotFound', 'The specified rule does not exist in this security '
                               'group.')
        g['rules'] = [x for x in g['rules'] if not any(self._same_rule(r, x) for r in rules)]
        return {'Return': True}

    # ====================================================== STS / EIC
    def op_sts_GetCallerIdentity(self, p, ctx):
        c = ctx['credential']
        return {'UserId': c['user_id'], 'Account': c['account'], 'Arn': c['arn']}

    def op_ec2_instance_connect_SendSSHPublicKey(self, p, ctx):
        inst = self.instances.get(p['InstanceId'])
        if inst is None:
            raise AwsError('EC2InstanceNotFoundException', 'Instance not found')
        if inst['state'] != 'running':
            raise AwsError('EC2InstanceStateInvalidException', 'Instance is not in a valid state for this operation.')
        if p.get('AvailabilityZone') and p['AvailabilityZone'] != inst['az']:
            raise AwsError('InvalidArgsException', 'Instance %s is not in Availability Zone %s.'
                           % (inst['id'], p['AvailabilityZone']))
        user = p['InstanceOSUser']
        if not re.fullmatch(r'[A-Za-z_][A-Za-z0-9@._-]{0,30}[A-Za-z0-9$_-]?', user):
            raise AwsError('InvalidArgsException', 'Invalid OS user: %s' % user)
        parts = p['SSHPublicKey'].split()
        if len(parts) < 2 or parts[0] not in ('ssh-rsa', 'ssh-ed25519', 'ecdsa-sha2-nistp256',
                                              'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'):
            raise AwsError('InvalidArgsException', 'Unsupported or malformed SSH public key: it must be an RSA, '
                           'ED25519 or ECDSA key in OpenSSH format.')
        try:
            blob = base64.b64decode(parts[1], validate=True)
        except ValueError:
            raise AwsError('InvalidArgsException', 'The SSH public key is not valid base64.')
        if parts[0].encode() not in blob[:40]:
            raise AwsError('InvalidArgsException', 'The SSH public key body does not match its type %s.' % parts[0])
        expires = self.now() + self.options['instance_connect_key_ttl']
        self.ssh_keys.append({'instance': inst['id'], 'user': user, 'key': ' '.join(parts[:2]), 'expires': expires})
        self.hooks.call('ssh_public_key', self, self.instance_view(inst), user, ' '.join(parts[:2]), expires)
        return {'RequestId': ctx['request_id'], 'Success': True}

    # ============================================================== SSM
    def _ssm_registered(self):
        return [i for i in self.instances.values() if i['state'] == 'running' and i.get('ssm_ping')]

    def op_ssm_DescribeInstanceInformation(self, p, ctx):
        """Managed instances as Systems Manager lists them. Filters: Key
        InstanceIds / PingStatus (and the older InstanceInformationFilterList
        with key instanceIds / PingStatus)."""
        want_ids, want_ping = None, None
        for f in p.get('Filters', []):
            if f['Key'] == 'InstanceIds':
                want_ids = set(f['Values'])
            elif f['Key'] == 'PingStatus':
                want_ping = set(f['Values'])
            elif f['Key'] not in ('ResourceType', 'PlatformTypes', 'AgentVersion', 'tag-key'):
                raise AwsError('InvalidFilterKey', 'The filter key %s is not valid.' % f['Key'])
        for f in p.get('InstanceInformationFilterList', []):
            if f['key'] == 'InstanceIds':
                want_ids = set(f['valueSet'])
            elif f['key'] == 'PingStatus':
                want_ping = set(f['valueSet'])
        if want_ids is not None:
            for i in want_ids:
                if not re.fullmatch(r'(i|mi)-[0-9a-f]{8,17}', i):
                    raise AwsError('InvalidInstanceId', 'Instance Id %s is not valid.' % i)
        rows = []
        for inst in sorted(self._ssm_registered(), key=lambda i: i['id']):
            if want_ids is not None and inst['id'] not in want_ids:
                continue
            if want_ping is not None and inst['ssm_ping'] not in want_ping:
                continue
            rows.append({'InstanceId': inst['id'], 'PingStatus': inst['ssm_ping'],
                         'LastPingDateTime': self.now() - (0 if inst['ssm_ping'] == 'Online' else 3600),
                         'AgentVersion': '3.2.582.0', 'IsLatestVersion': True, 'PlatformType': 'Linux',
                         'PlatformName': 'Amazon Linux', 'PlatformVersion': '2023',
                         'ResourceType': 'EC2Instance', 'IPAddress': inst['private_ip'],
                         'ComputerName': 'ip-%s.%s.compute.internal' % (inst['private_ip'].replace('.', '-'),
                                                                       self.region),
                         'IamRole': 'aws-elasticbeanstalk-ec2-role'})
        size = int(p.get('MaxResults', 50))
        start = int(p['NextToken']) if p.get('NextToken', '').isdigit() else 0
        if p.get('NextToken') and not p['NextToken'].isdigit():
            raise AwsError('InvalidNextToken', 'The specified token is not valid.')
        out = {'InstanceInformationList': rows[start:start + size]}
        if start + size < len(rows):
            out['NextToken'] = str(start + size)
        return out

    def op_ssm_StartSession(self, p, ctx):
        """A port session as Session Manager starts one: the target must be a
        registered instance whose agent is Online (else TargetNotConnected),
        the document AWS-StartSSHSession or AWS-StartPortForwardingSession.
        The answer's StreamUrl is the simulation's data channel."""
        target = p['Target']
        doc = p.get('DocumentName', 'SSM-SessionManagerRunShell')
        if doc not in ('AWS-StartSSHSession', 'AWS-StartPortForwardingSession'):
            raise AwsError('InvalidDocument', 'Document %s does not exist in your account.' % doc)
        inst = self.instances.get(target)
        if inst is None or inst['state'] != 'running' or inst.get('ssm_ping') != 'Online':
            raise AwsError('TargetNotConnected', '%s is not connected.' % target)
        params = p.get('Parameters', {})
        port = params.get('portNumber', ['22'])
        if len(port) != 1 or not port[0].isdigit() or not 0 < int(port[0]) < 65536:
            raise AwsError('ValidationException', 'Parameter portNumber must be one port number.')
        if self.ssm_channel is None:
            raise AwsError('InternalServerError', 'The simulation runs no Session Manager data channel.', 500)
        who = ctx['credential']['arn'].rsplit('/', 1)[-1]
        sid = '%s-%s' % (who, self._id('', 17))
        token = base64.b64encode(os.urandom(48)).decode()
        self.ssm_sessions[sid] = {'id': sid, 'target': target, 'document': doc, 'port': int(port[0]),
                                  'token': token, 'state': 'Pending', 'started': self.now(), 'ended': None,
                                  'owner': ctx['credential']['arn'], 'reason': p.get('Reason'),
                                  'bytes_up': 0, 'bytes_down': 0, 'messages': 0, 'protocol_errors': []}
        url = self.options.get('ssm_stream_url') or self.ssm_channel.url
        return {'SessionId': sid, 'TokenValue': token,
                'StreamUrl': '%s/v1/data-channel/%s?role=publish_subscribe&cell-number=1' % (url, sid)}

    def op_ssm_TerminateSession(self, p, ctx):
        sess = self.ssm_sessions.get(p['SessionId'])
        if sess is not None and sess['state'] != 'Terminated':
            sess['state'] = 'Terminated'
            sess['ended'] = self.now()
            if self.ssm_channel is not None:
                self.ssm_channel.terminate(sess['id'])
        return {'SessionId': p['SessionId']}

    def env_file(self, instance_id):
        """The instance's view of its environment's variables, as EB writes
        /opt/elasticbeanstalk/deployment/env (KEY=value lines, sorted)."""
        inst = self.instances.get(instance_id)
        if inst is None:
            raise ValueError('no instance %s' % instance_id)
        return ''.join('%s=%s\n' % (k, v) for k, v in sorted(inst['env_vars'].items()))

    def valid_ssh_keys(self, instance=None, user=None):
        now = self.now()
        self.ssh_keys = [k for k in self.ssh_keys if k['expires'] > now]
        return [k for k in self.ssh_keys if instance in (None, k['instance']) and user in (None, k['user'])]

    # ============================================================ admin
    def dump(self):
        with self.lock:
            self.tick()
            now = self.now()
            return {
                'now': now, 'offset': self.offset, 'region': self.region, 'account': self.account,
                'durations': self.durations, 'options': self.options, 'outcomes': self.outcomes,
                'credentials': [{'access_key': c['access_key'], 'arn': c['arn'], 'expired': bool(c.get('expired')),
                                 'session': bool(c.get('session_token'))} for c in self.credentials.values()],
                'environments': [{
                    'name': e['name'], 'id': e['id'], 'application': e['app'], 'status': e['status'],
                    'health': e['health'], 'version': e['version'], 'cname': e['cname'], 'options': e['options'],
                    'env_vars': e['options'].get(ENV_NS, {}), 'template': e['template'],
                    'pending': None if not e['pending'] else {
                        'kind': e['pending']['kind'], 'until': e['pending']['until'],
                        'request_id': e['pending']['request_id'],
                        'options': e['pending'].get('options')},
                    'instances': [i['id'] for i in self.env_instances(e)]} for e in self.envs],
                'templates': [{'application': t['app'], 'name': t['name'], 'options': t['options']}
                              for t in self.templates.values()],
                'instances': [self.instance_view(i) for i in self.instances.values()],
                'ssm_sessions': [{k: v for k, v in x.items() if k != 'token'} for x in self.ssm_sessions.values()],
                'security_groups': [{'id': g['id'], 'name': g['name'], 'rules': g['rules']}
                                    for g in self.groups.values()],
                'events': [{'t': e['t'], 'environment': e['env'], 'message': e['message'],
                            'severity': e['severity'], 'request_id': e['request_id']} for e in self.events],
                'db_instances': [{'id': d['id'], 'status': d['status'], 'class': d['class'], 'db_name': d['db_name'],
                                  'address': d['address'], 'port': d['port'], 'restored_from': d['restored_from'],
                                  'vpc_security_groups': d['vpc_security_groups'], 'until': d['until'],
                                  'next': d['next'], 'extra': d['extra'], 'replica_source': d['replica_source'],
                                  'promoting': d['promoting'], 'backup_retention': d['backup_retention']}
                                 for d in self.dbs.values()],
                'db_snapshots': [{'id': s['id'], 'db_instance': s['db'], 'status': s['status'],
                                  'percent': self.snapshot_description(s)['PercentProgress'], 'created': s['created']}
                                 for s in self.snapshots.values()],
                'zones': [{'id': z['id'], 'name': z['name'], 'records': sorted(z['records'].values(),
                                                                                 key=self._sort_key)}
                          for z in self.zones.values()],
                'changes': [{'id': c['id'], 'status': c['status'], 'zone': c['zone'], 'submitted': c['submitted'],
                             'comment': c['comment'], 'changes': c['changes']} for c in self.changes.values()],
                'ssh_keys': self.valid_ssh_keys(),
            }

    def admin_set(self, req):
        """Directly edit a resource (for tests of odd states)."""
        with self.lock:
            kind, ident, fields = req['kind'], req['id'], req.get('set', {})
            obj = self._resource(kind, ident)
            if obj is None:
                raise ValueError('no %s named %s' % (kind, ident))
            for k, v in fields.items():
                if k not in obj:
                    raise ValueError('%s has no field %s (fields: %s)' % (kind, k, ', '.join(sorted(obj))))
                obj[k] = v
            return True
