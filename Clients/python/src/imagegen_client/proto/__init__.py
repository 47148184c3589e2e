"""Generated protobuf modules (``scripts/generate-proto``); do not edit the ``*_pb2.py`` files."""
