# One image for every nurture process: `nurture migrate` (one-shot), `nurture worker`, `nurture api`
# (docker-compose.yml and deploy/README.md run them). Runs as an unprivileged user that owns NURTURE_HOME.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 NURTURE_HOME=/var/lib/nurture
WORKDIR /app
COPY pyproject.toml README.md ./
COPY nurture ./nurture
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY definitions ./definitions
RUN pip install --no-cache-dir . \
 && useradd --system --uid 10001 --home-dir /var/lib/nurture --create-home nurture
USER nurture
EXPOSE 8000
CMD ["nurture", "worker"]
