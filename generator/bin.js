#!/usr/bin/env node
// The generator ships as TypeScript source: run it through tsx's loader, in this process.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
