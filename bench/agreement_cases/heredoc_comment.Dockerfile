# syntax=docker/dockerfile:1
FROM python:3.11-slim
RUN <<EOF
apt-get update
apt-get install -y --no-install-recommends curl
rm -rf /var/lib/apt/lists/*
EOF
# hadolint stops parsing here: a comment right after a heredoc
RUN pip install flask
USER root
CMD python app.py
