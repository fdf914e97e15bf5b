"""Use cases: framework-free functions over storage. Handlers call exactly one of these."""
