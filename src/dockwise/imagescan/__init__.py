"""What is inside a built image: layers merged, wasted bytes, config and history checks."""
