#!/usr/bin/env node
// Installed entry point. claimtrail's sources are TypeScript that Node >= 22.18 runs directly
// (type stripping); npm puts the Node 24 of our devDependencies first on PATH.
await import('../cli/main.ts');
