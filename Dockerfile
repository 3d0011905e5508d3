# One image for every Pilotwatch service; the command picks the role (see docker-compose.yml).
#   docker build -t pilotwatch:0.1.0 .
#   docker run --env-file .env -p 8000:8000 pilotwatch:0.1.0               # intake (the default)
#   docker run --env-file .env pilotwatch:0.1.0 celery -A services.notify.worker worker -Q notify
# Without Docker Hub or PyPI (docs/OPERATIONS.md, "Running without Docker Hub"):
#   docker build --build-arg BASE_IMAGE=harbor.example.gov.cn/library/python:3.11-slim \
#                --build-arg PIP_INDEX_URL=https://mirrors.example.gov.cn/pypi/simple -t pilotwatch:0.1.0 .

# Any image with Python 3.11 or newer (`python` and `pip` on PATH) and groupadd/useradd will do.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

# Where pip finds the packages: PyPI, or a mirror or internal index (a build argument only: it is
# not kept in the image's environment). PIP_TRUSTED_HOST names an index served over plain http.
ARG PIP_INDEX_URL=https://pypi.org/simple
ARG PIP_TRUSTED_HOST=

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
# A new top-level package needs only its own COPY line here.
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
