#!/usr/bin/python3
"""The environments' load balancers (tests/sim/README.md).

  tests/sim/lb.py run DIR

One HTTP listener per environment, at the address fakeaws reports as its
EndpointURL (DIR/sim.json "lbs": {env: address}, filled by `up` and by the
allocate_endpoint hook for environments created later), on the app's HTTP
port. Each request (method, path, headers including Host, body) goes round
robin to the environment's instances running at that moment (sim.json
"hosts", re-read per request, as an ELB follows its target group), and the
answer comes back as it is. No instance: 503, as an ELB with no healthy
target. Every request is logged to DIR/lb/access.log.
"""
import http.client
import http.server
import itertools
import json
import os
import sys
import threading
import time

HOP = {'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'}


def main():
    if len(sys.argv) != 3 or sys.argv[1] != 'run':
        sys.exit('usage: tests/sim/lb.py run DIR')
    d = os.path.abspath(sys.argv[2])
    os.makedirs(os.path.join(d, 'lb'), exist_ok=True)
    logf = open(os.path.join(d, 'lb', 'access.log'), 'a', buffering=1)
    loglock = threading.Lock()
    counters = {}

    def state():
        with open(os.path.join(d, 'sim.json')) as f:
            return json.load(f)

    def make_handler(env, port):
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            # Headers and body are two writes: without this each answer on a
            # kept-alive connection waits 40 ms for the client's delayed ACK.
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def _any(self):
                body = None
                n = int(self.headers.get('Content-Length') or 0)
                if n:
                    body = self.rfile.read(n)
                addrs = sorted(h['address'] for h in state()['hosts'].values()
                               if h.get('env') == env and h.get('running'))
                status, backend, data, headers = 503, '-', b'no healthy instance\n', [('Content-Type', 'text/plain')]
                if addrs:
                    backend = addrs[next(counters[env]) % len(addrs)]
                    hdrs = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                    hdrs['X-Forwarded-For'] = self.client_address[0]
                    try:
                        c = http.client.HTTPConnection(backend, port, timeout=30)
                        c.request(self.command, self.path, body=body, headers=hdrs)
                        r = c.getresponse()
                        status, data = r.status, r.read()
                        headers = [(k, v) for k, v in r.getheaders()
                                   if k.lower() not in HOP and k.lower() != 'content-length']
                        c.close()
                    except OSError as e:
                        status, data = 502, ('bad gateway: %s\n' % e).encode()
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                if self.command != 'HEAD':
                    self.wfile.write(data)
                with loglock:
                    logf.write('%.3f %s %s %s %s Host=%s -> %s %d\n' % (
                        time.time(), env, self.client_address[0], self.command, self.path,
                        self.headers.get('Host', '-'), backend, status))

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _any
        return H

    listening = {}
    while True:
        try:
            st = state()
        except (OSError, ValueError):
            time.sleep(0.2)  # sim.json is replaced atomically; it may be gone at `down`
            continue
        for env, addr in st.get('lbs', {}).items():
            if env in listening:
                continue
            counters[env] = itertools.count()
            try:
                srv = http.server.ThreadingHTTPServer((addr, st['http_port']), make_handler(env, st['http_port']))
            except OSError as e:
                listening[env] = None  # said once; the smoke test through it then fails loudly
                with loglock:
                    logf.write('%.3f cannot listen for %s at %s:%d: %s\n' % (time.time(), env, addr,
                                                                          st['http_port'], e))
                continue
            srv.daemon_threads = True
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            listening[env] = srv
            with loglock:
                logf.write('%.3f listening for %s at %s:%d\n' % (time.time(), env, addr, st['http_port']))
        with open(os.path.join(d, 'lb', 'ready'), 'w') as f:
            f.write(' '.join(sorted(listening)) + '\n')
        time.sleep(0.3)


if __name__ == '__main__':
    main()
