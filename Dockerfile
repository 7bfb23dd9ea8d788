# One image for the worker and the HTTP service (docker-compose.yml runs both).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY nurture ./nurture
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY definitions ./definitions
RUN pip install --no-cache-dir .
ENV NURTURE_HOME=/var/lib/nurture
CMD ["nurture", "worker"]
