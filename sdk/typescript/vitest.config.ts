import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/server.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Test files share two live servers; running them one after the other keeps the 2-core CI quiet.
    fileParallelism: false,
  },
});
