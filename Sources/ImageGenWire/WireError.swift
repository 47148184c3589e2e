// Placeholder: the wire codec.
