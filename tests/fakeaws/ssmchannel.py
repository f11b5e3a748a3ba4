"""The Session Manager data channel of the simulated AWS: the service's
websocket (ssmmessages) and the SSM agent's side of a port session, in one.

A session started by StartSession (world.py) is opened here by the client:
it connects to StreamUrl, sends the open_data_channel JSON with the token,
and then every message is a binary data-channel message (the layout of
aws/session-manager-plugin src/message/clientmessage.go, parsed and
serialised as src/message/messageparser.go does). We play the agent:

  1. check the token (constant-time), the session (Pending, not terminated)
  2. send HandshakeRequest (output_stream_data, PayloadType 5, SessionType Port)
  3. wait for HandshakeResponse (input_stream_data, PayloadType 6, SessionType
     processed with ActionStatus 1)
  4. connect to the instance's sshd (its real address: with the world's
     ssh_closed option nobody else knows it), send HandshakeComplete (7)
  5. carry bytes: sshd -> output_stream_data (PayloadType 1, ssm_chunk bytes
     each, at most ssm_window unacknowledged), input_stream_data (1) -> sshd;
     every message acknowledged, in sequence (duplicates acknowledged again and
     dropped, later ones kept until the gap fills), SHA-256 digests checked
  6. a Flag (10) TerminateSession / DisconnectToPort, sshd closing, or
     TerminateSession on the API ends it with channel_closed.

Anything the client gets wrong (bad token, wrong header length, digest,
sequence, an acknowledgement of a message we never sent, text after the
token) is recorded in the session's protocol_errors (GET /_sim/state) and
closes the channel, so a test can assert there were none.

Uses python3-websockets (Debian 12: 10.4) in a thread with its own event loop.
"""
import asyncio
import hashlib
import hmac
import json
import re
import ssl
import struct
import threading
import time
import uuid

import websockets

HL = 116
PAYLOAD_OFF = 120
PT_OUTPUT, PT_HS_REQ, PT_HS_RESP, PT_HS_DONE, PT_FLAG = 1, 5, 6, 7, 10
FLAG_DISCONNECT, FLAG_TERMINATE, FLAG_PORT_ERROR = 1, 2, 3
TYPES = {'input_stream_data', 'output_stream_data', 'acknowledge', 'channel_closed',
         'start_publication', 'pause_publication'}


class ProtocolError(Exception):
    pass


def build(mtype, seq, flags, ptype, payload, msg_id=None):
    """One message as messageparser.go's SerializeClientMessage writes it."""
    mid = (msg_id or uuid.uuid4()).bytes
    head = struct.pack('>I32sIQqQ', HL, mtype.encode().ljust(32, b' '), 1, int(time.time() * 1000), seq, flags)
    head += mid[8:] + mid[:8]      # putUuid: least significant half first
    head += hashlib.sha256(payload).digest()
    head += struct.pack('>II', ptype, len(payload))
    return head + payload


def parse(buf):
    """messageparser.go's DeserializeClientMessage plus Validate, strictly:
    returns a dict or raises ProtocolError."""
    if len(buf) < PAYLOAD_OFF:
        raise ProtocolError('message of %d bytes is shorter than the 120-byte header' % len(buf))
    hl, mtype, schema, created, seq, flags = struct.unpack('>I32sIQqQ', buf[:64])
    if hl != HL:
        raise ProtocolError('HeaderLength %d, not 116' % hl)
    mtype = mtype.strip(b' \0').decode('ascii', 'replace')
    if mtype not in TYPES:
        raise ProtocolError('unknown MessageType %r' % mtype)
    if schema != 1:
        raise ProtocolError('SchemaVersion %d, not 1' % schema)
    if created == 0:
        raise ProtocolError('CreatedDate is missing')
    mid = uuid.UUID(bytes=buf[72:80] + buf[64:72])
    digest = buf[80:112]
    ptype, plen = struct.unpack('>II', buf[112:120])
    payload = buf[PAYLOAD_OFF:]
    if plen != len(payload):
        raise ProtocolError('PayloadLength %d but %d payload bytes' % (plen, len(payload)))
    if hashlib.sha256(payload).digest() != digest:
        raise ProtocolError('PayloadDigest does not match the payload')
    return {'type': mtype, 'seq': seq, 'flags': flags, 'id': mid, 'ptype': ptype, 'payload': payload}


class Channel:
    """One connected data channel (the agent's session worker)."""

    def __init__(self, server, ws, sess):
        self.server, self.ws, self.sess = server, ws, sess
        self.out_seq = 0
        self.expect = 0
        self.unacked = {}          # our seq -> message id
        self.acked = asyncio.Event()
        self.later = {}            # their seq -> message, waiting for the gap
        self.handshake = asyncio.get_running_loop().create_future()
        self.writer = None
        self.done = asyncio.Event()
        self.closing = False
        opts = server.world().options
        self.chunk = int(opts.get('ssm_chunk', 1024))
        self.window = int(opts.get('ssm_window', 1000))

    def error(self, why):
        self.sess['protocol_errors'].append(why)
        self.server.log('session %s: protocol error: %s' % (self.sess['id'], why))

    async def send_output(self, ptype, payload):
        while len(self.unacked) >= self.window and not self.done.is_set():
            self.acked.clear()
            await self.acked.wait()
        if self.done.is_set():
            return
        mid = uuid.uuid4()
        seq = self.out_seq
        self.out_seq += 1
        self.unacked[seq] = mid
        await self.ws.send(build('output_stream_data', seq, 1 if seq == 0 else 0, ptype, payload, mid))

    async def ack(self, m):
        body = json.dumps({'AcknowledgedMessageType': m['type'], 'AcknowledgedMessageId': str(m['id']),
                           'AcknowledgedMessageSequenceNumber': m['seq'], 'IsSequentialMessage': True}).encode()
        await self.ws.send(build('acknowledge', 0, 3, 0, body))

    async def close(self, output=''):
        if self.closing:
            return
        self.closing = True
        body = json.dumps({'MessageId': str(uuid.uuid4()), 'CreatedDate': time.strftime('%Y-%m-%dT%H:%M:%S.000Z',
                                                                                      time.gmtime()),
                           'DestinationId': self.sess['target'], 'SessionId': self.sess['id'],
                           'MessageType': 'channel_closed', 'SchemaVersion': 1, 'Output': output}).encode()
        try:
            await self.ws.send(build('channel_closed', 0, 0, 0, body))
            await self.ws.close()
        except websockets.ConnectionClosed:
            pass
        self.done.set()
        self.acked.set()

    async def on_input(self, m):
        if m['seq'] < self.expect:
            await self.ack(m)      # a resend of what we had: acknowledge again, use once
            return
        if m['seq'] > self.expect:
            if len(self.later) < 10000:
                self.later[m['seq']] = m
                await self.ack(m)
            return
        await self.ack(m)
        self.expect += 1
        await self.use(m)
        while self.expect in self.later:
            n = self.later.pop(self.expect)
            self.expect += 1
            await self.use(n)

    async def use(self, m):
        pt = m['ptype']
        if pt == PT_HS_RESP:
            try:
                r = json.loads(m['payload'])
                acts = {a['ActionType']: a for a in r['ProcessedClientActions']}
                ok = acts['SessionType']['ActionStatus'] == 1 and isinstance(r.get('ClientVersion'), str)
            except (ValueError, KeyError, TypeError):
                ok = False
            if not ok:
                self.error('HandshakeResponse does not accept the Port session: %r' % m['payload'][:300])
            if not self.handshake.done():
                self.handshake.set_result(ok)
        elif pt == PT_OUTPUT:
            if self.writer is None:
                self.error('stream data before the handshake completed')
                await self.close('protocol error')
                return
            self.sess['bytes_up'] += len(m['payload'])
            self.writer.write(m['payload'])
            await self.writer.drain()
        elif pt == PT_FLAG:
            if len(m['payload']) != 4:
                self.error('Flag payload of %d bytes' % len(m['payload']))
                return
            flag = struct.unpack('>I', m['payload'])[0]
            if flag in (FLAG_TERMINATE, FLAG_DISCONNECT):
                self.sess['client_flag'] = flag
                if self.writer is not None:
                    self.writer.close()
                await self.close('')
        elif pt not in (3,):       # Size: meaningless for a port session, ignored as the agent does
            self.error('unexpected PayloadType %d from the client' % pt)

    async def reader(self):
        """Everything the client sends after the token."""
        try:
            async for raw in self.ws:
                if isinstance(raw, str):
                    self.error('a text message after open_data_channel')
                    await self.close('protocol error')
                    return
                try:
                    m = parse(raw)
                except ProtocolError as e:
                    self.error(str(e))
                    await self.close('protocol error')
                    return
                self.sess['messages'] += 1
                if m['type'] == 'acknowledge':
                    try:
                        a = json.loads(m['payload'])
                        seq, mid = a['AcknowledgedMessageSequenceNumber'], a['AcknowledgedMessageId']
                        if a['AcknowledgedMessageType'] != 'output_stream_data':
                            raise KeyError('AcknowledgedMessageType')
                    except (ValueError, KeyError, TypeError) as e:
                        self.error('unreadable acknowledge: %s' % e)
                        await self.close('protocol error')
                        return
                    if self.unacked.get(seq) is None or str(self.unacked[seq]) != mid:
                        self.error('acknowledge of a message never sent or already acknowledged (seq %s)' % seq)
                        await self.close('protocol error')
                        return
                    del self.unacked[seq]
                    self.acked.set()
                elif m['type'] == 'input_stream_data':
                    await self.on_input(m)
                    if self.closing:
                        return
                else:
                    self.error('the client sent %s' % m['type'])
                    await self.close('protocol error')
                    return
        except websockets.ConnectionClosed:
            pass
        finally:
            self.done.set()
            self.acked.set()
            if self.writer is not None:
                self.writer.close()

    async def pump(self, reader):
        """sshd -> client."""
        try:
            while not self.done.is_set():
                data = await reader.read(self.chunk)
                if not data:
                    break
                self.sess['bytes_down'] += len(data)
                await self.send_output(PT_OUTPUT, data)
        except (ConnectionError, websockets.ConnectionClosed):
            pass
        # sshd ended the connection: say so as the agent's BasicPortForwarding
        # does (Flag DisconnectToPort), let the client take the tail, then close.
        try:
            if not self.done.is_set():
                await self.send_output(PT_FLAG, struct.pack('>I', FLAG_DISCONNECT))
        except websockets.ConnectionClosed:
            pass
        t0 = time.monotonic()
        while self.unacked and not self.done.is_set() and time.monotonic() - t0 < 10:
            self.acked.clear()
            try:
                await asyncio.wait_for(self.acked.wait(), 1)
            except asyncio.TimeoutError:
                pass
        await self.close('')

    async def run(self, addr):
        hs = {'AgentVersion': '3.2.582.0', 'RequestedClientActions': [{
            'ActionType': 'SessionType',
            'ActionParameters': {'SessionType': 'Port', 'Properties': {'portNumber': str(self.sess['port'])}}}]}
        started = time.monotonic()
        await self.send_output(PT_HS_REQ, json.dumps(hs).encode())
        rd = asyncio.create_task(self.reader())
        try:
            ok = await asyncio.wait_for(asyncio.shield(self.handshake), 15)
        except asyncio.TimeoutError:
            self.error('no HandshakeResponse within 15 s')
            ok = False
        if not ok:
            await self.close('handshake failed')
            await rd
            return
        try:
            reader, self.writer = await asyncio.wait_for(asyncio.open_connection(addr[0], addr[1]), 5)
        except (OSError, asyncio.TimeoutError) as e:
            self.server.log('session %s: cannot reach sshd at %s:%d: %s' % (self.sess['id'], addr[0], addr[1], e))
            await self.send_output(PT_FLAG, struct.pack('>I', FLAG_PORT_ERROR))
            await self.close('Unable to start the port session: connection to port %d refused' % addr[1])
            await rd
            return
        done = {'HandshakeTimeToComplete': int((time.monotonic() - started) * 1e9), 'CustomerMessage': ''}
        await self.send_output(PT_HS_DONE, json.dumps(done).encode())
        pump = asyncio.create_task(self.pump(reader))
        await self.done.wait()
        pump.cancel()
        await rd


class DataChannelServer:
    """The websocket endpoint. world() gives the current World (a reset
    replaces its contents, not the object)."""

    def __init__(self, world_fn, host='127.0.0.1', log=None):
        self.world = world_fn
        self.host = host
        self.logf = log
        self.channels = {}      # session id -> Channel
        self.loop = None
        self.url = None
        ready = threading.Event()
        threading.Thread(target=self._thread, args=(ready,), daemon=True).start()
        ready.wait(10)

    def log(self, line):
        if self.logf:
            self.logf.write('ssm: %s\n' % line)
            self.logf.flush()

    def _thread(self, ready):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

        async def start():
            srv = await websockets.serve(self.handler, self.host, 0, max_size=1 << 22, compression=None,
                                         ping_interval=None)
            port = srv.sockets[0].getsockname()[1]
            self.url = 'ws://%s:%d' % (self.host, port)
            ready.set()
        self.loop.run_until_complete(start())
        self.loop.run_forever()

    def serve_tls(self, certfile, keyfile, name='localhost'):
        """Serves the same channel over TLS too (AWS's StreamUrl is always
        wss://); answers the wss:// base URL, by NAME, so a client checking the
        certificate's name against the URL meets the real check. One TLS
        listener per call; they live as long as the server."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
        done, box = threading.Event(), {}

        async def start():
            try:
                srv = await websockets.serve(self.handler, self.host, 0, ssl=ctx, max_size=1 << 22,
                                             compression=None, ping_interval=None)
                box['url'] = 'wss://%s:%d' % (name, srv.sockets[0].getsockname()[1])
            except Exception as e:  # reported to the admin caller
                box['error'] = '%s: %s' % (type(e).__name__, e)
            finally:
                done.set()
        asyncio.run_coroutine_threadsafe(start(), self.loop)
        done.wait(10)
        if 'url' not in box:
            raise ValueError('the TLS data channel did not start: %s' % box.get('error', 'timed out'))
        return box['url']

    def terminate(self, sid):
        """TerminateSession (called on an HTTP thread, world lock held)."""
        ch = self.channels.get(sid)
        if ch is not None and self.loop is not None:
            asyncio.run_coroutine_threadsafe(ch.close('Session terminated'), self.loop)

    async def handler(self, ws, path=None):
        path = getattr(ws, 'path', path) or ''
        m = re.fullmatch(r'/v1/data-channel/([A-Za-z0-9._@=-]+)(\?.*)?', path)
        w = self.world()
        sess = w.ssm_sessions.get(m.group(1)) if m else None
        try:
            first = await asyncio.wait_for(ws.recv(), 10)
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            return
        try:
            j = json.loads(first) if isinstance(first, str) else None
            token = j['TokenValue']
            if j['MessageSchemaVersion'] != '1.0' or not j['RequestId'] or not j['ClientId']:
                raise KeyError('MessageSchemaVersion')
        except (ValueError, KeyError, TypeError):
            if sess is not None:
                sess['protocol_errors'].append('the first message is not open_data_channel JSON')
            await ws.close(1002, 'open_data_channel expected')
            return
        if sess is None or not hmac.compare_digest(token.encode(), sess['token'].encode()):
            if sess is not None:
                sess['protocol_errors'].append('wrong token')
            await ws.close(1008, 'Authentication failed')
            return
        with w.lock:
            inst = w.instances.get(sess['target'])
            if sess['state'] != 'Pending' or inst is None or inst['state'] != 'running':
                state = sess['state']
                sess = None
            else:
                sess['state'] = 'Connected'
                addr = (inst['private_ip'], int(inst.get('ssh_port') or 22) if sess['port'] == 22 else sess['port'])
        if sess is None:
            await ws.close(1008, 'session is %s' % state)
            return
        ch = Channel(self, ws, sess)
        self.channels[sess['id']] = ch
        try:
            await ch.run(addr)
        finally:
            self.channels.pop(sess['id'], None)
            with w.lock:
                if sess['state'] != 'Terminated':
                    sess['state'] = 'Terminated'
                    sess['ended'] = w.now()
