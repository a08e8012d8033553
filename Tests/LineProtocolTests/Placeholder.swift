// Tests for LineProtocol live here.
