"""The pinned Python packages the plugins depend on are the ones installed."""
import google.protobuf


def test_protobuf_runtime_matches_pin():
    assert google.protobuf.__version__ == "5.29.6"
