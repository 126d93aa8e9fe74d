"""Parsers for small text formats: CSV lines, INI files and URL query strings."""
