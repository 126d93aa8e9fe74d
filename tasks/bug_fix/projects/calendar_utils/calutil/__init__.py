"""Small calendar helpers: month arithmetic, business days, ISO-like parsing."""
