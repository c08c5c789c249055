"""The sandbox's own account: its key, account and subaccounts.

The library has its own copy of these names (helpers/config.py, its defaults when no key is
set): they are an agreement between two parties, and each side writes down its half, so that
neither imports the other.
"""

SANDBOX_API_KEY = "sandbox-api-key"
SANDBOX_ACCOUNT_ID = "sandbox-account"
SANDBOX_SUBACCOUNT_ID = "sandbox-subaccount"
# Subaccounts the sandbox knows, and their account. Two, to show that a blacklisted group
# applies account-wide, to every subaccount.
DEFAULT_SUBACCOUNTS = {SANDBOX_SUBACCOUNT_ID: SANDBOX_ACCOUNT_ID, SANDBOX_SUBACCOUNT_ID + "-sms": SANDBOX_ACCOUNT_ID}
# The account's UUID, which the Messaging Apps management API takes as accountId (its pattern in
# business_messaging_api.json is a UUID, not the account name the other APIs take).
SANDBOX_ACCOUNT_UUID = "5a9b3c1e-7d2f-4e8a-9b6c-0d1e2f3a4b5c"
