"""Exports of the built database (data/programs.db) to other formats: read the database, never the build."""
