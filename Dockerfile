# syntax=docker/dockerfile:1
# Stage 1: fetch htmx from the npm registry (pinned in package-lock.json).
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

# Stage 2: the app on a slim Python, as a non-root user.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite:////var/lib/advisor/advisor.db DATA_DIR=/var/lib/advisor/data
RUN useradd --create-home --uid 10001 advisor \
    && mkdir -p /var/lib/advisor && chown advisor /var/lib/advisor
WORKDIR /srv/advisor
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
RUN pip install -e '.[postgres]'
COPY --from=assets /build/node_modules/htmx.org/dist/htmx.min.js ./static/vendor/htmx.min.js
USER advisor
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
CMD ["sh", "-c", "advisor db upgrade && exec advisor serve --host 0.0.0.0 --port 8000"]
