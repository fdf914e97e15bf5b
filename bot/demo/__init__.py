"""The local demo: the real bot against the built-in Bot API server (bot.localapi), a web chat
page, and seed data. Nothing in the bot branches on it beyond settings."""
