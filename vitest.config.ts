import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/harness/temporary-files.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start their own kamailio/baresip/dbus-daemon on picked ports;
    // running files one at a time keeps two shared cores from starving the RTP clocks.
    fileParallelism: false,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
