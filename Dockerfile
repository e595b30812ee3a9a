# One image: the API server plus the built web app.
FROM node:20-bookworm-slim AS frontend
WORKDIR /src
COPY . .
# The web app is built when its sources are in the context; the API serves without it otherwise.
# It depends on the TypeScript client (sdk/typescript), built first.
RUN if [ -f frontend/package.json ]; then \
      (cd sdk/typescript && npm ci --no-audit --no-fund && npm run build) \
      && cd frontend && npm ci --no-audit --no-fund && npm run build; \
    else mkdir -p frontend/dist; fi

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ENVIRONMENT=production DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend/ backend/
COPY agents/ agents/
COPY tools/ tools/
RUN pip install --no-cache-dir . && useradd --system --uid 10001 switchboard \
    && mkdir -p /data && chown switchboard /data
COPY --from=frontend /src/frontend/dist /app/frontend/dist
USER switchboard
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status!=200)"
CMD ["sh", "-c", "switchboard migrate && switchboard serve --host 0.0.0.0 --port 8000 --workers ${WORKERS:-2}"]
