"""Method name -> implementation table, filled by the ``api_*`` modules via ``@api``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .spec import MethodSpec

if TYPE_CHECKING:
    from .state import ApiRequest, ServerState

Handler = Callable[["ServerState", "ApiRequest"], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}


def api(*names: str) -> Callable[[Handler], Handler]:
    """Register an implementation under Bot API method names (canonical spelling)."""

    def register(func: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = func
        return func

    return register


def generic_handler(spec: MethodSpec) -> Handler:
    """Methods the fake does not model: Boolean ones succeed (after a chat check), others 501.

    A 501 is recorded as a refusal, so a bot using an unmodelled method is noticed.
    """

    async def accept(srv: ServerState, req: ApiRequest) -> Any:
        if "chat_id" in req.params:
            srv.chat_for_read(req.params["chat_id"])
        return True

    async def refuse(srv: ServerState, req: ApiRequest) -> Any:
        raise ApiError(501, f"Not Implemented: FakeTelegram does not model {spec.name}")

    return accept if spec.returns == ("Boolean",) else refuse
