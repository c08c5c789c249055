"""8x8 Connect's documented rules for workflow scripts: a leaf that imports nothing of this project.

Both sides need this body of 8x8 knowledge, so it stands on its own: the library (``helpers``)
checks the workflows it builds with it, and the sandbox (``sandbox``) refuses what 8x8
refuses with it. Neither side's reasoning is in here; its tests check it against 8x8's own
documented cases (../shared/8x8-api/NOTES.md, "Script rules", and examples/), never against
either side.

- ``scripts``: the rules a ``{{ }}`` script must keep (length, no assignments, allocations,
  declarations or recursion), checked on tree-sitter's JavaScript parse tree.
- ``functions``: 8x8's own script functions (stringContains, isCountryCode, ...) and time zones.
"""
