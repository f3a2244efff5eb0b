"""External programs dockwise runs (ShellCheck); finding them is `dockwise.tools`."""
