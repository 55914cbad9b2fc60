#!/usr/bin/env -S node --v8-pool-size=1
// runlog's command line, run from the TypeScript sources through tsx (no build step).
// The #! line's node flags are src/cli/node-flags.ts's (why: there).
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
