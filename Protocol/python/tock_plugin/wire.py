"""Tock's plugin framing: each message is an unsigned varint length, then that many bytes."""


def write_frame(out, data):
    size = len(data)
    prefix = bytearray()
    while size > 0x7F:
        prefix.append(0x80 | (size & 0x7F))
        size >>= 7
    prefix.append(size)
    out.write(bytes(prefix) + data)
    out.flush()


def read_frame(stream):
    """The next message's bytes, or None at the end of the input."""
    size = 0
    shift = 0
    while True:
        b = stream.read(1)
        if not b:
            if shift:
                raise EOFError("input ended inside a length prefix")
            return None
        size |= (b[0] & 0x7F) << shift
        if not b[0] & 0x80:
            break
        shift += 7
        if shift >= 35:
            raise ValueError("length prefix longer than 5 bytes")
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise EOFError("input ended inside a message")
        data += chunk
    return data
