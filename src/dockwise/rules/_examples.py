"""Example projects the rules' bad and good examples are built from (Kubernetes manifests
vary only in a few lines; one template keeps them readable and alike)."""

from __future__ import annotations


def deployment(
    container: str = "", pod: str = "", image: str = "ghcr.io/acme/web:1.4.2"
) -> dict[str, str]:
    """A project of one Deployment: `container` adds lines to its container (indented 10
    spaces), `pod` to its pod spec (indented 6)."""
    return {"deploy/web.yaml": manifest(container, pod, image)}


def manifest(container: str = "", pod: str = "", image: str = "ghcr.io/acme/web:1.4.2") -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
{pod}      containers:
        - name: web
          image: {image}
{container}"""
