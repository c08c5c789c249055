"""The 8x8 opt-out runbook's library: settings, API client, sandbox, policy, workflow, bulk removal."""

from .client import Client
from .config import Settings, load_settings
from .errors import APIError, EightByEightError

__all__ = ["Settings", "load_settings", "Client", "APIError", "EightByEightError"]
