// Tests for UDFProtocol live here.
