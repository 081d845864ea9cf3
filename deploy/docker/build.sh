#!/bin/sh
# The image's build stage (Dockerfile), also run as it is by tests/integration/test_container_image.py.
#   build.sh SOURCE DIST
# writes to DIST the wheels of the workspace built from SOURCE (imgopt, and imgopt-client from
# clients/python/, which imgopt requires at its version) and a wheel of each of their runtime requirements,
# at the versions uv.lock pins, their downloads checked against the lock's hashes. The one requirement
# published only as source (pyvips, pure Python) is built into a wheel here, so the image's install
# step compiles nothing and reaches no index.
set -eu
source=$1
dist=$2
mkdir -p "$dist"
uv build --quiet --all-packages --wheel --out-dir "$dist" --project "$source"
uv export --quiet --project "$source" --locked --no-default-groups --no-emit-workspace --format requirements-txt \
    --output-file "$dist/requirements.txt"
python -m pip wheel --quiet --no-deps --require-hashes --requirement "$dist/requirements.txt" --wheel-dir "$dist"
