#!/usr/bin/python3
"""The simulated production's users, load balancer health checks and cron.

    traffic.py run DIR          run until killed (tests/sim/up starts it)
    traffic.py ctl DIR K=V...   change a setting of the running generator
    traffic.py cron DIR [ID..]  play one round of cron now on the running
                                instances (or the ones named); prints JSON

Users: page views and writes (event entries, payments) sent to the instances
of whichever environment the DNS records myabf.com.au and www.myabf.com.au
point at (read from the simulated AWS's state each second), with
Host: myabf.com.au, as the load balancer would forward them. When their
requests get the maintenance page (503) they give up: the rate falls linearly
to nothing within `giveup` seconds, and stays there until the environment
they reach is out of maintenance mode again (real users come back).

Health checks: every `health_interval` seconds, GET /accounts/login/ with
User-Agent ELB-HealthChecker/2.0 on every instance of every environment,
whatever its maintenance mode or DNS: they never stop.

Cron: every `cron_interval` seconds (0: never), each running instance's
crontab stand-in is played once (tests/fixture/cron-tick), as its own cron
daemon would; the fixture's jobs write to the database through maintenance
mode, which is why a cutover must pause cron before the snapshot.

Resolvers that ignore the TTL: when the web records move to another
environment, a share `stale_share` of the users' page views keeps going to
the environment they pointed at before, falling linearly to nothing over
`stale_hold` seconds (each such user's resolver lets go at its own time),
whatever its maintenance mode and without making the others give up. This
is the DNS tail a cutover's dns-tail step measures; the counters' `stale`
holds {env, since, requests}.

Settings (environment at start, or `ctl` later): view_rate (default 3 per s),
entry_rate (0.2), payment_rate (0.2), health_interval (2), giveup (10),
cron_interval (60), paused (0/1: users only), stale_share (0: every resolver
honours the TTL), stale_hold (60). As SIM_VIEW_RATE etc.

Counters go to DIR/traffic/counters.json twice a second (tests/sim/dump shows them).
"""
import concurrent.futures
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402

DEFAULTS = {'view_rate': 3.0, 'entry_rate': 0.2, 'payment_rate': 0.2, 'health_interval': 2.0,
            'giveup': 10.0, 'cron_interval': 60.0, 'paused': 0, 'stale_share': 0.0, 'stale_hold': 60.0}
MEMBERS = [518001, 518002, 518003, 518004, 518005, 518006]
VIEW_PATHS = ['/dashboard', '/accounts/login/', '/dashboard']
WEB_RECORDS = ('myabf.com.au.', 'www.myabf.com.au.')
HC_AGENT = 'ELB-HealthChecker/2.0'
USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) cobalt-sim-user'


def settings(d):
    s = dict(DEFAULTS)
    for k in s:
        v = os.environ.get('SIM_' + k.upper())
        if v is not None:
            s[k] = float(v)
    try:
        with open(os.path.join(d, 'traffic', 'control.json')) as f:
            s.update({k: float(v) for k, v in json.load(f).items() if k in DEFAULTS})
    except (OSError, ValueError):
        pass
    return s


def world(admin):
    with urllib.request.urlopen(admin + '/state', timeout=5) as r:
        return json.load(r)


def view_of(w):
    """Environments (name -> cname, maintenance, instance addresses) and
    where each web record points."""
    inst = {i['id']: i for i in w['instances'] if i['state'] == 'running'}
    envs = {}
    for e in w['environments']:
        if e['status'] == 'Terminated':
            continue
        envs[e['name']] = {'cname': e['cname'].rstrip('.').lower(),
                           'maintenance': e['env_vars'].get('MAINTENANCE_MODE') == 'ON',
                           'addrs': [inst[i]['private_ip'] for i in e['instances'] if i in inst]}
    by_cname = {v['cname']: k for k, v in envs.items()}
    target = {}
    for z in w['zones']:
        for r in z['records']:
            if r['Name'] in WEB_RECORDS and r['Type'] in ('A', 'CNAME'):
                dest = r.get('AliasTarget', {}).get('DNSName') or \
                    (r.get('ResourceRecords') or [{}])[0].get('Value', '')
                target[r['Name'].rstrip('.')] = by_cname.get(dest.rstrip('.').lower())
    return envs, target


def request(addr, port, method, path, host, agent, body=None):
    """Returns the HTTP status, or 'error' when no answer came (nginx's 444
    closes the connection)."""
    c = http.client.HTTPConnection(addr, port, timeout=5)
    try:
        headers = {'Host': host, 'User-Agent': agent, 'X-Forwarded-For': '203.0.113.%d' % random.randint(1, 254)}
        if body is not None:
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        return r.status, data
    except (OSError, http.client.HTTPException):
        return 'error', b''
    finally:
        c.close()


class Generator:
    def __init__(self, d):
        self.d = d
        self.st = simlib.State(d)
        self.admin = self.st.data['fakeaws']['admin']
        self.port = self.st.data['http_port']
        self.lock = threading.Lock()
        self.envs, self.target = {}, {}
        self.maint_since = None
        self.c = {'started': time.time(), 'updated': None, 'settings': {}, 'user_factor': 1.0,
                  'maintenance_seen_at': None, 'target': {}, 'envs': {}, 'errors': [],
                  'totals': {'user_requests': 0, 'writes': 0, 'writes_in_maintenance': 0, 'health_checks': 0},
                  'cron': {'rounds': 0, 'jobs_failed': 0, 'last': None, 'instances': {}},
                  'stale': {'env': None, 'since': None, 'requests': 0}}
        self.pool = concurrent.futures.ThreadPoolExecutor(8)
        self.inflight = 0

    def env_c(self, name):
        return self.c['envs'].setdefault(name, {
            'views': 0, 'entries': 0, 'payments': 0, 'status': {}, 'health_checks': 0, 'health_ok': 0,
            'last_user_request': None, 'last_health_check': None, 'entry_ids': [], 'payment_ids': []})

    def save(self):
        with self.lock:
            self.c['updated'] = time.time()
            text = json.dumps(self.c, indent=1, sort_keys=True)
        path = os.path.join(self.d, 'traffic', 'counters.json')
        with open(path + '.tmp', 'w') as f:
            f.write(text)
        os.replace(path + '.tmp', path)

    def user(self, env, addr, kind, stale=False):
        try:
            if kind == 'views':
                status, data = request(addr, self.port, 'GET', random.choice(VIEW_PATHS), simlib.SITE, USER_AGENT)
            elif kind == 'entries':
                a, b = random.sample(MEMBERS, 2)
                status, data = request(addr, self.port, 'POST', '/events/entry', simlib.SITE, USER_AGENT,
                                       'event_id=1&system_number=%d&partner=%d' % (a, b))
            else:
                status, data = request(addr, self.port, 'POST', '/payments/pay', simlib.SITE, USER_AGENT,
                                       'system_number=%d&organisation_id=%d&amount=%d.00'
                                       % (random.choice(MEMBERS), random.choice((2, 3)), random.randint(5, 60)))
            with self.lock:
                ec = self.env_c(env)
                ec[kind] += 1
                ec['status'][str(status)] = ec['status'].get(str(status), 0) + 1
                ec['last_user_request'] = time.time()
                self.c['totals']['user_requests'] += 1
                if stale:
                    # Not a user of the live site: they give up on no one's behalf.
                    self.c['stale']['requests'] += 1
                    return
                if kind != 'views':
                    self.c['totals']['writes'] += 1
                    if status == 503:
                        self.c['totals']['writes_in_maintenance'] += 1
                    elif status == 200:
                        key = 'entry_ids' if kind == 'entries' else 'payment_ids'
                        try:
                            doc = json.loads(data)
                            ec[key] = (ec[key] + [doc.get('event_entry_id') or doc.get('stripe_transaction_id')])[-50:]
                        except ValueError:
                            pass
                if status == 503 and self.maint_since is None:
                    self.maint_since = time.time()
        finally:
            with self.lock:
                self.inflight -= 1

    def health(self, env, addr):
        status, _ = request(addr, self.port, 'GET', '/accounts/login/', addr, HC_AGENT)
        with self.lock:
            ec = self.env_c(env)
            ec['health_checks'] += 1
            ec['health_ok'] += status in (200, 301)
            ec['last_health_check'] = time.time()
            self.c['totals']['health_checks'] += 1

    def refresh(self):
        try:
            envs, target = view_of(world(self.admin))
        except Exception as e:  # fakeaws busy or gone: keep the last view
            with self.lock:
                self.c['errors'] = (self.c['errors'] + ['%.0f state: %s' % (time.time(), e)])[-10:]
            return
        with self.lock:
            old = self.web_target(self.envs, self.target)
            new = self.web_target(envs, target)
            if old is not None and new is not None and new != old:
                self.c['stale'] = {'env': old, 'since': time.time(), 'requests': 0}
            self.envs, self.target = envs, target
            self.c['target'] = dict(target)
            # Users come back once the site they reach is out of maintenance.
            live = [t for t in target.values() if t in envs]
            if self.maint_since is not None and live and not any(envs[t]['maintenance'] for t in live):
                self.maint_since = None

    @staticmethod
    def web_target(envs, target):
        t = target.get(WEB_RECORDS[0].rstrip('.'))
        return t if t in envs else None

    def stale_factor(self, s):
        """The share of page views whose resolver still has the old address."""
        st = self.c['stale']
        if st['since'] is None or s['stale_share'] <= 0:
            return 0.0
        return s['stale_share'] * max(0.0, 1.0 - (time.time() - st['since']) / max(s['stale_hold'], 0.001))

    def factor(self, s):
        if self.maint_since is None:
            return 1.0
        return max(0.0, 1.0 - (time.time() - self.maint_since) / max(s['giveup'], 0.001))

    def cron_loop(self):
        last = time.time()  # the first round one interval after start, as cron would
        while True:
            time.sleep(0.5)
            iv = settings(self.d)['cron_interval']
            if iv <= 0 or time.time() - last < iv:
                continue
            last = time.time()
            res = cron_round(self.d, [i for e in list(self.envs.values()) for i in e['addrs']])
            with self.lock:
                note_cron(self.c['cron'], res)

    def run(self):
        threading.Thread(target=self.cron_loop, daemon=True).start()
        self.refresh()
        self.save()
        tick, last_refresh, last_save, last_hc = 0.1, 0.0, 0.0, 0.0
        while True:
            t0 = time.time()
            s = settings(self.d)
            if t0 - last_refresh >= 1.0:
                self.refresh()
                last_refresh = t0
            with self.lock:
                f = self.factor(s)
                self.c['user_factor'] = f
                self.c['maintenance_seen_at'] = self.maint_since
                self.c['settings'] = s
                envs, target = self.envs, self.target
            dests = [t for t in target.values() if t in envs and envs[t]['addrs']]
            if dests and not s['paused'] and f > 0:
                for kind, rate in (('views', s['view_rate']), ('entries', s['entry_rate']),
                                   ('payments', s['payment_rate'])):
                    if random.random() < rate * f * tick and self.inflight < 16:
                        env = random.choice(dests)
                        with self.lock:
                            self.inflight += 1
                        self.pool.submit(self.user, env, random.choice(envs[env]['addrs']), kind)
            with self.lock:
                sf, old = self.stale_factor(s), self.c['stale']['env']
            if sf > 0 and not s['paused'] and old in envs and envs[old]['addrs'] and \
                    random.random() < s['view_rate'] * sf * tick and self.inflight < 16:
                with self.lock:
                    self.inflight += 1
                self.pool.submit(self.user, old, random.choice(envs[old]['addrs']), 'views', True)
            if t0 - last_hc >= s['health_interval']:
                last_hc = t0
                for name, e in envs.items():
                    for a in e['addrs']:
                        self.pool.submit(self.health, name, a)
            if t0 - last_save >= 0.5:
                self.save()
                last_save = t0
            time.sleep(max(0.0, tick - (time.time() - t0)))


def cron_round(d, addrs=None, ids=None):
    """Plays every running instance's crontab once; {instance: {rc, output}}."""
    st = simlib.State(d)
    tick = os.path.join(simlib.FIXTURE, 'cron-tick')
    out = {}
    uid, gid = simlib.ssh_uid()
    for iid, h in sorted(st.data['hosts'].items()):
        if not h.get('running') or (ids and iid not in ids) or (addrs is not None and h['address'] not in addrs):
            continue
        if not os.path.exists(tick):
            out[iid] = {'rc': None, 'output': 'tests/fixture/cron-tick is missing'}
            continue
        try:
            r = subprocess.run([tick, h['root']], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=120, user=uid, group=gid, extra_groups=[], cwd=h['root'],
                               env={'PATH': '/usr/bin:/bin', 'HOME': h['root'], 'LANG': 'C.UTF-8'})
            out[iid] = {'rc': r.returncode, 'output': r.stdout[-2000:]}
        except subprocess.TimeoutExpired:
            out[iid] = {'rc': -1, 'output': 'cron round timed out'}
    return out


def note_cron(c, res):
    c['rounds'] += 1
    c['last'] = time.time()
    for iid, r in res.items():
        ic = c['instances'].setdefault(iid, {'runs': 0, 'failed': 0, 'last_rc': None})
        ic['runs'] += 1
        ic['last_rc'] = r['rc']
        if r['rc'] != 0:
            ic['failed'] += 1
            c['jobs_failed'] += 1


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ('run', 'ctl', 'cron'):
        print(__doc__.split('\n\n')[1], file=sys.stderr)
        return 2
    cmd, d = sys.argv[1], os.path.abspath(sys.argv[2])
    if cmd == 'run':
        Generator(d).run()
    elif cmd == 'ctl':
        path = os.path.join(d, 'traffic', 'control.json')
        try:
            with open(path) as f:
                cur = json.load(f)
        except (OSError, ValueError):
            cur = {}
        for kv in sys.argv[3:]:
            k, _, v = kv.partition('=')
            if k not in DEFAULTS:
                print('traffic ctl: unknown setting %s (known: %s)' % (k, ', '.join(DEFAULTS)), file=sys.stderr)
                return 2
            cur[k] = float(v)
        with open(path + '.tmp', 'w') as f:
            json.dump(cur, f)
        os.replace(path + '.tmp', path)
    else:
        res = cron_round(d, ids=set(sys.argv[3:]) or None)
        print(json.dumps(res, indent=1))
        return 0 if all(r['rc'] == 0 for r in res.values()) else 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
