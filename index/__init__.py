"""investbot's corpus -> searchable index layer."""
