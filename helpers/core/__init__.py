"""The foundations every layer reads: names, paths, the clock, the loopback network, JSON schemas, quiet loads and i18n."""
