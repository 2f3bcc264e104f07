/**
 * V8 flags pteplay runs with: the `#!` line of cli/pteplay.ts, the npm scripts and the bench's child
 * replay pass them (test/90-e2e-cli.test.ts keeps the three in step). A 4 MB young generation instead
 * of V8's default (up to 32 MB per semi-space): a replay's short-lived objects (decoded chunks, change
 * batches) are collected sooner, so a stored replay of the bench trace peaks ~30 MB lower and runs
 * ~10 % faster (fewer cache misses). It can only be set when the process starts.
 */
export const NODE_FLAGS = ['--max-semi-space-size=4'] as const;
