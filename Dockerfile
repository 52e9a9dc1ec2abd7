# syntax=docker/dockerfile:1

# ---- Front-end assets: bootstrap, bootstrap-icons, fullcalendar from npm ----
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund


# ---- Application --------------------------------------------------------------
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=clinic.settings

# WeasyPrint's native runtime (Pango, HarfBuzz subsetting) and fonts for the PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fonts-dejavu-core \
        fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first (cached until pyproject.toml changes). Only the pinned
# dependencies are installed: the project itself runs from /app (PYTHONPATH),
# because settings locate templates/, static/, locale/ and node_modules/
# relative to the source tree.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY --from=assets /build/node_modules ./node_modules
COPY . .

# Collect (and compress/fingerprint, via whitenoise) the static files into
# var/static. The key only exists for this step; the real one comes from the
# runtime environment. var/media is the only place the app may write.
RUN DEBUG=false SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && mkdir -p var/media \
    && chown app:app var/media

USER app

EXPOSE 8000

CMD ["gunicorn", "clinic.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--workers", "3", "--threads", "4", "--worker-class", "gthread", \
     "--worker-tmp-dir", "/dev/shm", "--timeout", "60", \
     "--access-logfile", "-", "--error-logfile", "-"]
