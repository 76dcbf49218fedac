# The Impressox application image: the API and every worker run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# The locked runtime set first (exact versions, hashes checked), so code changes reuse the layer.
COPY locks/runtime.txt locks/runtime.txt
RUN pip install --require-hashes --no-deps -r locks/runtime.txt
COPY pyproject.toml README.md ./
COPY events events
COPY handlers handlers
COPY rules rules
COPY notify notify
COPY agent agent
COPY knowledge knowledge
COPY aggregates aggregates
COPY projections projections
COPY api api
COPY impressox impressox
COPY sources sources
COPY chain chain
COPY bots bots
COPY outbound outbound
RUN pip install --no-deps --no-build-isolation . && useradd --create-home impressox
USER impressox
# Servers come from REDIS_URL and MONGO_URL (see compose.yaml); nothing is embedded here.
CMD ["impressox", "api"]
