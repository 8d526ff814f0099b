#!/usr/bin/env -S node --disable-warning=TimeoutNegativeWarning
// Installed entry point. claimtrail's sources are TypeScript that Node >= 22.18 runs directly
// (type stripping); npm puts the Node 24 of our devDependencies first on PATH.
// TimeoutNegativeWarning: kafkajs 2.2.4 arms a timer with a negative delay on Node >= 24
// (tulios/kafkajs#1751); harmless, and silenced so real warnings stand out.
await import('../cli/main.ts');
