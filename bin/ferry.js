#!/usr/bin/env node
// The `ferry` command. Sources are TypeScript; tsx compiles them on load, so there is no build step
// between editing and running (and no stale dist/ to debug).
import { register } from 'tsx/esm/api';

register();
await import('../src/control/cli/main.ts');
