"""Operations: backups, logs that leak nothing, and a health/metrics endpoint for monitoring."""
