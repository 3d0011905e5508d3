# One image for every Pilotwatch service; the command picks the role (see docker-compose.yml).
#   docker build -t pilotwatch .
#   docker run --env-file .env -p 8000:8000 pilotwatch                     # intake (the default)
#   docker run --env-file .env pilotwatch celery -A services.notify.worker worker -Q notify
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN groupadd --system --gid 10001 pilotwatch \
 && useradd --system --uid 10001 --gid pilotwatch --home-dir /app --no-create-home \
            --shell /usr/sbin/nologin pilotwatch \
 && install -d -o pilotwatch -g pilotwatch -m 0750 /var/lib/pilotwatch

WORKDIR /app

# Dependencies first, pinned by the lock, in their own layer: a code change does not reinstall them.
# Empty stand-in packages let pip resolve the project's dependencies before the code is copied.
COPY pyproject.toml requirements.lock ./
RUN mkdir shared services ops \
 && touch shared/__init__.py services/__init__.py ops/__init__.py \
 && pip install -c requirements.lock . \
 && pip uninstall -y pilotwatch \
 && rm -rf shared services ops build ./*.egg-info

# Then the code. Only the packages are copied: no virtualenv, instance data or .env from the host.
COPY shared ./shared
COPY services ./services
COPY ops ./ops
RUN pip install --no-deps -c requirements.lock . \
 && rm -rf build ./*.egg-info \
 && python -m compileall -q shared services ops

USER pilotwatch

ENV PILOTWATCH_INSTANCE=/var/lib/pilotwatch \
    PILOTWATCH_ENV=production \
    WEB_CONCURRENCY=2

EXPOSE 8000

# Liveness of the intake role; the compose file replaces it per service (workers have no web port).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# gunicorn reads the number of workers from WEB_CONCURRENCY.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--no-control-socket", "--access-logfile", "-", \
     "services.intake.wsgi:app"]
