"""Reads of the request catalogue."""
