"""Text utilities: slugs, case conversion, wrapping and truncation."""
