"""Storage: SQLAlchemy 2 Core over aiosqlite (embedded default) or asyncpg (PostgreSQL)."""
