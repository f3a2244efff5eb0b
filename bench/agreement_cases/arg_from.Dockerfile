ARG BASE=python:3.11-slim
ARG TAG=latest
FROM ${BASE} AS build
RUN pip install --no-cache-dir -r requirements.txt
FROM debian:${TAG}
COPY --from=build /app /app
COPY --from=deps /lib /lib
USER 10001
CMD ["/app/run"]
