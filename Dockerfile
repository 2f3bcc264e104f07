# The pteplay image that deploy/kubernetes/sweep-job.yaml and deploy/slurm/sweep.sbatch run.
#
#   docker build -t registry.example.com/pteplay:0.1.0 .
#   docker run --rm -v "$PWD/work:/data" registry.example.com/pteplay:0.1.0 sweep plan.json --out sweep
#
# Not built here: these machines have no Docker engine and no registry. test/80-deploy-manifests.test.ts
# parses this file instead and checks its stages, the paths the manifests use and the runtime stage's
# file set (it assembles that file set from a local build and runs the CLI from it).
#
# Two stages on the same Debian (bookworm) base, so the native modules compiled in the first one load
# in the second:
# - build: compilers for better-sqlite3 (prebuild-install fetches a prebuilt binary when it can, else
#   node-gyp builds it with python3, make and g++), `npm ci`, `npm run build`, then `npm prune
#   --omit=dev`, which leaves exactly what `npm ci --omit=dev` would install, already built.
#   @duckdb/node-api needs no compiler: its platform package (@duckdb/node-bindings-linux-x64 or
#   -arm64) ships the DuckDB library. msgpackr's optional native extract ships a prebuilt binary too.
# - runtime: node, the pruned node_modules, dist/, schema/ (the run database's SQL, read at run time),
#   package.json (the version) and traces/ (the demo's scenarios and the bench's real traces: < 1 MB).
#   No compiler: `sweep`, `replay`, `export`, `report` and `sql` run no C compiler. Only `verify`
#   builds tools/kreplay with gcc on first use; it is not in the image, so `verify` here exits 69
#   ("gcc is not installed") — run it on the machine whose kernel you want to check, not in a pod.

FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/pteplay
COPY package.json package-lock.json ./
# --ignore-scripts: package.json's `prepare` runs `npm run build` (tsc), and the sources are not copied
# yet (this layer is cached until the lockfile changes). The dependencies' own install scripts are then
# run explicitly by `npm rebuild`, whatever npm's default for install scripts is.
RUN npm ci --ignore-scripts \
 && npm rebuild better-sqlite3 msgpackr-extract
COPY tsconfig.json ./
COPY cli ./cli
COPY src ./src
COPY schema ./schema
COPY traces/scenarios ./traces/scenarios
COPY traces/real ./traces/real
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && node dist/cli/pteplay.js --version

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /opt/pteplay
COPY --from=build /opt/pteplay/package.json ./package.json
COPY --from=build /opt/pteplay/node_modules ./node_modules
COPY --from=build /opt/pteplay/dist ./dist
COPY --from=build /opt/pteplay/schema ./schema
COPY --from=build /opt/pteplay/traces ./traces
# `pteplay` on PATH for `kubectl exec` / `apptainer exec` (the script's #! line passes pteplay's node flags).
RUN ln -s /opt/pteplay/dist/cli/pteplay.js /usr/local/bin/pteplay \
 && mkdir -p /data \
 && chown node:node /data
# The shared output directory: the plan, the traces and the sweep directory live here. Kubernetes mounts
# the PersistentVolumeClaim at /data, Slurm/apptainer binds the shared filesystem; relative paths in
# pteplay's arguments resolve against it.
VOLUME ["/data"]
WORKDIR /data
# The image's own non-root user (uid 1000; the Kubernetes manifests run as it and set fsGroup 1000 so the
# volume is writable).
USER node
# --max-semi-space-size=4: the V8 flags every pteplay entry point runs with (src/node-flags.ts).
ENTRYPOINT ["node", "--max-semi-space-size=4", "/opt/pteplay/dist/cli/pteplay.js"]
CMD ["--help"]
