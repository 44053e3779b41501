"""Append-only, hash-chained audit log and the content-addressed evidence store."""
