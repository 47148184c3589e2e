// Placeholder: the RPC layer.
