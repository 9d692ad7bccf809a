#!/usr/bin/env node
// The package's `bin`: npm links a bin only when its file exists at install time, and dist/ is built
// after `npm ci`, so this committed file loads the built entry point.
import '../dist/main.js';
