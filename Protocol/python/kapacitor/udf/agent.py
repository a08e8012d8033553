"""Kapacitor-compatible UDF agent for Python.

A drop-in replacement for Kapacitor's ``kapacitor.udf.agent`` module: the same public names
(``Handler``, ``Agent``, ``Server``, ``encodeUvarint``, ``decodeUvarint32``, ``EOF``) with the same
behaviour, so existing UDF scripts run unchanged against Tock or Kapacitor.

Wire format: every message is an unsigned LEB128 varint length (at most 5 bytes, at most
2^32-1) followed by that many bytes of a protobuf message; ``agent.Request`` messages arrive on the
input stream and ``agent.Response`` messages are written to the output stream.

Differences from Kapacitor's agent, all invisible to handlers:

* Output is flushed whenever the agent is about to wait for more input, and immediately while it
  is waiting, so data written with ``write_response(response)`` (no ``flush``) is delivered
  promptly even without ``python -u``. Management answers (info, init, snapshot, restore,
  keepalive, error) are always flushed at once, as in Kapacitor.
* Input is read in large chunks and framed in memory (fewer system calls per message); an
  unbuffered output (``python -u``) is given a buffer, which the flushing above keeps prompt.
* Every request is parsed into a new message object, so handlers may keep the points they get.
* ``Agent.auto_flush`` is True, so UDFs can skip per-point flushes that Kapacitor's agent needs.
* A message cut short by end of input is reported as an error instead of being parsed partially,
  and a length prefix that overflows 32 bits is rejected instead of being truncated.
* ``Server`` listens as soon as it is created (early clients wait instead of being refused),
  ``stop()`` wakes a ``serve()`` blocked in ``accept``, and a stale socket file left by a dead
  server is replaced.
"""
from __future__ import absolute_import

import io
import logging
import os
import socket
import stat
import sys
import traceback
from threading import Lock, Thread

from . import udf_pb2

logger = logging.getLogger(__name__)

__all__ = ["Handler", "Agent", "Server", "EOF", "encodeUvarint", "decodeUvarint32"]

# Varint constants (same names and values as Kapacitor's agent).
mask32uint = (1 << 32) - 1
byteSize = 8
shiftSize = byteSize - 1
varintMoreMask = 2 ** shiftSize
varintMask = varintMoreMask - 1

_TOO_LONG = "too many bytes when decoding varint, larger than 32bit uint"
_READ_CHUNK = 1 << 16

# Length prefixes of messages shorter than 16 KiB (one or two bytes), precomputed: data
# messages are almost always that small.
_PREFIXES = tuple(bytes((i,)) if i < varintMoreMask
                  else bytes((varintMoreMask | (i & varintMask), i >> shiftSize))
                  for i in range(1 << (2 * shiftSize)))
_PREFIXED = len(_PREFIXES)


_parse_request = udf_pb2.Request.FromString


class EOF(Exception):
    """The input ended (cleanly) before the next message."""


class Handler(object):
    """Base class for UDF handlers; override the methods your UDF needs.

    The agent calls these methods from its single reader thread, never concurrently.
    ``info``, ``init``, ``snapshot`` and ``restore`` return a ``udf_pb2.Response``; the data
    methods return nothing and emit results with ``agent.write_response``. Raising an exception
    stops the agent after sending an ``ErrorResponse`` to the host.
    """

    def info(self):
        pass

    def init(self, init_req):
        pass

    def snapshot(self):
        pass

    def restore(self, restore_req):
        pass

    def begin_batch(self, begin_req):
        pass

    def point(self, point):
        pass

    def end_batch(self, end_req):
        pass


def _binary_stream(stream, name):
    """Returns a binary stream for ``stream`` (text stdio is replaced by its buffer)."""
    if isinstance(stream, io.TextIOBase) and hasattr(stream, "buffer"):
        return stream.buffer
    if stream is None:
        raise ValueError("agent %s stream is None" % name)
    return stream


class Agent(object):
    """Reads requests from ``_in``, calls the handler, writes responses to ``out``.

    ``Agent(_in=sys.stdin.buffer, out=sys.stdout.buffer, handler=None)``; set ``handler`` before
    ``start()``. ``start()`` returns at once; ``wait()`` returns when the input ends or after an
    error, and closes both streams.
    """

    #: Data responses written without ``flush`` are still delivered promptly (see module doc).
    #: UDFs may check this to skip per-message flushes that Kapacitor's agent would need.
    auto_flush = True

    def __init__(self, _in=None, out=None, handler=None):
        if _in is None:
            _in = sys.stdin.buffer
        if out is None:
            out = sys.stdout.buffer
        _in = _binary_stream(_in, "input")
        out = _binary_stream(out, "output")
        # Unbuffered streams (python -u, PYTHONUNBUFFERED) would cost a system call per message
        # and may write partially; buffer them here, the flush policy keeps delivery prompt.
        if isinstance(_in, io.RawIOBase):
            _in = io.BufferedReader(_in, _READ_CHUNK)
        if isinstance(out, io.RawIOBase):
            out = io.BufferedWriter(out, _READ_CHUNK)
        self._in = _in
        self._out = out
        self._thread = None
        self.handler = handler
        self._write_lock = Lock()
        self._pending = False  # bytes written since the last flush
        self._idle = False  # the reader is waiting for input: flush every write

    def start(self):
        """Starts the reader thread and returns immediately."""
        self._thread = Thread(target=self._read_loop, name="udf-agent-reader")
        self._thread.start()

    def wait(self):
        """Waits until the agent stops (input closed or error), then closes both streams."""
        if self._thread is not None:
            self._thread.join()
        for stream in (self._in, self._out):
            try:
                stream.close()
            except (OSError, ValueError):
                # The host may already have closed the other end of the pipe or socket.
                pass

    def write_response(self, response, flush=False):
        """Writes one framed response; thread safe. ``flush=True`` forces immediate delivery."""
        if response is None:
            raise Exception("cannot write None response")
        data = response.SerializeToString()
        size = len(data)
        frame = (_PREFIXES[size] if size < _PREFIXED else _uvarint_bytes(size)) + data
        with self._write_lock:
            self._out.write(frame)
            if flush or self._idle:
                self._out.flush()
                self._pending = False
            else:
                self._pending = True

    def _flush_before_waiting(self):
        with self._write_lock:
            if self._pending:
                self._out.flush()
                self._pending = False
            self._idle = True

    def _handle(self, request, msg):
        """Handles one request of type ``msg`` (the request's ``message`` field)."""
        handler = self.handler
        if msg == "point":
            handler.point(request.point)
        elif msg == "begin":
            handler.begin_batch(request.begin)
        elif msg == "end":
            handler.end_batch(request.end)
        elif msg == "keepalive":
            response = udf_pb2.Response()
            response.keepalive.time = request.keepalive.time
            self.write_response(response, flush=True)
        elif msg == "info":
            self.write_response(handler.info(), flush=True)
        elif msg == "init":
            self.write_response(handler.init(request.init), flush=True)
        elif msg == "snapshot":
            self.write_response(handler.snapshot(), flush=True)
        elif msg == "restore":
            self.write_response(handler.restore(request.restore), flush=True)
        else:
            logger.error("received unhandled request %s", msg)

    def _read_loop(self):
        msg = "unknown"
        try:
            if hasattr(self._in, "read1"):
                messages = self._chunked_messages()
            else:
                messages = self._exact_messages()
            handle = self._handle
            for data in messages:
                msg = "unknown"
                request = _parse_request(data)
                msg = request.WhichOneof("message")
                if msg == "point":  # the common case, without a call to _handle
                    self.handler.point(request.point)
                else:
                    handle(request, msg)
                msg = "unknown"
        except Exception as e:
            self._report(msg, e)

    def _chunked_messages(self):
        """Yields message bodies framed out of ``read1`` chunks; flushes output before
        blocking on input."""
        read1 = self._in.read1
        read = self._in.read
        buf = b""
        pos = 0
        while True:
            end = len(buf)
            if pos < end:
                first = buf[pos]
                if first < varintMoreMask:
                    size, start = first, pos + 1
                elif pos + 1 < end and buf[pos + 1] < varintMoreMask:
                    size, start = (first & varintMask) | (buf[pos + 1] << shiftSize), pos + 2
                else:
                    size, start = _decode_prefix(buf, pos)
                if size is not None:
                    stop = start + size
                    if stop <= end:
                        pos = stop
                        yield buf[start:stop]
                        continue
                    # Header complete, body not: read exactly the rest of this message.
                    have = buf[start:]
                    self._flush_before_waiting()
                    rest = read(size - len(have)) or b""
                    self._idle = False
                    if len(have) + len(rest) < size:
                        raise _unexpected_eof(size - len(have) - len(rest))
                    buf, pos = b"", 0
                    yield have + rest
                    continue
            self._flush_before_waiting()
            chunk = read1(_READ_CHUNK)
            self._idle = False
            if not chunk:
                if pos < end:
                    raise Exception("unexpected EOF while reading a message length")
                return
            buf = buf[pos:] + chunk if pos < end else chunk
            pos = 0

    def _exact_messages(self):
        """Yields message bodies read one at a time from streams without ``read1``."""
        while True:
            self._flush_before_waiting()
            try:
                size = decodeUvarint32(self._in)
            except EOF:
                return
            data = _read_exactly(self._in, size)
            self._idle = False
            yield data

    def _report(self, msg, error):
        traceback.print_exc()
        text = "error processing request of type %s: %s" % (msg, error)
        logger.error(text)
        response = udf_pb2.Response()
        response.error.error = text
        try:
            self.write_response(response, flush=True)
        except (OSError, ValueError) as e:
            logger.error("could not send the error to the host: %s", e)


def _unexpected_eof(missing):
    return Exception("unexpected EOF, expected %d more bytes" % missing)


def _read_exactly(reader, size):
    parts = []
    missing = size
    while missing > 0:
        part = reader.read(missing)
        if not part:
            raise _unexpected_eof(missing)
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


def _decode_prefix(buf, pos):
    """Decodes a length prefix at ``buf[pos]``: ``(size, body_start)``, or ``(None, pos)`` if
    the prefix is incomplete. Raises when it is longer than 5 bytes or exceeds 32 bits."""
    result = 0
    shift = 0
    end = len(buf)
    while pos < end:
        b = buf[pos]
        pos += 1
        result |= (b & varintMask) << shift
        if not b & varintMoreMask:
            if result > mask32uint:
                raise Exception(_TOO_LONG)
            return result, pos
        shift += shiftSize
        if shift >= 32:  # a 6th byte would be needed
            raise Exception(_TOO_LONG)
    return None, pos


def _uvarint_bytes(value):
    if value < 0:
        raise ValueError("cannot encode a negative length: %d" % value)
    out = bytearray()
    while value > varintMask:
        out.append(varintMoreMask | (value & varintMask))
        value >>= shiftSize
    out.append(value)
    return bytes(out)


def encodeUvarint(writer, value):
    """Writes ``value`` as an unsigned LEB128 varint to ``writer``; returns ``writer.write``'s
    result."""
    return writer.write(_uvarint_bytes(value))


def decodeUvarint32(reader):
    """Reads an unsigned LEB128 varint of at most 32 bits (1 to 5 bytes) from ``reader``.

    Raises ``EOF`` if the input ends first, and an exception when the varint is too long.
    """
    result = 0
    shift = 0
    while True:
        byte = reader.read(1)
        if not byte:
            raise EOF()
        b = byte[0]
        result |= (b & varintMask) << shift
        if not b & varintMoreMask:
            if result > mask32uint:
                raise Exception(_TOO_LONG)
            return result
        shift += shiftSize
        if shift >= 32:
            raise Exception(_TOO_LONG)


class Server(object):
    """Serves UDF connections on a Unix socket: one ``accepter.accept(conn, addr)`` call per
    connection, each on its own thread, with ``conn`` a buffered binary file for both
    directions (pass it as ``Agent(conn, conn)``)."""

    def __init__(self, socket_path, accepter):
        self._socket_path = socket_path
        self._accepter = accepter
        self._stopped = False
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._listener.bind(socket_path)
        except OSError:
            if not _remove_stale_socket(socket_path):
                self._listener.close()
                raise
            self._listener.bind(socket_path)
        # Listening from the start: a client connecting before serve() waits instead of
        # being refused.
        self._listener.listen(5)

    def serve(self):
        """Accepts connections until ``stop()`` (or an error, e.g. Ctrl-C); then stops."""
        try:
            while True:
                conn, addr = self._listener.accept()
                stream = conn.makefile(mode="rwb")
                conn.close()  # the file keeps the connection open until it is closed
                Thread(target=self._accepter.accept, args=(stream, addr)).start()
        except BaseException:
            if not self._stopped:
                logger.info("UDF server on %s stopping", self._socket_path)
        finally:
            self.stop()

    def stop(self):
        """Stops accepting and removes the socket file; running connections continue."""
        if self._stopped:
            return
        self._stopped = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept()
        except OSError:
            pass
        self._listener.close()
        try:
            os.remove(self._socket_path)
        except OSError:
            pass


def _remove_stale_socket(path):
    """Removes ``path`` if it is a socket nobody listens on; returns whether it did."""
    try:
        if not stat.S_ISSOCK(os.stat(path).st_mode):
            return False
    except OSError:
        return False
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
        return False  # a live server owns it
    except ConnectionRefusedError:
        os.remove(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()
