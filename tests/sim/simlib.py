"""simlib: the pieces of the simulated production that hold real servers.

Shared by tests/sim/up (which brings the first world up), tests/sim/hooks.py
(which fakeaws calls as the world changes), tests/sim/down and tests/sim/dump.

One simulation lives in one folder DIR:

  DIR/sim.json               addresses, ports and the registry of hosts and databases
  DIR/world.json             the fakeaws world (default world with our addresses)
  DIR/hosts/<instance-id>/   one EB instance: the login HOME of its sshd, laid out by
                             tests/fixture/lay-instance (var/app/current, venv, env file,
                             var/log/nginx/access.log, var/spool/cron/root) plus
                             etc/ssh (sshd config, host keys, authorized keys)
  DIR/pg/<db-id>/            one RDS instance: a PostgreSQL 15 cluster (data, socket, log)
  DIR/snapshots/<id>.dump    pg_dump -Fc of a snapshot, taken at snapshot_created time
  DIR/ssh/                   the operator's side: key pair "cobalt", known_hosts
  DIR/traffic/               the traffic generator's counters

Every instance has its own loopback address 127.A.B.N (A.B picked at random per
simulation, so two simulations on one machine never share an address); sshd
listens on port 22 on all of them, the web app on 80 and every database on
5432, as on AWS (or on free common ports where those are taken).

Nothing here is global to the machine except the login user (SIM_SSH_USER,
default cutover-t, the same user tests/harness/services/sshd-hosts uses) and a
cache of built database clusters (SIM_CACHE, default /tmp/cutover-sim-cache)
keyed by a hash of the fixture app, so a second `up` does not migrate again.
"""
import datetime
import glob
import hashlib
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
FIXTURE = os.path.join(TOP, 'tests', 'fixture')
SIM = os.path.join(TOP, 'tests', 'sim')
PY = '/usr/bin/python3'
PGBIN = sorted(glob.glob('/usr/lib/postgresql/*/bin'), key=lambda p: int(p.split('/')[-2]))[-1]
SSH_USER = os.environ.get('SIM_SSH_USER', 'cutover-t')
CACHE = os.environ.get('SIM_CACHE', '/tmp/cutover-sim-cache')
SITE = 'myabf.com.au'
ENV_FILE = 'opt/elasticbeanstalk/deployment/env'
# Which address each kind of thing gets inside 127.A.B.0/24.
INSTANCE_FIRST, INSTANCE_LAST = 10, 189
DB_FIRST, DB_LAST = 200, 239
LB_FIRST, LB_LAST = 190, 199  # the environments' load balancers (lb.py)
MPC_HOST = 250


def log(dirpath, msg):
    with open(os.path.join(dirpath, 'sim.log'), 'a') as f:
        f.write('%s %s\n' % (datetime.datetime.now().strftime('%H:%M:%S.%f')[:-3], msg))


# ------------------------------------------------------------------ state
class State:
    """DIR/sim.json. Several processes change it (up, and the hooks inside
    fakeaws), so every change happens inside `with state.lock:`, which takes
    a file lock and re-reads the file first; save() inside it writes it back."""

    def __init__(self, d):
        self.dir = os.path.abspath(d)
        self.path = os.path.join(self.dir, 'sim.json')
        self._tlock = threading.RLock()
        self._depth = 0
        self._fd = None
        self.reload()

    def reload(self):
        with open(self.path) as f:
            self.data = json.load(f)

    @property
    def lock(self):
        return self

    def __enter__(self):
        self._tlock.acquire()
        self._depth += 1
        if self._depth == 1:
            import fcntl
            self._fd = open(self.path + '.lock', 'a')
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            self.reload()
        return self

    def __exit__(self, *exc):
        self._depth -= 1
        if self._depth == 0:
            self._fd.close()  # releases the flock
            self._fd = None
        self._tlock.release()
        return False

    def save(self):
        with self.lock:
            tmp = self.path + '.tmp.%d' % os.getpid()
            with open(tmp, 'w') as f:
                json.dump(self.data, f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)

    def addr(self, n):
        return '%s.%d' % (self.data['net'], n)

    def _next_addr(self, counter, last, ports, what):
        """The next unused address of a kind whose ports are all free."""
        with self.lock:
            while True:
                n = self.data[counter]
                if n > last:
                    raise RuntimeError('the simulation ran out of %s addresses' % what)
                self.data[counter] = n + 1
                a = self.addr(n)
                if all(port_free(a, self.data[p]) for p in ports):
                    self.save()
                    return a

    def next_instance_addr(self):
        return self._next_addr('next_instance', INSTANCE_LAST, ('ssh_port', 'http_port'), 'instance')

    def next_db_addr(self):
        return self._next_addr('next_db', DB_LAST, ('db_port',), 'database')

    def next_lb_addr(self, env_name):
        """A load balancer address for a new environment; lb.py starts
        listening there within a moment."""
        with self.lock:
            a = self._next_addr('next_lb', LB_LAST, ('http_port',), 'load balancer')
            self.data.setdefault('lbs', {})[env_name] = a
            self.save()
            return a


def port_free(addr, port):
    s = socket.socket()
    try:
        s.bind((addr, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


# The ports of the real thing: sshd on 22, nginx on 80, RDS on 5432. Each
# simulation has its own addresses, so two simulations can both use them.
REAL_PORTS = (22, 80, 5432)


def pick_network_and_ports(n_check=40):
    """A random 127.A.B.0/24 and three ports free on its first n_check
    instance addresses and on every database address: the real ports when
    they are free there, else free ones."""
    rng = random.SystemRandom()
    for _ in range(50):
        net = '127.%d.%d' % (rng.randint(1, 254), rng.randint(1, 254))
        inst = ['%s.%d' % (net, INSTANCE_FIRST + i) for i in range(n_check)]
        dbs = ['%s.%d' % (net, n) for n in range(DB_FIRST, DB_FIRST + 8)]
        ports = []
        for addrs, real in zip((inst, inst, dbs), REAL_PORTS):
            if os.environ.get('SIM_REAL_PORTS', '1') != '0' and all(port_free(a, real) for a in addrs):
                ports.append(real)
                continue
            for _ in range(50):
                s = socket.socket()
                s.bind((addrs[0], 0))
                p = s.getsockname()[1]
                s.close()
                if p not in ports and all(port_free(a, p) for a in addrs):
                    ports.append(p)
                    break
        if len(ports) == 3:
            return net, ports[0], ports[1], ports[2]
    raise RuntimeError('no free loopback network and ports found')


def wait_tcp(addr, port, timeout=20.0, proc=None):
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            socket.create_connection((addr, port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def ssh_uid():
    pw = pwd.getpwnam(SSH_USER)
    return pw.pw_uid, pw.pw_gid


def ensure_ssh_user():
    """The login user, like ec2-user on EB: passwordless sudo. Same steps as
    tests/harness/services/sshd-hosts, so either may create it first."""
    try:
        pwd.getpwnam(SSH_USER)
    except KeyError:
        subprocess.run(['useradd', '-M', '-d', '/home/' + SSH_USER, '-s', '/bin/bash', SSH_USER],
                       stderr=subprocess.DEVNULL)
        pwd.getpwnam(SSH_USER)
    home = '/home/' + SSH_USER
    os.makedirs(home, exist_ok=True)
    uid, gid = ssh_uid()
    os.chown(home, uid, gid)
    # "*": no password, yet not locked (sshd without PAM refuses locked accounts).
    subprocess.run(['usermod', '-p', '*', SSH_USER], check=True)
    sudoers = '/etc/sudoers.d/' + SSH_USER
    if not os.path.exists(sudoers):
        tmp = '/etc/sudoers.d/.%s.%d' % (SSH_USER, os.getpid())
        with open(tmp, 'w') as f:
            f.write('%s ALL=(ALL) NOPASSWD: ALL\n' % SSH_USER)
        os.chmod(tmp, 0o440)
        os.replace(tmp, sudoers)
    os.makedirs('/run/sshd', exist_ok=True)


# ------------------------------------------------------------------ hosts
def host_root(d, iid):
    return os.path.join(d, 'hosts', iid)


def read_env_file(path):
    out = {}
    try:
        with open(path, encoding='utf-8') as f:
            for line in f:
                line = line.rstrip('\n')
                if '=' in line:
                    k, v = line.split('=', 1)
                    out[k] = v
    except FileNotFoundError:
        pass
    return out


def utc_stamp(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y%m%d%H%M%SZ')


class Hosts:
    """Brings EB instances up and down as real sshd + web app pairs."""

    def __init__(self, state):
        self.st = state
        self.d = state.dir

    def _pubkey(self):
        with open(os.path.join(self.d, 'ssh', 'cobalt_ed25519.pub')) as f:
            return f.read()

    def lay_out(self, iid, addr, env_vars):
        root = host_root(self.d, iid)
        os.makedirs(root, exist_ok=True)
        os.chmod(root, 0o755)
        # Values travel in a private file, never on a command line (they
        # include RDS_PASSWORD and SECRET_KEY).
        vf = os.path.join(root, '.env-from')
        write_private(vf, ''.join('%s=%s\n' % kv for kv in env_vars.items()))
        try:
            subprocess.run([os.path.join(FIXTURE, 'lay-instance'), root, '--owner', SSH_USER, '--env-from', vf],
                           check=True, stdout=subprocess.DEVNULL)
        finally:
            os.unlink(vf)
        uid, gid = ssh_uid()
        # The login user's HOME: it must be able to write there (~/.cache
        # holds the cutover agent).
        os.chown(root, uid, gid)
        for sub in ('var/lib', 'var/run'):
            p = os.path.join(root, sub)
            os.makedirs(p, exist_ok=True)
            os.chown(p, uid, gid)
        # The instance's own programs come first on PATH (sshd's SetEnv):
        # `crontab` is the stand-in working on this instance's spool.
        ubin = os.path.join(root, 'usr', 'bin')
        os.makedirs(ubin, exist_ok=True)
        if not os.path.lexists(os.path.join(ubin, 'crontab')):
            os.symlink(os.path.join(SIM, 'crontab'), os.path.join(ubin, 'crontab'))
        etc = os.path.join(root, 'etc', 'ssh')
        os.makedirs(etc, exist_ok=True)
        for t in ('ed25519', 'ecdsa'):
            kf = os.path.join(etc, 'ssh_host_%s_key' % t)
            if not os.path.exists(kf):
                subprocess.run(['ssh-keygen', '-q', '-t', t, '-N', '', '-C', iid, '-f', kf], check=True)
        with open(os.path.join(etc, 'authorized_keys'), 'w') as f:
            f.write(self._pubkey())
        open(os.path.join(etc, 'eic_keys'), 'a').close()
        os.chmod(os.path.join(etc, 'eic_keys'), 0o644)
        with open(os.path.join(etc, 'sshd_config'), 'w') as f:
            f.write('\n'.join([
                'Port %d' % self.st.data['ssh_port'],
                'ListenAddress %s' % addr,
                'HostKey %s/ssh_host_ecdsa_key' % etc,
                'HostKey %s/ssh_host_ed25519_key' % etc,
                'PidFile %s/sshd.pid' % etc,
                # The key pair the instance was launched with, and keys pushed
                # with EC2 Instance Connect (each line carries its expiry-time).
                'AuthorizedKeysFile %s/authorized_keys %s/eic_keys' % (etc, etc),
                'AllowUsers %s' % SSH_USER,
                'UsePAM no', 'StrictModes no', 'PasswordAuthentication no',
                'KbdInteractiveAuthentication no', 'PermitRootLogin no',
                'SetEnv HOME=%s PATH=%s:/usr/local/bin:/usr/bin:/bin' % (root, ubin),
                'MaxStartups 100:30:200', 'MaxSessions 50',
                'Subsystem sftp internal-sftp', '']))
        return root

    def known_hosts_lines(self, iid, addrs):
        etc = os.path.join(host_root(self.d, iid), 'etc', 'ssh')
        lines = []
        for t in ('ed25519', 'ecdsa'):
            with open(os.path.join(etc, 'ssh_host_%s_key.pub' % t)) as f:
                kt, kb = f.read().split()[:2]
            port = self.st.data['ssh_port']
            for a in addrs:
                # ssh and libssh2 look port 22 up under the bare address.
                lines.append('%s %s %s\n' % (a if port == 22 else '[%s]:%d' % (a, port), kt, kb))
        return lines

    def start(self, iid, addr):
        """Starts sshd and the web app; returns once both answer."""
        root = host_root(self.d, iid)
        etc = os.path.join(root, 'etc', 'ssh')
        subprocess.run(['/usr/sbin/sshd', '-f', os.path.join(etc, 'sshd_config'), '-E',
                        os.path.join(etc, 'sshd.log')], check=True)
        uid, gid = ssh_uid()
        logf = open(os.path.join(root, 'var', 'log', 'web.log'), 'ab')
        env = {'PATH': '/usr/local/bin:/usr/bin:/bin', 'HOME': root, 'LANG': 'C.UTF-8'}
        # The app server runs as the login user (gunicorn runs as webapp on EB,
        # not as root), in its own session so a test's Ctrl-C does not reach it.
        # We bind the listening socket (port 80 needs root) and hand it to
        # the app, which keeps it across its restarts.
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((addr, self.st.data['http_port']))
        ls.listen(128)
        p = subprocess.Popen([PY, os.path.join(FIXTURE, 'serve'), root, '--bind', addr,
                              '--listen-fd', str(ls.fileno())],
                             stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, env=env, pass_fds=(ls.fileno(),),
                             user=uid, group=gid, extra_groups=[], start_new_session=True)
        logf.close()
        ls.close()
        ok = wait_tcp(addr, self.st.data['ssh_port'], 20) and wait_tcp(addr, self.st.data['http_port'], 30, p)
        if not ok:
            raise RuntimeError('instance %s at %s did not come up; see %s/var/log/web.log and %s/sshd.log'
                               % (iid, addr, root, etc))
        return p.pid

    def stop(self, iid):
        root = host_root(self.d, iid)
        for pidf in (os.path.join(root, 'etc', 'ssh', 'sshd.pid'),
                     os.path.join(root, 'var', 'run', 'cobalt-web.pid')):
            kill_pidfile(pidf)
        kill_strays(root)

    def set_env(self, iid, new_vars):
        """Rewrites the env file to exactly new_vars (as EB writes it: mode
        0600, owned by the login user) and restarts the app with
        tests/fixture/set-env, which sends SIGHUP and waits until it serves
        again. Returns the Popen so several instances restart at once."""
        root = host_root(self.d, iid)
        uid, gid = ssh_uid()
        envf = os.path.join(root, ENV_FILE)
        write_private(envf, ''.join('%s=%s\n' % kv for kv in new_vars.items()), uid, gid)
        args = [os.path.join(FIXTURE, 'set-env'), root]
        # As the file's owner (set-env writes a fresh 0600 file, which the
        # app, running as that user, must read), as EB's own agent would.
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, user=uid, group=gid, extra_groups=[], cwd=root,
                                env={'PATH': '/usr/bin:/bin', 'HOME': root, 'LANG': 'C.UTF-8'})

    def manage(self, iid, args, timeout=300):
        """manage.py ARGS on an instance, as its login user (tests/fixture/run-manage)."""
        root = host_root(self.d, iid)
        uid, gid = ssh_uid()
        return subprocess.run([os.path.join(FIXTURE, 'run-manage'), root] + args, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                              user=uid, group=gid, extra_groups=[], cwd=root,
                              env={'PATH': '/usr/bin:/bin', 'HOME': root, 'LANG': 'C.UTF-8'})

    def authorize_eic(self, iid, user, key, expires_wall):
        """EC2 Instance Connect: the key works for 60 s (sshd checks the
        expiry-time option itself)."""
        if user != SSH_USER:
            return
        etc = os.path.join(host_root(self.d, iid), 'etc', 'ssh')
        path = os.path.join(etc, 'eic_keys')
        now = utc_stamp(time.time())
        keep = []
        with open(path) as f:
            for line in f:
                if line.startswith('expiry-time="') and line[13:29] > now:
                    keep.append(line)
        keep.append('expiry-time="%s" %s\n' % (utc_stamp(expires_wall), key))
        tmp = path + '.tmp'
        with open(tmp, 'w') as f:
            f.writelines(keep)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)


def write_private(path, text, uid=None, gid=None):
    """Atomically replaces path with text, mode 0600 (owner uid:gid if given)."""
    tmp = '%s.tmp.%d' % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as f:
        f.write(text)
    if uid is not None:
        os.chown(tmp, uid, gid)
    os.replace(tmp, path)


def kill_pidfile(pidf, sig=signal.SIGTERM, wait=5.0):
    try:
        with open(pidf) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return
    kill_pid(pid, sig, wait)


def alive(pid):
    """False once the process has exited, zombie included (this machine's
    init reaps orphans only now and then)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return False


def kill_pid(pid, sig=signal.SIGTERM, wait=5.0):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    end = time.time() + wait
    while time.time() < end:
        if not alive(pid):
            return
        # Reap it if it is our child.
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def procs_under(path):
    """Pids of processes whose cwd or command line lies inside path."""
    out = []
    path = os.path.abspath(path) + '/'
    me = os.getpid()
    for p in os.listdir('/proc'):
        if not p.isdigit() or int(p) == me or not alive(int(p)):
            continue
        try:
            cwd = os.readlink('/proc/%s/cwd' % p) + '/'
        except OSError:
            cwd = ''
        try:
            with open('/proc/%s/cmdline' % p, 'rb') as f:
                cmd = f.read().replace(b'\0', b' ').decode('utf-8', 'replace')
        except OSError:
            continue
        if cwd.startswith(path) or path in cmd + '/':
            out.append(int(p))
    return out


def kill_strays(path):
    """Agents, manage.py runs and sessions left behind on an instance: they
    run with their cwd in the instance's folder, so they are ours."""
    for pid in procs_under(path):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# --------------------------------------------------------------- databases
def fixture_hash():
    h = hashlib.sha256(PGBIN.encode())
    for base in (os.path.join(FIXTURE, 'cobalt'),):
        for root, dirs, files in sorted(os.walk(base)):
            dirs[:] = sorted(x for x in dirs if x != '__pycache__')
            for fn in sorted(files):
                if fn.endswith('.py'):
                    p = os.path.join(root, fn)
                    h.update(p[len(base):].encode())
                    with open(p, 'rb') as f:
                        h.update(f.read())
    return h.hexdigest()[:16]


def checkout_blocked():
    """Every folder from the fixture up to / that other users cannot enter
    (no o+x), outermost first; [] when the instances' users can reach the
    fixture. All of them at once, so one chmod fixes the checkout."""
    p, out = FIXTURE, []
    while True:
        if not os.stat(p).st_mode & 0o001:
            out.insert(0, p)
        if p == '/':
            return out
        p = os.path.dirname(p)


def as_postgres(args, **kw):
    return subprocess.run(['runuser', '-u', 'postgres', '--'] + args, **kw)


def pg_tls(data):
    """RDS speaks TLS and the agent's psql requires it (sslmode=require):
    each cluster gets a self-signed certificate in its data folder (the
    server's default server.crt/server.key), made once; nothing verifies it."""
    key, crt = os.path.join(data, 'server.key'), os.path.join(data, 'server.crt')
    if os.path.exists(key) and os.path.exists(crt):
        return
    as_postgres(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                 '-days', '30', '-subj', '/CN=cutover-sim-rds', '-keyout', key, '-out', crt],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(key, 0o600)


def pg_start(data, sockdir, addr, port, logpath):
    pg_tls(data)
    as_postgres([PGBIN + '/pg_ctl', '-D', data, '-l', logpath, '-w', '-t', '60', '-o',
                 '-c listen_addresses=%s -p %d -k %s -c fsync=off -c synchronous_commit=off '
                 '-c full_page_writes=off -c max_connections=100 -c shared_buffers=16MB -c ssl=on'
                 % (addr, port, sockdir), 'start'], check=True, stdout=subprocess.DEVNULL)


def pg_stop(data, mode='fast'):
    if os.path.exists(os.path.join(data, 'postmaster.pid')):
        as_postgres([PGBIN + '/pg_ctl', '-D', data, '-m', mode, '-w', '-t', '30', 'stop'],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def data_root(d):
    """Where the clusters' data goes: a tmpfs when there is one with room
    (copying a 37 MB cluster onto this machine's disk takes seconds, into
    memory a tenth of one), else DIR/pg-data. `down` removes it."""
    try:
        sv = os.statvfs('/dev/shm')
        if sv.f_bavail * sv.f_frsize >= 512 * 1024 * 1024:
            import tempfile
            p = tempfile.mkdtemp(prefix='cutover-sim-', dir='/dev/shm')
            make_pgdir(p)
            return p
    except OSError:
        pass
    p = os.path.join(d, 'pg-data')
    make_pgdir(p)
    return p


def make_pgdir(path):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o755)
    shutil.chown(path, 'postgres')


def copy_cluster(src, dst):
    subprocess.run(['cp', '-a', src, dst], check=True)


def _run_fixture(root, args, what):
    r = subprocess.run([os.path.join(FIXTURE, 'run-manage'), root] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RuntimeError('%s failed: %s' % (what, r.stdout[-2000:]))


def build_cache():
    """Clusters built once per fixture version: bare (initdb only), before
    (old production: notifications at 0035) and after (everything migrated),
    both with the production-shaped seed (`seed_fixture --shape production`:
    separate id sequences, so 0055 fails on the before data as it does on
    production's). Built in a private folder, then renamed into place, so
    concurrent builders never see half a cache."""
    key = os.path.join(CACHE, 'pg-' + fixture_hash())
    if os.path.isdir(key):
        return key
    os.makedirs(CACHE, exist_ok=True)
    os.chmod(CACHE, 0o755)
    work = key + '.build.%d' % os.getpid()
    shutil.rmtree(work, ignore_errors=True)
    make_pgdir(work)
    as_postgres([PGBIN + '/initdb', '-D', work + '/bare', '-U', 'postgres', '--auth=trust', '-E', 'UTF8',
                 '--no-sync', '--wal-segsize=1'], check=True, stdout=subprocess.DEVNULL)
    errs = []

    def one(state, port):
        try:
            data = '%s/%s' % (work, state)
            copy_cluster(work + '/bare', data)
            pg_start(data, work, '127.0.0.1', port, '%s/%s.log' % (work, state))
            try:
                subprocess.run([PGBIN + '/createdb', '-h', '127.0.0.1', '-p', str(port), '-U', 'postgres',
                                'ebdb'], check=True)
                inst = '%s/inst-%s' % (work, state)
                subprocess.run([os.path.join(FIXTURE, 'lay-instance'), inst, '--link',
                                '--env', 'RDS_HOSTNAME=127.0.0.1', '--env', 'RDS_PORT=%d' % port,
                                '--env', 'RDS_USERNAME=postgres', '--env', 'RDS_PASSWORD=x',
                                '--env', 'RDS_DB_NAME=ebdb'], check=True, stdout=subprocess.DEVNULL)
                _run_fixture(inst, ['fixture_migrate', state, '-v', '0'], 'migrate ' + state)
                _run_fixture(inst, ['seed_fixture', '--shape', 'production'], 'seed ' + state)
            finally:
                pg_stop(data)
        except Exception as e:  # reported below, after both threads end
            errs.append(e)

    ports = []
    for _ in range(2):
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        ports.append(s)
    nums = [s.getsockname()[1] for s in ports]
    for s in ports:
        s.close()
    ts = [threading.Thread(target=one, args=(st, p)) for st, p in zip(('before', 'after'), nums)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        shutil.rmtree(work, ignore_errors=True)
        raise errs[0]
    for f in glob.glob(work + '/inst-*') + glob.glob(work + '/*.log'):
        if os.path.isdir(f) and not os.path.islink(f):
            shutil.rmtree(f)
        else:
            os.unlink(f)
    try:
        os.rename(work, key)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)  # another builder won
    return key


class Dbs:
    """RDS instances as PostgreSQL clusters; snapshots as pg_dump files."""

    def __init__(self, state):
        self.st = state
        self.d = state.dir
        self.dumps = {}      # snapshot id -> thread writing its dump (this process only)
        self.restores = {}   # db id -> thread restoring into it

    def pgdir(self, dbid):
        return os.path.join(self.d, 'pg', dbid)

    def create_from(self, dbid, addr, template):
        """A new cluster for dbid, copied from a cached cluster, started at addr."""
        pd = self.pgdir(dbid)
        make_pgdir(pd)
        data = os.path.join(self.st.data['data_root'], dbid)
        copy_cluster(template, data)
        if os.path.lexists(pd + '/data'):  # left by an earlier simulation in this DIR
            os.unlink(pd + '/data')
        os.symlink(data, pd + '/data')
        pg_start(data, pd, addr, self.st.data['db_port'], pd + '/postgres.log')
        with self.st.lock:
            self.st.data['dbs'][dbid] = {'address': addr, 'port': self.st.data['db_port'], 'name': 'ebdb',
                                         'running': True, 'data': data}
            self.st.save()

    def stop(self, dbid):
        pd = self.pgdir(dbid)
        pg_stop(pd + '/data')
        with self.st.lock:
            if dbid in self.st.data['dbs']:
                self.st.data['dbs'][dbid]['running'] = False
                self.st.save()

    def restart(self, dbid):
        pd = self.pgdir(dbid)
        db = self.st.data['dbs'][dbid]
        pg_start(db['data'], pd, db['address'], db['port'], pd + '/postgres.log')
        with self.st.lock:
            self.st.data['dbs'][dbid]['running'] = True
            self.st.save()

    def conninfo(self, dbid):
        db = self.st.data['dbs'][dbid]
        return db['address'], db['port'], db['name']

    def dump_initial(self, dbid, path):
        addr, port, name = self.conninfo(dbid)
        subprocess.run([PGBIN + '/pg_dump', '-Fc', '-h', addr, '-p', str(port), '-U', 'postgres', '-f', path,
                        name], check=True)

    def snapshot(self, dbid, snap_id):
        """Point in time: a repeatable-read transaction exports its snapshot
        now; pg_dump then reads exactly that state, however long it takes."""
        import psycopg2
        if dbid not in self.st.data['dbs'] or not self.st.data['dbs'][dbid]['running']:
            return
        addr, port, name = self.conninfo(dbid)
        conn = psycopg2.connect(host=addr, port=port, user='postgres', dbname=name, connect_timeout=10)
        conn.set_session(isolation_level='REPEATABLE READ')
        cur = conn.cursor()
        cur.execute('SELECT pg_export_snapshot(), now()')
        snap, at = cur.fetchone()
        # An RDS snapshot is the whole instance: ALTER DATABASE settings
        # (the write freeze's default_transaction_read_only) travel with it.
        # pg_dump leaves them out unless restored with --create, so they are
        # read here, in the same snapshot, and put back after the restore.
        cur.execute('SELECT coalesce(setconfig, ARRAY[]::text[]) FROM pg_db_role_setting WHERE setrole = 0'
                    ' AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())')
        row = cur.fetchone()
        db_settings = list(row[0]) if row else []
        os.makedirs(os.path.join(self.d, 'snapshots'), exist_ok=True)
        path = os.path.join(self.d, 'snapshots', snap_id + '.dump')

        def run():
            try:
                r = subprocess.run([PGBIN + '/pg_dump', '-Fc', '--snapshot=' + snap, '-h', addr, '-p', str(port),
                                    '-U', 'postgres', '-f', path + '.tmp', name], stderr=subprocess.PIPE, text=True)
                if r.returncode == 0:
                    os.replace(path + '.tmp', path)
                    log(self.d, 'snapshot %s of %s written' % (snap_id, dbid))
                else:
                    log(self.d, 'snapshot %s of %s FAILED: %s' % (snap_id, dbid, r.stderr.strip()))
            finally:
                conn.close()
        t = threading.Thread(target=run, daemon=True)
        self.dumps[snap_id] = t
        with self.st.lock:
            self.st.data['snapshots'][snap_id] = {'db': dbid, 'file': path, 'at': at.isoformat(),
                                                  'db_settings': db_settings}
            self.st.save()
        t.start()

    def snapshot_file(self, snap_id):
        t = self.dumps.get(snap_id)
        if t is not None:
            t.join()
        s = self.st.data['snapshots'].get(snap_id)
        return s['file'] if s and os.path.exists(s['file']) else None

    def restore(self, dbid, snap_id, on_done):
        """A separate cluster at its own address with the snapshot's data in
        database ebdb. Returns the endpoint at once; the data arrives in a
        thread, which calls on_done(ok)."""
        addr = self.st.next_db_addr()
        port = self.st.data['db_port']
        cache = self.st.data['cache']

        def run():
            ok = False
            try:
                path = self.snapshot_file(snap_id)
                if path is None:
                    raise RuntimeError('snapshot %s has no data file' % snap_id)
                self.create_from(dbid, addr, cache + '/bare')
                subprocess.run([PGBIN + '/createdb', '-h', addr, '-p', str(port), '-U', 'postgres', 'ebdb'],
                               check=True)
                r = subprocess.run([PGBIN + '/pg_restore', '-h', addr, '-p', str(port), '-U', 'postgres',
                                    '-d', 'ebdb', '--no-owner', path], stderr=subprocess.PIPE, text=True)
                if r.returncode != 0:
                    raise RuntimeError(r.stderr[-1000:])
                # After the data: a read-only default would have stopped pg_restore.
                settings = self.st.data['snapshots'].get(snap_id, {}).get('db_settings', [])
                for kv in settings:
                    k, v = kv.split('=', 1)
                    if not re.match(r'^[a-z_.]+$', k):
                        raise RuntimeError('snapshot %s has a setting cutover cannot replay: %r' % (snap_id, k))
                    subprocess.run([PGBIN + '/psql', '-X', '-q', '-h', addr, '-p', str(port), '-U', 'postgres',
                                    '-d', 'ebdb', '-v', 'ON_ERROR_STOP=1', '-v', 'val=' + v],
                                   input="ALTER DATABASE ebdb SET %s = :'val';\n" % k, text=True, check=True)
                ok = True
                log(self.d, 'restored %s from %s at %s:%d' % (dbid, snap_id, addr, port))
            except Exception as e:
                log(self.d, 'restore of %s from %s FAILED: %s' % (dbid, snap_id, e))
            on_done(ok)
        t = threading.Thread(target=run, daemon=True)
        self.restores[dbid] = t
        t.start()
        return addr, port

    def replica(self, dbid, src_id, on_done):
        """A read replica: a PostgreSQL standby of src_id's cluster
        (pg_basebackup -R: streaming replication, read-only until promoted)
        at its own address. Returns the endpoint at once; the copy is made
        in a thread, which calls on_done(ok) once the standby runs."""
        addr = self.st.next_db_addr()
        port = self.st.data['db_port']
        src_addr, src_port, _ = self.conninfo(src_id)

        def run():
            ok = False
            try:
                pd = self.pgdir(dbid)
                make_pgdir(pd)
                data = os.path.join(self.st.data['data_root'], dbid)
                shutil.rmtree(data, ignore_errors=True)
                r = as_postgres([PGBIN + '/pg_basebackup', '-h', src_addr, '-p', str(src_port), '-U', 'postgres',
                                 '-D', data, '-R', '-X', 'stream', '-c', 'fast', '--no-sync'],
                                stderr=subprocess.PIPE, text=True)
                if r.returncode != 0:
                    raise RuntimeError(r.stderr[-1000:])
                if os.path.lexists(pd + '/data'):
                    os.unlink(pd + '/data')
                os.symlink(data, pd + '/data')
                pg_start(data, pd, addr, port, pd + '/postgres.log')
                with self.st.lock:
                    self.st.data['dbs'][dbid] = {'address': addr, 'port': port, 'name': 'ebdb', 'running': True,
                                                 'data': data, 'replica_of': src_id}
                    self.st.save()
                ok = True
                log(self.d, 'replica %s of %s streaming at %s:%d' % (dbid, src_id, addr, port))
            except Exception as e:
                log(self.d, 'replica %s of %s FAILED: %s' % (dbid, src_id, e))
            on_done(ok)
        t = threading.Thread(target=run, daemon=True)
        self.restores[dbid] = t
        t.start()
        return addr, port

    def promote(self, dbid, on_done):
        """pg_ctl promote: the standby leaves recovery and takes writes."""
        def run():
            ok = False
            try:
                t = self.restores.get(dbid)
                if t is not None:
                    t.join()
                db = self.st.data['dbs'][dbid]
                r = as_postgres([PGBIN + '/pg_ctl', '-D', db['data'], '-w', '-t', '60', 'promote'],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                if r.returncode != 0:
                    raise RuntimeError(r.stdout[-1000:])
                with self.st.lock:
                    self.st.data['dbs'][dbid].pop('replica_of', None)
                    self.st.save()
                ok = True
                log(self.d, 'replica %s promoted' % dbid)
            except Exception as e:
                log(self.d, 'promotion of %s FAILED: %s' % (dbid, e))
            on_done(ok)
        threading.Thread(target=run, daemon=True).start()
