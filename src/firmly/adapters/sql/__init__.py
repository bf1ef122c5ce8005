"""SQLAlchemy Core storage for SQLite (the embedded default) and PostgreSQL, one schema for both."""
