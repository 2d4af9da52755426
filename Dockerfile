FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv
COPY pyproject.toml README.md ./
COPY app ./app
COPY cache ./cache
COPY migrations ./migrations
COPY loadtests ./loadtests
RUN pip install . && useradd --create-home --uid 10001 lumetrix
USER lumetrix
EXPOSE 8000
CMD ["lumetrix", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
