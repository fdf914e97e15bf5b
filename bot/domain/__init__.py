"""The pure domain: what a complaint is and how a case moves. No Telegram, no database."""
