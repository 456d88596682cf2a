"""Everything between a raw listing and the database: vocabularies, normalizers, merging, the build."""
