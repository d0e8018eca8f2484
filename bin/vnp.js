#!/usr/bin/env node
// Launcher: registers tsx's loader in-process so `vnp` runs straight from a checkout
// (no build step), with signals delivered to the real process.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
