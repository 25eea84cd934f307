# catbreed's app in a container: docker build -t catbreed . && docker run -p 8501:8501 -v catbreed:/data catbreed
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    CATBREED_HOME=/data \
    TF_CPP_MIN_LOG_LEVEL=2

RUN useradd --create-home --uid 1000 catbreed \
    && mkdir /data && chown catbreed /data
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=catbreed . .
USER catbreed
# Convert the backbone weights now, so the first visitor does not wait for it.
RUN python -m catbreed.warmup

VOLUME /data
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4)"
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
