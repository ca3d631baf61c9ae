# organise-bot in a container: `docker compose up` (compose.yaml) runs it beside
# PostgreSQL. Two stages: the wheel is built in the first, and the second holds only
# the locked libraries (hashes checked) and the wheel: no compiler, no dev tools.
# Python 3.11: the oldest the bot supports and what Debian 12 and Raspberry Pi OS
# ship, so the lock's markers are tested here as on a plain server (docs/deploy.md).
ARG PYTHON=3.11-slim-bookworm

FROM python:${PYTHON} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY adapters adapters
COPY storage storage
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:${PYTHON}
# The bot runs as a user of its own, never root; its only writable place is /data
# (the SQLite file when there is no PostgreSQL, and the console's files).
RUN useradd --system --uid 10001 --home-dir /data --create-home --shell /usr/sbin/nologin organise
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-deps /wheels/*.whl && rm -rf /wheels
COPY config.example.toml /etc/organise-bot/config.toml
ENV ORGANISE_CONFIG=/etc/organise-bot/config.toml \
    DATABASE_URL=sqlite+aiosqlite:////data/organise.db \
    HEALTH_PORT=9464 \
    PYTHONUNBUFFERED=1
USER organise
WORKDIR /data
VOLUME ["/data"]
# /healthz on 127.0.0.1:$HEALTH_PORT: the adapters are running and the database answers.
HEALTHCHECK --interval=30s --timeout=15s --start-period=30s --retries=3 \
    CMD ["organise-bot", "health"]
CMD ["organise-bot", "run"]
