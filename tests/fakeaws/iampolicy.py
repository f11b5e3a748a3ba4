"""IAM identity-based policy evaluation for the simulated AWS.

What each request is authorised against, as AWS does it: the action
(`service:Operation`, the IAM name), the resource ARNs the operation acts on
(built from the request and the world: `resources()`), and the condition
keys the service supplies (`context()`). `evaluate()` applies the policy
documents attached to the caller the way IAM does for identity-based
policies alone: an explicit Deny wins, otherwise every resource needs an
Allow, otherwise the call is implicitly denied. `denied_error()` is the
AccessDenied each protocol answers.

Supported policy grammar (anything else is refused when the policy is set,
so a test cannot pass through an element the simulation ignores): Version,
Id, Statement (object or list) with Sid, Effect, Action/NotAction,
Resource/NotResource, Condition with StringEquals, StringNotEquals,
StringLike, StringNotLike, StringEqualsIgnoreCase, ArnEquals, ArnLike
(optionally prefixed ForAllValues: / ForAnyValue:, suffixed IfExists).
Wildcards `*` and `?` in actions (case-insensitive) and resources.
"""
import fnmatch
import re

from awsproto import AwsError

OPERATORS = {'StringEquals', 'StringNotEquals', 'StringLike', 'StringNotLike', 'StringEqualsIgnoreCase',
             'ArnEquals', 'ArnLike'}
STATEMENT_KEYS = {'Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'}


def _list(v):
    return v if isinstance(v, list) else [v]


def check_document(doc):
    """Raises ValueError naming what IAM (or the simulation) would not take."""
    if not isinstance(doc, dict):
        raise ValueError('a policy document is a JSON object')
    unknown = set(doc) - {'Version', 'Id', 'Statement'}
    if unknown:
        raise ValueError('unknown policy elements %s' % sorted(unknown))
    if doc.get('Version') != '2012-10-17':
        raise ValueError('policy Version must be 2012-10-17')
    sids = set()
    for st in _list(doc.get('Statement', [])):
        if not isinstance(st, dict):
            raise ValueError('a Statement is a JSON object')
        unknown = set(st) - STATEMENT_KEYS
        if unknown:
            raise ValueError('unknown statement elements %s (the simulation evaluates only %s)'
                             % (sorted(unknown), sorted(STATEMENT_KEYS)))
        if st.get('Effect') not in ('Allow', 'Deny'):
            raise ValueError('Effect must be Allow or Deny')
        if ('Action' in st) == ('NotAction' in st) or ('Resource' in st) == ('NotResource' in st):
            raise ValueError('a statement needs exactly one of Action/NotAction and of Resource/NotResource')
        if 'Sid' in st:
            if not re.fullmatch(r'[A-Za-z0-9]*', st['Sid']):
                raise ValueError('Sid %r: IAM allows only letters and digits' % st['Sid'])
            if st['Sid'] in sids:
                raise ValueError('Sid %r appears twice' % st['Sid'])
            sids.add(st['Sid'])
        for op, kv in (st.get('Condition') or {}).items():
            base = op.split(':')[-1]
            if base.endswith('IfExists'):
                base = base[:-len('IfExists')]
            if base not in OPERATORS or (':' in op and op.split(':')[0] not in ('ForAllValues', 'ForAnyValue')):
                raise ValueError('condition operator %s is not one the simulation evaluates' % op)
            if not isinstance(kv, dict):
                raise ValueError('condition %s takes an object of keys' % op)


def _wild(pattern, value, case=True):
    if not case:
        pattern, value = pattern.lower(), value.lower()
    # fnmatch's [] sets are not IAM syntax: escape them.
    rx = fnmatch.translate(pattern.replace('[', '[[]'))
    return re.match(rx, value, re.S) is not None


def _cond_one(base, want, have):
    if base in ('StringEquals', 'ArnEquals'):
        return have in want
    if base == 'StringEqualsIgnoreCase':
        return have.lower() in [w.lower() for w in want]
    if base in ('StringLike', 'ArnLike'):
        return any(_wild(w, have) for w in want)
    if base == 'StringNotEquals':
        return have not in want
    if base == 'StringNotLike':
        return not any(_wild(w, have) for w in want)
    raise ValueError(base)


def _conditions_hold(cond, ctx):
    for op, kv in (cond or {}).items():
        qual, _, base = op.rpartition(':')
        if_exists = base.endswith('IfExists')
        if if_exists:
            base = base[:-len('IfExists')]
        for key, want in kv.items():
            want = [str(w) for w in _list(want)]
            have = ctx.get(key.lower())
            if have is None:
                if if_exists or qual == 'ForAllValues' or base.startswith(('StringNot',)):
                    continue
                return False
            have = _list(have)
            if qual == 'ForAllValues':
                ok = all(_cond_one(base, want, h) for h in have)
            else:
                ok = any(_cond_one(base, want, h) for h in have)
            if not ok:
                return False
    return True


def _matches(st, action, resource, ctx):
    if 'Action' in st:
        hit = any(_wild(a, action, case=False) for a in _list(st['Action']))
    else:
        hit = not any(_wild(a, action, case=False) for a in _list(st['NotAction']))
    if not hit:
        return False
    if 'Resource' in st:
        hit = any(_wild(r, resource) for r in _list(st['Resource']))
    else:
        hit = not any(_wild(r, resource) for r in _list(st['NotResource']))
    return hit and _conditions_hold(st.get('Condition'), ctx)


def evaluate(docs, action, resources, ctx):
    """('allow', None) or ('explicit'|'implicit', the resource denied)."""
    ctx = {k.lower(): v for k, v in ctx.items()}
    for res in resources:
        for d in docs:
            for st in _list(d.get('Statement', [])):
                if st['Effect'] == 'Deny' and _matches(st, action, res, ctx):
                    return 'explicit', res
    for res in resources:
        if not any(st['Effect'] == 'Allow' and _matches(st, action, res, ctx)
                   for d in docs for st in _list(d.get('Statement', []))):
            return 'implicit', res
    return 'allow', None


# ---------------------------------------------------------------- resources
def _env_name(world, p):
    if p.get('EnvironmentName'):
        return p['EnvironmentName']
    if p.get('EnvironmentId'):
        for e in world.envs:
            if e.get('id') == p['EnvironmentId']:
                return e['name']
        return p['EnvironmentId']
    return '*'


def _env_app(world, name, p):
    if p.get('ApplicationName'):
        return p['ApplicationName']
    apps = {e['app'] for e in world.envs if e['name'] == name}
    return apps.pop() if len(apps) == 1 else '*'


def resources(world, service, op, p):
    """The ARNs an operation is authorised against (['*'] when the action has
    no resource-level permission), from the request and the world. [] when
    there is nothing to authorise against: an EB environment named without
    its application that does not exist (the operation answers its own
    not-found error, as EB does)."""
    rg, acct = world.region, world.account
    eb = 'arn:aws:elasticbeanstalk:%s:%s:' % (rg, acct)
    rds = 'arn:aws:rds:%s:%s:' % (rg, acct)
    ec2 = 'arn:aws:ec2:%s:%s:' % (rg, acct)
    if service == 'elasticbeanstalk':
        if op == 'DescribeEnvironments':
            app = p.get('ApplicationName') or '*'
            names = list(p.get('EnvironmentNames') or [])
            names += [_env_name(world, {'EnvironmentId': i}) for i in p.get('EnvironmentIds') or []]
            return ['%senvironment/%s/%s' % (eb, _env_app(world, n, p), n) for n in names] or \
                ['%senvironment/%s/*' % (eb, app)]
        if op in ('CreateConfigurationTemplate', 'DeleteConfigurationTemplate') or \
                (op == 'DescribeConfigurationSettings' and p.get('TemplateName')):
            return ['%sconfigurationtemplate/%s/%s' % (eb, p['ApplicationName'], p.get('TemplateName', '*'))]
        if op == 'DescribeEvents' and not (p.get('EnvironmentName') or p.get('EnvironmentId')):
            return ['%sapplication/%s' % (eb, p.get('ApplicationName') or '*')]
        name = _env_name(world, p)
        app = _env_app(world, name, p)
        if app == '*' and op != 'CreateEnvironment':
            # Named without its application and not found: EB cannot build the
            # ARN, and answers that the environment does not exist.
            return []
        return ['%senvironment/%s/%s' % (eb, app, name)]
    if service == 'rds':
        if op == 'CreateDBSnapshot':
            return [rds + 'db:' + p['DBInstanceIdentifier'], rds + 'snapshot:' + p['DBSnapshotIdentifier']]
        if op == 'DescribeDBSnapshots':
            if p.get('DBSnapshotIdentifier'):
                return [rds + 'snapshot:' + p['DBSnapshotIdentifier']]
            if p.get('DBInstanceIdentifier'):
                return [rds + 'db:' + p['DBInstanceIdentifier']]
            return [rds + 'snapshot:*']
        if op == 'RestoreDBInstanceFromDBSnapshot':
            out = [rds + 'db:' + p['DBInstanceIdentifier'], rds + 'snapshot:' + p.get('DBSnapshotIdentifier', '*')]
            if p.get('DBSubnetGroupName'):
                out.append(rds + 'subgrp:' + p['DBSubnetGroupName'])
            if p.get('DBParameterGroupName'):
                out.append(rds + 'pg:' + p['DBParameterGroupName'])
            if p.get('OptionGroupName'):
                out.append(rds + 'og:' + p['OptionGroupName'])
            return out
        if op == 'CreateDBInstanceReadReplica':
            # Both instances: the new replica and its source (an ARN, or an id).
            src = p['SourceDBInstanceIdentifier']
            out = [rds + 'db:' + p['DBInstanceIdentifier'], src if src.startswith('arn:') else rds + 'db:' + src]
            if p.get('DBSubnetGroupName'):
                out.append(rds + 'subgrp:' + p['DBSubnetGroupName'])
            if p.get('DBParameterGroupName'):
                out.append(rds + 'pg:' + p['DBParameterGroupName'])
            return out
        return [rds + 'db:' + (p.get('DBInstanceIdentifier') or '*')]
    if service == 'route53':
        if op == 'ListHostedZonesByName':
            return ['*']
        if op == 'GetChange':
            return ['arn:aws:route53:::change/' + p['Id'].split('/')[-1]]
        return ['arn:aws:route53:::hostedzone/' + p['HostedZoneId'].split('/')[-1]]
    if service == 'ec2':
        if op in ('AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress'):
            return [ec2 + 'security-group/' + (p.get('GroupId') or p.get('GroupName') or '*')]
        return ['*']
    if service == 'ec2-instance-connect':
        return [ec2 + 'instance/' + p['InstanceId']]
    if service == 'sts':
        if op == 'AssumeRole':
            return [p['RoleArn']]
        return ['*']
    return ['*']


def context(service, op, p):
    """Service condition keys AWS supplies with the request (those the
    simulation knows)."""
    if service == 'ec2-instance-connect':
        return {'ec2:osuser': p.get('InstanceOSUser', '')}
    if service == 'route53' and op == 'ChangeResourceRecordSets':
        changes = (p.get('ChangeBatch') or {}).get('Changes') or []
        return {'route53:ChangeResourceRecordSetsNormalizedRecordNames':
                [c['ResourceRecordSet']['Name'].lower().rstrip('.') for c in changes],
                'route53:ChangeResourceRecordSetsActions': [c['Action'] for c in changes],
                'route53:ChangeResourceRecordSetsRecordTypes': [c['ResourceRecordSet']['Type'] for c in changes]}
    return {}


def checks(world, service, op, p):
    """Every (action, resources, condition context) AWS authorises for one
    request: the operation's own action, and what it implies (a restore that
    tags the new instance also needs rds:AddTagsToResource on it)."""
    out = [('%s:%s' % (service, op), resources(world, service, op, p), context(service, op, p))]
    if service == 'rds' and op in ('RestoreDBInstanceFromDBSnapshot', 'CreateDBInstanceReadReplica') and p.get('Tags'):
        out.append(('rds:AddTagsToResource', resources(world, service, op, p)[:1], {}))
    return out


def denied_error(service, caller_arn, action, resource, how):
    """The AccessDenied AWS answers, in the service's protocol (the caller
    serialises it): query and rest-xml AccessDenied 403, EC2
    UnauthorizedOperation 403 with an encoded message, JSON
    AccessDeniedException 400."""
    why = ('with an explicit deny in an identity-based policy' if how == 'explicit'
           else 'because no identity-based policy allows the %s action' % action)
    on = '' if resource == '*' else ' on resource: %s' % resource
    msg = 'User: %s is not authorized to perform: %s%s %s' % (caller_arn, action, on, why)
    if service == 'ec2':
        import base64
        import hashlib
        blob = base64.b64encode(hashlib.sha256(msg.encode()).digest() * 3).decode().rstrip('=')
        return AwsError('UnauthorizedOperation', 'You are not authorized to perform this operation. %s. '
                        'Encoded authorization failure message: %s' % (msg, blob), 403)
    if service == 'ec2-instance-connect':
        return AwsError('AccessDeniedException', msg, 400)
    return AwsError('AccessDenied', msg, 403)
