"""dockwise reference service."""
