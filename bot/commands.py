"""Every capability registers its commands here, in the order /help lists them."""

from __future__ import annotations

from bot import (
    alerts,
    copies,
    general,
    meetings,
    network,
    newcomers,
    polls,
    privacy,
    retention,
    roles,
    rotas,
    status,
    tags,
)
from bot.registry import Registry


def build_registry() -> Registry:
    registry = Registry()
    for module in (
        general,
        network,
        roles,
        tags,
        privacy,
        copies,
        alerts,
        meetings,
        polls,
        newcomers,
        rotas,
        retention,
        status,
    ):
        module.register(registry)
    return registry
