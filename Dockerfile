# syntax=docker/dockerfile:1
# One image for the four services and the topic tool; the command picks what runs:
#   docker run IMAGE python -m services.intake        (or capacity, matching, reporting)
#   docker run IMAGE python -m tools.infra.create_topics --bootstrap kafka:9092
# Settings come from the environment (see docker-compose.yml and deploy/kubernetes/).

ARG PYTHON_IMAGE=python:3.11-slim
# The uv release that wrote uv.lock; `uv sync --frozen` installs exactly what it pins.
ARG UV_VERSION=0.13.8

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# ---- build: resolve the locked runtime dependencies into /app/.venv ----
FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies first, in their own layer: code changes do not reinstall them.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project
COPY contracts ./contracts
COPY loketkit ./loketkit
COPY services ./services
COPY tools ./tools
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev \
 && python -m compileall -q contracts loketkit services tools

# ---- runtime: the interpreter, the venv and the code; no uv, no build tools ----
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 loket \
 && useradd --system --uid 10001 --gid loket --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin loket
WORKDIR /app
# Owned by root and read-only for the service user: the code cannot be changed at run time.
COPY --from=build /app /app
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HTTP_HOST=0.0.0.0
USER 10001:10001
# intake, capacity, matching, reporting (INTAKE_PORT ... REPORTING_PORT)
EXPOSE 8001 8002 8003 8004
CMD ["python", "-m", "services.intake"]
