"""Discovery: the inventory of non-human identities, their relationships, and their posture."""
