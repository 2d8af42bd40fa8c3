// `npm run test:image`: builds the container image with podman and runs it (not part of `npm test`).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'image',
    include: ['test/image/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    // The first build makes the Debian and Node.js stand-ins too: about 3.5 min from nothing.
    hookTimeout: 900_000,
  },
});
