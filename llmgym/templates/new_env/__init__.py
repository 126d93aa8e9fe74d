"""The files of a new environment package, with ${placeholders}."""
