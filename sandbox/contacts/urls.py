"""Contacts API routes: (method, path pattern, handler). Paths as in contacts_api.json."""

from . import responses as r

ACCOUNT = r"/api/v1/accounts/(?P<accountId>[^/]+)"

url_patterns = [
    ("GET", ACCOUNT + r"/groups", r.search_groups),
    ("POST", ACCOUNT + r"/groups", r.create_group),
    ("GET", ACCOUNT + r"/groups/(?P<groupId>[^/]+)", r.get_group),
    ("PATCH", ACCOUNT + r"/groups/(?P<groupId>[^/]+)", r.update_group),
    ("DELETE", ACCOUNT + r"/groups/(?P<groupId>[^/]+)", r.delete_group),
    ("POST", ACCOUNT + r"/groups/(?P<groupId>[^/]+)/contacts", r.add_members),
    ("DELETE", ACCOUNT + r"/groups/(?P<groupId>[^/]+)/contacts", r.remove_members),
    ("GET", ACCOUNT + r"/contacts", r.search_contacts),
    ("POST", ACCOUNT + r"/contacts", r.upsert_contact),
    ("POST", ACCOUNT + r"/contacts/blacklist/(?P<msisdn>[^/]+)", r.blacklist_msisdn),
    ("POST", ACCOUNT + r"/contacts/batches/deleteContacts", r.delete_contacts_batch),
    ("POST", ACCOUNT + r"/contacts/batches/createContacts", r.create_contacts_batch),
    ("GET", ACCOUNT + r"/contacts/(?P<contactId>[^/]+)", r.get_contact),
    ("DELETE", ACCOUNT + r"/contacts/(?P<contactId>[^/]+)", r.delete_contact),
    ("GET", ACCOUNT + r"/batches/(?P<batchId>[^/]+)", r.get_batch),
    ("GET", ACCOUNT + r"/batches", r.list_batches),
]
