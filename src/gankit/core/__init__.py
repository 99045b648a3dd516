"""The core: what every layer may use and that uses nothing of gankit's (errors, registries,
atomic file writes, statistics over members, whole lines on stderr)."""
