"""Messaging Apps API routes, as in business_messaging_api.json."""

from . import responses as r

SUBACCOUNT = r"/api/v1/subaccounts/(?P<subAccountId>[^/]+)"

url_patterns = [
    ("POST", SUBACCOUNT + r"/messages", r.send_message),
    ("GET", SUBACCOUNT + r"/messages/(?P<umid>[^/]+)", r.get_message),
    ("GET", r"/api/v1/accounts/(?P<accountId>[^/]+)/channels/(?P<channelId>[^/]+)/templates", r.list_templates),
]
