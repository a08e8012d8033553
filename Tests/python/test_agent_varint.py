"""The agent's length prefixes: unsigned LEB128 varints of at most 32 bits (1 to 5 bytes)."""
import io

import pytest

from kapacitor.udf.agent import EOF, decodeUvarint32, encodeUvarint


def encoded(value):
    out = io.BytesIO()
    encodeUvarint(out, value)
    return out.getvalue()


@pytest.mark.parametrize("value, wire", [
    (0, b"\x00"),
    (1, b"\x01"),
    (127, b"\x7f"),
    (128, b"\x80\x01"),
    (300, b"\xac\x02"),
    (16383, b"\xff\x7f"),
    (16384, b"\x80\x80\x01"),
    (2 ** 32 - 1, b"\xff\xff\xff\xff\x0f"),
])
def test_encodes_low_seven_bits_first_and_decodes_back(value, wire):
    assert encoded(value) == wire
    assert decodeUvarint32(io.BytesIO(wire)) == value


def test_decoding_reads_only_the_prefix():
    stream = io.BytesIO(b"\x80\x01rest")
    assert decodeUvarint32(stream) == 128
    assert stream.read() == b"rest"


def test_a_sixth_byte_is_too_long():
    with pytest.raises(Exception, match="too many bytes when decoding varint, larger than 32bit uint"):
        decodeUvarint32(io.BytesIO(b"\x80\x80\x80\x80\x80\x01"))


def test_a_five_byte_value_above_32_bits_is_rejected():
    with pytest.raises(Exception, match="larger than 32bit uint"):
        decodeUvarint32(io.BytesIO(b"\xff\xff\xff\xff\x1f"))


def test_empty_input_is_a_clean_end():
    with pytest.raises(EOF):
        decodeUvarint32(io.BytesIO(b""))


def test_negative_lengths_cannot_be_encoded():
    with pytest.raises(ValueError):
        encodeUvarint(io.BytesIO(), -1)
