"""Persian-first Telegram bot for market-violation complaints (Ta'zirat, line 135)."""
