#!/usr/bin/env node
// The `ferry` command. Sources are TypeScript; tsx compiles them on load, so there is no build step
// between editing and running (and no stale dist/ to debug).
import { register } from 'tsx/esm/api';

register();
// V8 tuning must be in place before any hot code is compiled (see the file for why).
await import('../src/dataplane/v8-tuning.ts');
await import('../src/control/cli/main.ts');
