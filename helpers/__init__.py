"""The 8x8 opt-out runbook's library: settings, API client, sandbox, policy, workflow, bulk removal."""
from .config import Settings, load_settings
from .client import Client
from .errors import APIError, EightByEightError

__all__ = ["Settings", "load_settings", "Client", "APIError", "EightByEightError"]
