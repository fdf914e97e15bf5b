"""How updates come in: committed to the inbox first (`bot.services.inbox`), by long polling
(`polling`) or by webhook (`webhook`), then handled from it; `runner` drives the Application
around that."""
