# syntax=docker/dockerfile:1
# imgopt's container image: the wheel built from this tree, and the locked versions of what it needs.
# docs/operations.md, "Deploy", says how to build and run it.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# The build stage: the wheels of imgopt and imgopt-client (clients/python/), and a wheel of each
# requirement at the version uv.lock pins
# (deploy/docker/build.sh).
FROM ${PYTHON_IMAGE} AS build
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /src
COPY pyproject.toml uv.lock README.md hatch_build.py ./
COPY imgopt ./imgopt
COPY clients/python ./clients/python
COPY deploy/docker ./deploy/docker
RUN PIP_NO_CACHE_DIR=1 sh deploy/docker/build.sh /src /dist \
    && cp deploy/docker/install.sh /dist/install.sh

# The image: Python, a virtual environment with those wheels (deploy/docker/install.sh: no index,
# nothing compiled, so no compiler here), and a user of its own. Nothing of the build stage but
# /dist is seen here, and that only while the install step runs: none of it stays in a layer.
FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/imgopt --create-home imgopt
RUN --mount=type=bind,from=build,source=/dist,target=/dist PIP_NO_CACHE_DIR=1 sh /dist/install.sh /opt/imgopt /dist
ENV PATH=/opt/imgopt/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    IMGOPT_DATA_DIR=/var/lib/imgopt
# Numeric, so Kubernetes can check runAsNonRoot against it.
USER 10001:10001
WORKDIR /var/lib/imgopt
EXPOSE 8000
# `serve` and `api` listen on 8000 in the image; `worker` answers no HTTP but IMGOPT_METRICS_PORT's
# /metrics, so compose and Kubernetes give it a probe of its own.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=4)"]
ENTRYPOINT ["imgopt"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
