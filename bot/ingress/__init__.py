"""How updates come in: committed to the inbox first (`bot.services.inbox`), by long polling
or by webhook, then handled from it; `serve`/`run` drive the Application around that."""

from bot.ingress.runner import Ingress, arrival, handler_for, run, serve

__all__ = ["Ingress", "arrival", "handler_for", "run", "serve"]
