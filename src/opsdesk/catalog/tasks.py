"""Background work of the request catalogue."""
