"""Webhook delivery's settings, applied by the server (api/app.py) and by every command
(api/commands): a module of its own, so that a command need not import the whole app (the
schema and every resolver, a second of start-up) to do it."""

from __future__ import annotations

from typing import Any

from api.settings import Settings
from services.webhooks import config as webhook_config


def configure_webhooks(settings: Settings, **overrides: Any) -> None:
    webhook_config.configure(
        webhook_config.DeliveryConfig(production=settings.production, **overrides),
        secret_keys=list(settings.webhook_keys),
    )
