"""A small notes API: the dockwise reference service."""
